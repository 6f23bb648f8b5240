//! How `reasoning_effort` (or `reasoning.effort`) reaches a model, and the tuning the Messages
//! API cannot honour.

use serde_json::{Value, json};

use super::TO;
use super::request::{tr, user};
use crate::catalog::Quirks;
use crate::error::ApiError;
use crate::protocol::Native;
use crate::protocol::anthropic::request::translate;

fn ask(to: &Native<'_>, extra: Value) -> Result<Value, ApiError> {
    let mut body = json!({"model": "auto", "messages": [user("hi")]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    translate(body.to_string().as_bytes(), to).map(|b| serde_json::from_slice(&b).unwrap_or_default())
}

/// Claude Opus 4.7 answers `thinking: {"type":"enabled"}` with a 400: it thinks only
/// adaptively, told how hard by `output_config.effort`, and shows its thinking only when asked
/// (`display`; it defaults to omitted: the client asked for `reasoning_content` and got none).
/// The effort is sent whether or not the request thinks: without it the model worked at the
/// API's default, high, on each request of a tool loop and on none/minimal.
#[test]
fn a_model_that_thinks_adaptively_gets_the_effort_not_a_budget() {
    let adaptive = Native { quirks: Quirks { adaptive_thinking: true, ..Quirks::NONE }, ..TO };
    for effort in ["low", "medium", "high"] {
        let v = ask(&adaptive, json!({"reasoning_effort": effort})).unwrap_or_default();
        assert_eq!(v["thinking"], json!({"type": "adaptive", "display": "summarized"}), "{effort}");
        assert_eq!(v["output_config"], json!({"effort": effort}));
        let budgeted = ask(&TO, json!({"reasoning_effort": effort})).unwrap_or_default();
        assert_eq!(budgeted["thinking"]["type"], json!("enabled"));
        assert!(budgeted.get("output_config").is_none());
        // A forced tool takes no thinking; the effort stays.
        let forced = json!({"reasoning_effort": effort, "tool_choice": "required",
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]});
        let v = ask(&adaptive, forced.clone()).unwrap_or_default();
        assert!(v.get("thinking").is_none(), "{v}");
        assert_eq!(v["output_config"], json!({"effort": effort}));
        assert!(ask(&TO, forced).unwrap_or_default().get("output_config").is_none());
    }
    // Past high, an effort only: Opus 4.7 takes xhigh and max; a budgeted model refuses them.
    for past in ["xhigh", "max"] {
        let v = ask(&adaptive, json!({"reasoning_effort": past})).unwrap_or_default();
        assert_eq!(v["thinking"]["type"], json!("adaptive"), "{past}");
        assert_eq!(v["output_config"], json!({"effort": past}));
        let e = ask(&TO, json!({"reasoning_effort": past})).err().map(|e| e.code);
        assert_eq!(e, Some("unsupported_for_provider"), "{past}");
    }
    // Adaptive thinking has no budget: a small cap still thinks while it leaves the answer
    // room beside the least budget.
    let v = ask(&adaptive, json!({"reasoning_effort": "low", "max_tokens": 1_600})).unwrap_or_default();
    assert_eq!((&v["thinking"]["type"], &v["max_tokens"]), (&json!("adaptive"), &json!(1_600)), "{v}");
    let v = ask(&adaptive, json!({"reasoning_effort": "low", "max_tokens": 1_000})).unwrap_or_default();
    assert!(v.get("thinking").is_none(), "{v}");
    for least in ["none", "minimal"] {
        let v = ask(&adaptive, json!({"reasoning_effort": least})).unwrap_or_default();
        assert!(v.get("thinking").is_none(), "{v}");
        assert_eq!(v["output_config"], json!({"effort": "low"}), "{least}");
    }
    for none in [json!({}), json!({"reasoning_effort": null})] {
        let v = ask(&adaptive, none.clone()).unwrap_or_default();
        assert!(v.get("thinking").is_none() && v.get("output_config").is_none(), "{none}");
    }
}

/// `reasoning: {"effort": ...}` counts as a need for reasoning when routing; the translation
/// dropped it, and the model answered without thinking.
#[test]
fn the_reasoning_object_asks_for_thinking_as_reasoning_effort_does() {
    let v = ask(&TO, json!({"reasoning": {"effort": "medium"}})).unwrap_or_default();
    assert_eq!(v["thinking"], json!({"type": "enabled", "budget_tokens": 8_192}));
    let e = ask(&TO, json!({"reasoning": {"effort": "extreme"}})).err().map(|e| e.param);
    assert_eq!(e, Some(Some("reasoning.effort".to_string())));
}

/// A biased token list constrains the answer (a one-token label): it was dropped.
#[test]
fn logit_bias_is_refused_unless_empty() {
    let e = tr(&json!({"model": "auto", "messages": [user("hi")], "logit_bias": {"9642": 100}}));
    assert_eq!(
        e.err().map(|e| (e.code, e.param)),
        Some(("unsupported_for_provider", Some("logit_bias".into())))
    );
    assert!(tr(&json!({"model": "auto", "messages": [user("hi")], "logit_bias": {}})).is_ok());
}

/// Reasoning asked for in a way the translation cannot carry (OpenRouter's `reasoning`
/// members, Anthropic's own `thinking`) was dropped: the client got no thinking with a 200.
/// Refused, naming the member, so a tier moves on; `effort` and a null member still pass.
#[test]
fn reasoning_the_translation_cannot_carry_is_refused() {
    for (extra, param) in [
        (json!({"reasoning": {"max_tokens": 4000}}), "reasoning.max_tokens"),
        (json!({"reasoning": {"enabled": true}}), "reasoning.enabled"),
        (json!({"reasoning": {"effort": "low", "exclude": true}}), "reasoning.exclude"),
        (json!({"thinking": {"type": "enabled", "budget_tokens": 2000}}), "thinking"),
    ] {
        let e = ask(&TO, extra.clone()).err();
        assert_eq!(
            e.map(|e| (e.code, e.param)),
            Some(("unsupported_for_provider", Some(param.into()))),
            "{extra}"
        );
    }
    for fine in [
        json!({"reasoning": {"effort": "low", "summary": "auto", "max_tokens": null}}),
        json!({"thinking": null}),
        json!({"thinking": {"type": "disabled"}}),
        json!({"reasoning": {"effort": "low", "exclude": false, "enabled": false}}),
        // Enabled beside an effort says no more than the effort, as on the chat path.
        json!({"reasoning": {"effort": "low", "enabled": true}}),
    ] {
        assert!(ask(&TO, fine.clone()).is_ok(), "{fine}");
    }
    let v = ask(&TO, json!({"reasoning": {"effort": "low"}})).unwrap_or_default();
    assert_eq!(v["thinking"]["type"], "enabled", "{v}");
}

/// Structured output rides in `output_config` beside the effort, with or without thinking.
#[test]
fn a_json_schema_is_the_format_beside_the_effort() {
    let adaptive = Native { quirks: Quirks { adaptive_thinking: true, ..Quirks::NONE }, ..TO };
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
    let asked = json!({"response_format": {"type": "json_schema", "json_schema": {"name": "p", "strict": true, "schema": schema}}});
    let mut closed = schema.clone();
    closed["additionalProperties"] = json!(false);
    let format = json!({"type": "json_schema", "schema": closed});
    let mut thinking = asked.clone();
    thinking["reasoning_effort"] = json!("high");
    let v = ask(&adaptive, thinking).unwrap_or_default();
    assert_eq!(v["output_config"], json!({"effort": "high", "format": format}), "{v}");
    assert_eq!(v["thinking"]["type"], json!("adaptive"), "{v}");
    let v = ask(&TO, asked).unwrap_or_default();
    assert_eq!(v["output_config"], json!({"format": format}), "{v}");
}

/// Anthropic documents structured output as unable to continue a prefill: refused, so a tier
/// routes on.
#[test]
fn a_prefill_with_a_json_schema_is_refused() {
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}});
    let asked = json!({
        "messages": [user("hi"), {"role": "assistant", "content": "{"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": schema}},
    });
    assert_eq!(ask(&TO, asked).map_err(|e| e.param), Err(Some("response_format".to_string())));
}

/// A client's own thinking budget (`thinking_budget`: a Messages client's `budget_tokens`)
/// reaches a Claude that takes budgets as it asked it: as an effort it was rounded to 2,048,
/// 8,192 or 16,384 (Claude Code's 31,999 cut to 16,384), and 1,024 under a `max_tokens` of
/// 1,500 sent no thinking. An adaptive model is sent the effort, and the member never.
#[test]
fn a_clients_own_thinking_budget_reaches_claude_as_asked() {
    let budget = |extra: Value| {
        ask(&TO, extra).map(|v| (v["thinking"]["budget_tokens"].clone(), v["max_tokens"].clone()))
    };
    for (extra, want) in [
        (
            json!({"reasoning_effort": "high", "thinking_budget": 31_999, "max_tokens": 32_000}),
            (json!(31_999), json!(32_000)),
        ),
        (
            json!({"reasoning_effort": "low", "thinking_budget": 1_024, "max_tokens": 1_500}),
            (json!(1_024), json!(1_500)),
        ),
        (
            json!({"reasoning_effort": "low", "thinking_budget": 3_000, "max_tokens": 4_000}),
            (json!(3_000), json!(4_000)),
        ),
        // Past its `max_tokens`, below it as Anthropic takes it; without one, room is made.
        (
            json!({"reasoning_effort": "low", "thinking_budget": 5_000, "max_tokens": 4_000}),
            (json!(3_999), json!(4_000)),
        ),
        (
            json!({"reasoning_effort": "medium", "thinking_budget": 10_000, "stream": true}),
            (json!(10_000), json!(TO.max_output)),
        ),
        // Without it, the effort's.
        (json!({"reasoning_effort": "low", "max_tokens": 32_000}), (json!(2_048), json!(32_000))),
    ] {
        assert_eq!(budget(extra.clone()).ok(), Some(want), "{extra}");
    }
    let adaptive = Native { quirks: Quirks { adaptive_thinking: true, ..Quirks::NONE }, ..TO };
    let v = ask(&adaptive, json!({"reasoning_effort": "low", "thinking_budget": 3_000})).unwrap_or_default();
    assert_eq!(
        (&v["thinking"]["type"], &v["output_config"]["effort"]),
        (&json!("adaptive"), &json!("low")),
        "{v}"
    );
    assert!(
        v.get("thinking_budget").is_none()
            && ask(&TO, json!({"thinking_budget": 3_000})).is_ok_and(|v| v.get("thinking_budget").is_none())
    );
}
