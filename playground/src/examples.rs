//! Requests to pick from: the golden cases of `testdata/` (compiled in, so the page needs no
//! other file), and a few the router refuses.

use serde_json::{Value, json};

const AUTO_GOLDEN: &str = include_str!("../../testdata/auto/golden.json");
const ROUTING_GOLDEN: &str = include_str!("../../testdata/routing/builtin_catalog.json");

/// Bodies the router refuses, one per kind of mistake.
const REFUSED: [(&str, &str); 3] = [
    ("no messages", r#"{"model":"auto"}"#),
    ("unknown prefer", r#"{"model":"auto","prefer":"cheapest","messages":[{"role":"user","content":"hi"}]}"#),
    ("unknown model", r#"{"model":"gpt-0","messages":[{"role":"user","content":"hi"}]}"#),
];

/// One example: its group (`auto`, `routing`, `refused`), a name, and the body.
pub struct Example {
    /// Where it comes from.
    pub group: &'static str,
    /// What it shows.
    pub name: String,
    /// The request body.
    pub request: String,
}

/// The routing table's request for `model` and `prefer`: a short chat, as the scorer's golden
/// test builds it.
pub fn routing_request(model: &str, prefer: Option<&str>) -> String {
    let extra = prefer.map(|p| format!(r#","prefer":"{p}""#)).unwrap_or_default();
    format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hello"}}]{extra}}}"#)
}

/// Every example, golden cases first.
pub fn all() -> Vec<Example> {
    let cases = |text: &str| -> Vec<Value> {
        let doc: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        doc.get("cases").and_then(Value::as_array).cloned().unwrap_or_default()
    };
    let text = |c: &Value, key: &str| c.get(key).and_then(Value::as_str).map(str::to_string);
    let mut out: Vec<Example> = cases(AUTO_GOLDEN)
        .into_iter()
        .map(|c| Example {
            group: "auto",
            name: text(&c, "name").unwrap_or_default(),
            request: c.get("request").and_then(|r| serde_json::to_string_pretty(r).ok()).unwrap_or_default(),
        })
        .collect();
    out.extend(cases(ROUTING_GOLDEN).into_iter().map(|c| {
        let (model, prefer) = (text(&c, "model").unwrap_or_default(), text(&c, "prefer"));
        let prefer = prefer.as_deref();
        Example {
            group: "routing",
            name: format!("{model}, prefer {}", prefer.unwrap_or("(default)")),
            request: routing_request(&model, prefer),
        }
    }));
    out.extend(REFUSED.iter().map(|(name, body)| Example {
        group: "refused",
        name: name.to_string(),
        request: body.to_string(),
    }));
    out
}

/// [`all`] as JSON for the page.
pub fn json() -> Value {
    Value::Array(
        all().into_iter().map(|e| json!({"group": e.group, "name": e.name, "request": e.request})).collect(),
    )
}
