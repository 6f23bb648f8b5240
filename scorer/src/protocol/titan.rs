//! Translation between what the client sent (OpenAI shapes) and what a provider speaks, on the
//! way in and on the way out. The seam every non-OpenAI API plugs into; today: Bedrock
//! InvokeModel for Titan text embeddings.

use serde::Deserialize;
use serde_json::json;

use crate::parse::base64;

/// A response the glue must rewrite before the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseTranslation {
    /// Titan's `{"embedding", "inputTextTokenCount"}` to an OpenAI embeddings list.
    TitanEmbed {
        /// The catalog id of the model that ran (`amazon.titan-embed-text-v2:0`), reported as
        /// chat answers report theirs, whatever alias the client sent.
        model: String,
        /// The client asked `encoding_format: "base64"` (the OpenAI SDKs do by default): each
        /// embedding as the base64 of its little-endian 32-bit floats, as OpenAI sends it.
        base64: bool,
    },
}

/// Dimensions Titan Text Embeddings v2 produces.
const V2_DIMENSIONS: [u64; 3] = [256, 512, 1024];

/// Titan Text Embeddings G1 (`amazon.titan-embed-text-v1`) takes `inputText` alone and
/// answers one 1,536-dimension vector; v2 (`-v2:0`) also takes `dimensions` and `normalize`.
fn is_g1(upstream_id: &str) -> bool {
    upstream_id.starts_with("amazon.titan-embed-text-v1")
}

/// The `dimensions` a Titan model answers with.
pub fn titan_dimensions(upstream_id: &str) -> &'static [u64] {
    if is_g1(upstream_id) { &[1536] } else { &V2_DIMENSIONS }
}

/// The InvokeModel body for one input (`input_json` is a JSON string literal, as received) to
/// the Titan model `upstream_id`; `dimensions` one of [`titan_dimensions`].
pub fn titan_request(upstream_id: &str, input_json: &str, dimensions: Option<u64>) -> Vec<u8> {
    if is_g1(upstream_id) {
        // G1's only size; it takes no other member.
        return format!(r#"{{"inputText":{input_json}}}"#).into_bytes();
    }
    let dims = dimensions.map(|d| format!(r#","dimensions":{d}"#)).unwrap_or_default();
    format!(r#"{{"inputText":{input_json}{dims},"normalize":true}}"#).into_bytes()
}

/// The InvokeModel path for a model id: `/model/{id}/invoke`, with the id percent-encoded.
pub fn invoke_path(base: &str, model_id: &str) -> String {
    model_path(base, model_id, "invoke")
}

/// A bedrock-runtime path, `{base}/model/{id}/{op}`, with every byte of the id outside
/// `A-Za-z0-9-_.~` percent-encoded (`:` in `...-v1:0` becomes `%3A`), as Bedrock's model ids
/// travel in paths (and SigV4 signs them).
pub fn model_path(base: &str, model_id: &str, op: &str) -> String {
    let mut id = String::with_capacity(model_id.len() + 8);
    for b in model_id.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            id.push(b as char);
        } else {
            id.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{base}/model/{id}/{op}")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TitanResponse {
    embedding: Vec<f64>,
    input_text_token_count: Option<u64>,
}

/// Rewrites a provider's successful response body into the OpenAI shape.
pub fn response(t: &ResponseTranslation, body: &[u8]) -> Result<Vec<u8>, String> {
    match t {
        ResponseTranslation::TitanEmbed { model, base64 } => {
            let r: TitanResponse =
                serde_json::from_slice(body).map_err(|e| format!("unexpected Titan response: {e}"))?;
            let embedding = if *base64 {
                let bytes: Vec<u8> = r.embedding.iter().flat_map(|x| (*x as f32).to_le_bytes()).collect();
                json!(base64::encode(&bytes))
            } else {
                json!(r.embedding)
            };
            let mut out = json!({
                "object": "list",
                "data": [{"object": "embedding", "index": 0, "embedding": embedding}],
                "model": model,
            });
            // No count, no usage: the request is then charged its estimate, not nothing.
            if let (Some(n), Some(o)) = (r.input_text_token_count, out.as_object_mut()) {
                o.insert("usage".into(), json!({"prompt_tokens": n, "total_tokens": n}));
            }
            Ok(out.to_string().into_bytes())
        }
    }
}

/// A translated provider's error (its own shape: Bedrock's `{"message"}`) in the OpenAI
/// error shape, its message kept (bounded), so clients see one error shape whatever ran.
pub fn error_response(status: u16, body: &[u8]) -> Vec<u8> {
    // Titan is Bedrock: its errors have Bedrock's shape, read where Converse's are.
    super::bedrock::response::error(status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titan_round_trip() {
        let req = titan_request("amazon.titan-embed-text-v2:0", r#""hello \"x\"""#, Some(256));
        assert_eq!(
            String::from_utf8_lossy(&req),
            r#"{"inputText":"hello \"x\"","dimensions":256,"normalize":true}"#
        );
        // G1 takes the text alone.
        let g1 = titan_request("amazon.titan-embed-text-v1", r#""hi""#, Some(1536));
        assert_eq!(String::from_utf8_lossy(&g1), r#"{"inputText":"hi"}"#);
        assert_eq!(titan_dimensions("amazon.titan-embed-text-v1"), [1536]);
        assert_eq!(titan_dimensions("amazon.titan-embed-text-v2:0"), [256, 512, 1024]);
        assert_eq!(
            invoke_path("", "amazon.titan-embed-text-v2:0"),
            "/model/amazon.titan-embed-text-v2%3A0/invoke"
        );
        let t =
            ResponseTranslation::TitanEmbed { model: "amazon.titan-embed-text-v2:0".into(), base64: false };
        let out = response(&t, br#"{"embedding":[0.5,-0.25],"inputTextTokenCount":3}"#).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
        assert_eq!(v["data"][0]["embedding"], json!([0.5, -0.25]));
        assert_eq!(
            (v["model"].as_str(), v["usage"]["prompt_tokens"].as_u64(), v["usage"]["total_tokens"].as_u64()),
            (Some("amazon.titan-embed-text-v2:0"), Some(3), Some(3))
        );
        // What the glue prices an answer with reads the translated body.
        let u = crate::account::usage::of_response(&out).unwrap_or_else(|| panic!("no usage in {v}"));
        assert_eq!((u.input, u.output), (3, 0));
        assert!(response(&t, b"{}").is_err());
        // An answer without its count shows no usage (the glue then charges the estimate), not
        // a usage of nothing.
        let out = response(&t, br#"{"embedding":[0.5]}"#).unwrap_or_default();
        assert_eq!(crate::account::usage::of_response(&out), None, "{}", String::from_utf8_lossy(&out));
    }

    #[test]
    fn base64_embeddings_are_the_little_endian_floats_openai_sends() {
        let t = ResponseTranslation::TitanEmbed { model: "m".into(), base64: true };
        let out = response(&t, br#"{"embedding":[1.0,-2.0],"inputTextTokenCount":1}"#).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
        // 1.0f32 = 00 00 80 3F, -2.0f32 = 00 00 00 C0.
        assert_eq!(v["data"][0]["embedding"], json!("AACAPwAAAMA="));
    }

    #[test]
    fn a_bedrock_error_becomes_an_openai_error_with_its_message() {
        let out = error_response(
            400,
            br#"{"message":"Malformed input request: #/inputText: expected minLength: 1"}"#,
        );
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("expected minLength: 1")), "{v}");
        let v: serde_json::Value =
            serde_json::from_slice(&error_response(404, b"not json")).unwrap_or_default();
        assert_eq!(v["error"]["code"], "provider_rejected_request");
    }
}
