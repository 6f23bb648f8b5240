//! The last requests one mock received, for `GET /mock/requests`: bounded, and with secrets
//! masked so the list can be shown or logged (the router sets real provider keys upstream).

use std::collections::VecDeque;

use serde_json::{Map, Value, json};

use super::Received;

/// Requests each mock keeps for `GET /mock/requests`.
pub const KEEP: usize = 100;
/// Body bytes kept per recorded request: a recording never holds a whole huge body.
pub const KEEP_BODY_BYTES: usize = 64 * 1024;

/// A mock's most recent requests, oldest first, already masked.
#[derive(Debug, Default)]
pub struct Recent(VecDeque<Value>);

impl Recent {
    /// Records `r`, dropping the oldest past [`KEEP`].
    pub fn push(&mut self, r: &Received) {
        if self.0.len() == KEEP {
            self.0.pop_front();
        }
        self.0.push_back(entry(r));
    }

    /// The list, as JSON.
    pub fn list(&self) -> Value {
        Value::Array(self.0.iter().cloned().collect())
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// One recorded request: body as JSON when it is JSON, else as (lossy, truncated) text.
fn entry(r: &Received) -> Value {
    let mut headers = Map::new();
    for (k, v) in &r.headers {
        let v = mask(k, v);
        // A repeated header keeps every value, comma-joined as HTTP allows.
        let joined = match headers.get(k).and_then(Value::as_str) {
            Some(before) => format!("{before}, {v}"),
            None => v,
        };
        headers.insert(k.clone(), Value::String(joined));
    }
    let kept = r.body.get(..KEEP_BODY_BYTES).unwrap_or(&r.body);
    let body = if kept.len() < r.body.len() {
        json!({"truncated": true, "bytes": r.body.len(), "head": String::from_utf8_lossy(kept)})
    } else {
        serde_json::from_slice(&r.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(kept).into()))
    };
    json!({"method": r.method, "path": r.path, "headers": headers, "body": body})
}

/// Whether a header carries a credential: the known ones, and any name that says so.
pub fn is_secret(name: &str) -> bool {
    const KNOWN: [&str; 6] =
        ["authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie"];
    let name = name.to_ascii_lowercase();
    KNOWN.contains(&name.as_str()) || ["key", "token", "secret"].iter().any(|w| name.contains(w))
}

/// A secret header's value cut to what identifies it: the scheme of `Bearer …` and at most
/// four characters, then `…`; short values show nothing.
pub fn mask(name: &str, value: &str) -> String {
    if !is_secret(name) {
        return value.to_string();
    }
    let (scheme, secret) = match value.split_once(' ') {
        Some((s, rest)) if s.eq_ignore_ascii_case("bearer") || s.eq_ignore_ascii_case("basic") => {
            (format!("{s} "), rest)
        }
        _ => (String::new(), value),
    };
    if secret.chars().count() < 12 {
        return format!("{scheme}***");
    }
    let head: String = secret.chars().take(4).collect();
    format!("{scheme}{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_the_rest_is_kept() {
        for (name, value, want) in [
            ("authorization", "Bearer demo-key-openai", "Bearer demo…"),
            ("x-api-key", "sk-ant-1234567890", "sk-a…"),
            ("x-goog-api-key", "short", "***"),
            ("x-amz-security-token", "AAAAAAAAAAAAAAAAAAAA", "AAAA…"),
            ("x-client-secret", "s3cr3t-s3cr3t-s3cr3t", "s3cr…"),
            ("cookie", "session=abcdefghijklmnop", "sess…"),
            ("content-type", "application/json", "application/json"),
        ] {
            assert_eq!(mask(name, value), want, "{name}");
        }
    }

    #[test]
    fn only_the_last_hundred_are_kept() {
        let mut recent = Recent::default();
        for i in 0..KEEP + 5 {
            let r = Received {
                provider: "p".into(),
                method: "POST".into(),
                path: format!("/{i}"),
                headers: Vec::new(),
                body: b"{}".to_vec(),
            };
            recent.push(&r);
        }
        let list = recent.list();
        assert_eq!(list.as_array().map(Vec::len), Some(KEEP));
        assert_eq!(list[0]["path"], "/5");
    }
}
