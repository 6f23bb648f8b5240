//! Errors returned to API clients, in the OpenAI error shape.

use serde::Serialize;

/// An error the router answers itself, rendered as
/// `{"error":{"message","type","param","code"}}` with an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status of the local reply.
    pub status: u16,
    /// Human-readable: what was wrong and what is valid.
    pub message: String,
    /// OpenAI error type, e.g. `invalid_request_error`.
    pub kind: &'static str,
    /// The request field at fault (`messages[2].content`), when there is one.
    pub param: Option<String>,
    /// A stable machine-readable code.
    pub code: &'static str,
    /// For a 405: the methods the path takes, the value of the reply's `Allow` header.
    pub allow: Option<&'static str>,
    /// Seconds the client should wait before it asks again (`retry-after`), when the router
    /// knows when it can be answered.
    pub retry_after: Option<u32>,
}

/// Client input is longer than this in an error message is cut, so a hostile value cannot
/// inflate the reply.
const MAX_ECHO: usize = 64;

impl ApiError {
    /// A 400 `invalid_request_error`.
    pub fn invalid(code: &'static str, param: Option<&str>, message: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            message: message.into(),
            kind: "invalid_request_error",
            param: param.map(str::to_string),
            code,
            allow: None,
            retry_after: None,
        }
    }

    /// A `server_error`: the router, not the request, is at fault.
    pub fn server(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            kind: "server_error",
            param: None,
            code,
            allow: None,
            retry_after: None,
        }
    }

    /// A 429 `rate_limit_exceeded` of type `rate_limit_error`, as OpenAI answers rate limits
    /// (the SDKs raise `RateLimitError` on it).
    pub fn rate_limited(message: impl Into<String>) -> Self {
        ApiError { kind: "rate_limit_error", ..ApiError::server(429, "rate_limit_exceeded", message) }
    }

    /// The same error, to be asked again in `secs` seconds.
    pub fn with_retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// The same error with another status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// A 405 `method_not_allowed` on `route` (the router's path, not the client's), which takes
    /// only `allow` (the `Allow` header).
    pub fn method_not_allowed(method: &str, route: &str, allow: &'static str) -> Self {
        ApiError {
            allow: Some(allow),
            ..ApiError::invalid(
                "method_not_allowed",
                None,
                format!("method {} is not allowed on {route}: use {allow}", echo(method)),
            )
            .with_status(405)
        }
    }

    /// The JSON body of the reply.
    pub fn body(&self) -> String {
        #[derive(Serialize)]
        struct Inner<'a> {
            message: &'a str,
            #[serde(rename = "type")]
            kind: &'a str,
            param: Option<&'a str>,
            code: &'a str,
        }
        #[derive(Serialize)]
        struct Outer<'a> {
            error: Inner<'a>,
        }
        let outer = Outer {
            error: Inner {
                message: &self.message,
                kind: self.kind,
                param: self.param.as_deref(),
                code: self.code,
            },
        };
        // Serialising plain strings cannot fail; keep a valid body even if it somehow did.
        serde_json::to_string(&outer).unwrap_or_else(|_| {
            r#"{"error":{"message":"internal error","type":"server_error","param":null,"code":"internal"}}"#
                .to_string()
        })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

/// Quotes client input for an error message, cut to a bounded length.
pub fn echo(s: &str) -> String {
    let mut cut: String = s.chars().take(MAX_ECHO).collect();
    if cut.len() < s.len() {
        cut.push('…');
    }
    format!("'{cut}'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_openai_shape() {
        let e = ApiError::invalid("invalid_prefer", Some("prefer"), "bad \"prefer\"");
        let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap_or_default();
        assert_eq!(v["error"]["message"], "bad \"prefer\"");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["param"], "prefer");
        assert_eq!(v["error"]["code"], "invalid_prefer");
        let e = ApiError::invalid("x", None, "m");
        let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap_or_default();
        assert!(v["error"]["param"].is_null());
    }

    #[test]
    fn method_not_allowed_names_the_allowed_method() {
        let e = ApiError::method_not_allowed("PUT", "/v1/models", "GET");
        assert_eq!((e.status, e.code, e.allow), (405, "method_not_allowed", Some("GET")));
        assert_eq!(ApiError::invalid("x", None, "m").allow, None);
    }

    #[test]
    fn echo_is_bounded() {
        assert_eq!(echo("abc"), "'abc'");
        let long = "x".repeat(1000);
        assert_eq!(echo(&long).chars().count(), MAX_ECHO + 3);
    }
}
