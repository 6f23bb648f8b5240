//! `POST /v1/embeddings`: aliases (`embed-small`, ...) and pinned embedding models, under the
//! caller's provider policy. `input` (string or batch) and `dimensions` (checked against the
//! model's vector size) pass through untouched; the router's own fields are spliced out.

use std::borrow::Cow;

use crate::catalog::{EmbeddingModel, Wire};
use crate::config::Config;
use crate::decide::route::Context;
use crate::decide::upstream::{Target, Upstream};
use crate::error::{ApiError, echo};
use crate::parse::chat::{BYTES_PER_TOKEN, ROUTER_FIELDS};
use crate::parse::fields::{
    case_variant, duplicate_error, first_duplicate, open_object, string_field, syntax,
};
use crate::parse::json::{Kind, Reader};
use crate::parse::layout::Layout;
use crate::parse::options::{read_max_price, read_provider_policy};
use crate::protocol::titan::{self, ResponseTranslation, TITAN_DIMENSIONS};
use crate::vocab::Policy;

/// A routed embeddings request.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingRoute {
    /// Where it goes and what it carries.
    pub target: Target,
    /// A response the glue must translate before the client sees it.
    pub translate: Option<ResponseTranslation>,
    /// What its input is expected to cost, USD: a token per
    /// [`BYTES_PER_TOKEN`](crate::parse::chat::BYTES_PER_TOKEN) bytes of `input` as sent, at the
    /// model's input price (what a budget reserves).
    pub estimate_usd: f64,
}

/// Routes an embeddings body.
pub fn route_embeddings(config: &Config, body: &[u8], ctx: &Context<'_>) -> Result<EmbeddingRoute, ApiError> {
    let (src, mut r) = open_object(body)?;
    let mut layout = Layout::default();
    let mut keys: Vec<Cow<'_, str>> = Vec::new();
    let mut model: Option<Cow<'_, str>> = None;
    let mut own_policy: Option<Policy> = None;
    let mut max_price = None;
    let mut input: Option<(Kind, &str)> = None;
    let mut empty_input = false;
    let mut dimensions: Option<u64> = None;
    let mut encoding: Option<Cow<'_, str>> = None;
    let mut obj = r.object().map_err(syntax)?;
    while let Some((start, key)) = obj.next_key_at(&mut r).map_err(syntax)? {
        r.peek();
        let value_start = r.pos();
        match key.as_ref() {
            "model" => {
                model = Some(string_field(&mut r, "model")?);
                layout.model_at(value_start, r.pos());
            }
            "provider" => own_policy = read_provider_policy(&mut r)?,
            "max_price" => max_price = read_max_price(&mut r)?,
            "dimensions" if r.peek_kind().map_err(syntax)? == Kind::Null => r.null().map_err(syntax)?,
            "dimensions" if r.peek_kind().map_err(syntax)? != Kind::Number => {
                let kind = r.peek_kind().map_err(syntax)?;
                return Err(ApiError::invalid(
                    "invalid_type",
                    Some("dimensions"),
                    format!("'dimensions' must be a positive integer, got {}", kind.name()),
                ));
            }
            "dimensions" => {
                let text = r.number().map_err(syntax)?;
                dimensions =
                    Some(crate::parse::json::whole_number(text).filter(|d| *d > 0).ok_or_else(|| {
                        ApiError::invalid(
                            "invalid_value",
                            Some("dimensions"),
                            "'dimensions' must be a positive integer",
                        )
                    })?);
            }
            // Read for Titan, which the router answers for; an OpenAI-compatible provider gets
            // the client's value as it is.
            "encoding_format" if r.peek_kind().map_err(syntax)? == Kind::String => {
                encoding = Some(string_field(&mut r, "encoding_format")?);
            }
            "input" => {
                let kind = r.peek_kind().map_err(syntax)?;
                if !matches!(kind, Kind::String | Kind::Array) {
                    return Err(ApiError::invalid(
                        "invalid_type",
                        Some("input"),
                        format!("'input' must be a string or an array, got {}", kind.name()),
                    ));
                }
                empty_input = skip_input(&mut r, kind).map_err(syntax)?;
                input = src.get(value_start..r.pos()).map(|raw| (kind, raw));
            }
            _ => {
                case_variant(&key)?;
                r.skip_value().map_err(syntax)?;
            }
        }
        // `prefer`, `tier`, `provider`, `max_price` mean nothing to a provider: spliced out.
        layout.member(start, r.pos(), ROUTER_FIELDS.contains(&key.as_ref()));
        keys.push(key);
    }
    r.finish().map_err(syntax)?;
    if let Some(dup) = first_duplicate(&mut keys) {
        return Err(duplicate_error(&dup, ""));
    }
    let Some(model) = model.filter(|m| !m.is_empty()) else {
        return Err(ApiError::invalid(
            "missing_required_parameter",
            Some("model"),
            "'model' is required: use embed-small, embed-large, embed-titan or an embedding model id",
        ));
    };
    let Some(input) = input else {
        return Err(ApiError::invalid("missing_required_parameter", Some("input"), "'input' is required"));
    };
    let input_bytes = input.1.len();
    if empty_input {
        return Err(ApiError::invalid(
            "invalid_value",
            Some("input"),
            "'input' must not be empty: send a non-empty string, or an array of non-empty strings or token arrays",
        ));
    }
    // The request's own provider names are checked as chat's are: a typo is a 400, not a
    // silent pass (`ignore`) or a 403 (`only`).
    let policy = crate::decide::route::request_policy(config, ctx.client, own_policy.as_ref())?;
    let matching: Vec<&EmbeddingModel> = config
        .catalog
        .embeddings
        .iter()
        .filter(|e| e.id == model.as_ref() || e.alias.as_deref() == Some(model.as_ref()))
        .filter(|e| !e.retired(ctx.now))
        .collect();
    if matching.is_empty() {
        let names: Vec<&str> = config
            .catalog
            .embeddings
            .iter()
            .flat_map(|e| e.alias.as_deref().into_iter().chain([e.id.as_str()]))
            .collect();
        return Err(ApiError::invalid(
            "model_not_found",
            Some("model"),
            format!("embedding model {} is not known: use one of {}", echo(&model), names.join(", ")),
        )
        .with_status(404));
    }
    let mut cands: Vec<&EmbeddingModel> =
        matching.iter().copied().filter(|e| e.wire().is_some() && policy.allows(&e.provider)).collect();
    // The client's ceiling on the input price (an embedding writes nothing): it was spliced
    // out unread, and the dearer model answered.
    if let Some(most) = max_price.and_then(|m| m.prompt)
        && !cands.is_empty()
    {
        cands.retain(|e| e.price_in <= most);
        if cands.is_empty() {
            return Err(ApiError::invalid(
                "no_model_within_max_price",
                Some("max_price"),
                format!(
                    "embedding model {} costs more than ${most} per million input tokens: raise max_price or choose another model",
                    echo(&model)
                ),
            ));
        }
    }
    cands.sort_by(|a, b| a.price_in.total_cmp(&b.price_in).then_with(|| a.provider.cmp(&b.provider)));
    let Some(best) = cands.first() else {
        let e = matching.first().map(|e| (e.api, e.provider.as_str()));
        return Err(match e {
            Some((api, _)) if matching.iter().all(|e| e.wire().is_none()) => ApiError::invalid(
                "model_not_routable",
                Some("model"),
                format!(
                    "embedding model {} is served only through the {} API, which this version does not translate",
                    echo(&model),
                    api.as_str()
                ),
            ),
            _ => ApiError::invalid(
                "provider_blocked",
                Some("provider"),
                format!("embedding model {} is served only by providers your policy excludes", echo(&model)),
            )
            .with_status(403),
        });
    };
    if let (Some(asked), Some(size)) = (dimensions, best.dimensions)
        && asked > size
    {
        return Err(ApiError::invalid(
            "invalid_value",
            Some("dimensions"),
            format!(
                "{} produces {size} dimensions at most, not {asked}: ask for {size} or fewer",
                echo(&model)
            ),
        ));
    }
    let provider = config.catalog.provider(&best.provider);
    let base = provider.map_or("/v1", |p| p.base_path.as_str());
    let (body, path, translate) = match best.wire() {
        Some(Wire::TitanEmbed) => {
            let one = titan_input(input)?;
            let base64 = match encoding.as_deref() {
                None | Some("float") => false,
                Some("base64") => true,
                Some(other) => {
                    return Err(ApiError::invalid(
                        "invalid_value",
                        Some("encoding_format"),
                        format!("{} answers float or base64 embeddings, not {}", echo(&model), echo(other)),
                    ));
                }
            };
            if let Some(d) = dimensions.filter(|d| !TITAN_DIMENSIONS.contains(d)) {
                return Err(ApiError::invalid(
                    "invalid_value",
                    Some("dimensions"),
                    format!("{} produces 256, 512 or 1024 dimensions, not {d}", echo(&model)),
                ));
            }
            (
                titan::titan_request(one, dimensions),
                titan::invoke_path(base, &best.upstream_id),
                Some(ResponseTranslation::TitanEmbed { model: best.id.clone(), base64 }),
            )
        }
        _ => (layout.rewrite(body, &best.upstream_id), format!("{base}/embeddings"), None),
    };
    let to = Upstream {
        path,
        context_window: best.context_window,
        price_in: best.price_in,
        ..Upstream::new(config, &best.id, &best.provider, &best.cluster, &best.upstream_id, "")
    };
    let tokens = (input_bytes as u64).div_ceil(BYTES_PER_TOKEN);
    let estimate_usd = tokens as f64 * best.price_in / 1e6;
    Ok(EmbeddingRoute { target: Target { body, to }, translate, estimate_usd })
}

/// Skips `input` (a string or an array, checked) in the body's one pass, telling whether it
/// is empty: an empty string, an empty array, or an array holding an empty string or token
/// array. The API refuses these (a provider would bill nothing and answer in its own shape).
fn skip_input(r: &mut Reader<'_>, kind: Kind) -> Result<bool, crate::parse::json::JsonError> {
    if kind == Kind::String {
        return r.skip_string().map(|len| len == 0);
    }
    let mut it = r.array()?;
    let mut items = 0;
    let mut empty = false;
    while it.next(r)? {
        items += 1;
        match r.peek_kind()? {
            Kind::String => empty |= r.skip_string()? == 0,
            Kind::Array => {
                let mut inner = r.array()?;
                let mut tokens = 0;
                while inner.next(r)? {
                    tokens += 1;
                    r.skip_value()?;
                }
                empty |= tokens == 0;
            }
            _ => r.skip_value()?,
        }
    }
    Ok(empty || items == 0)
}

/// Titan embeds one text per call: a string, or an array holding exactly one string.
fn titan_input(input: (Kind, &str)) -> Result<&str, ApiError> {
    fn one_string(raw: &str) -> Option<&str> {
        let mut r = Reader::new(raw);
        let mut it = r.array().ok()?;
        if !it.next(&mut r).ok()? || r.peek_kind().ok()? != Kind::String {
            return None;
        }
        let start = r.pos();
        r.skip_string().ok()?;
        let end = r.pos();
        (!it.next(&mut r).ok()?).then(|| raw.get(start..end)).flatten()
    }
    match input {
        (Kind::String, raw) => Ok(raw),
        (_, raw) => one_string(raw).ok_or_else(|| {
            ApiError::invalid(
                "invalid_value",
                Some("input"),
                "this embedding model takes one text per request (not several texts, nor token ids): send a string or an array of one string",
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(cfg: &[u8], body: &str) -> Result<EmbeddingRoute, ApiError> {
        let c = Config::from_json(cfg).unwrap_or_else(|e| panic!("{e}"));
        route_embeddings(&c, body.as_bytes(), &Context::default())
    }

    /// What a budget reserves follows the input's size: a batch of long texts is no longer
    /// reserved a nano-dollar.
    #[test]
    fn the_estimate_follows_the_inputs_size_at_the_models_input_price() {
        let text = "word ".repeat(800);
        let body = format!(r#"{{"model":"embed-small","input":["{text}","{text}"]}}"#);
        let r = route(b"", &body).unwrap_or_else(|e| panic!("{e}"));
        let c = Config::from_json(b"").unwrap_or_else(|e| panic!("{e}"));
        let price =
            c.catalog.embeddings.iter().find(|e| e.id == r.target.to.model).map_or(0.0, |e| e.price_in);
        assert!(price > 0.0);
        // 8,007 bytes of input: 2,002 tokens of four bytes.
        let want = 2_002.0 * price / 1e6;
        assert!((r.estimate_usd - want).abs() < 1e-15, "{} against {want}", r.estimate_usd);
        let small = route(b"", r#"{"model":"embed-small","input":"x"}"#).map_or(0.0, |r| r.estimate_usd);
        assert!(small > 0.0 && small * 1000.0 < r.estimate_usd);
    }

    #[test]
    fn aliases_and_ids_reach_their_provider_model() {
        for (model, want) in [
            ("embed-small", "text-embedding-3-small"),
            ("embed-large", "text-embedding-3-large"),
            ("text-embedding-3-small", "text-embedding-3-small"),
        ] {
            let body = format!(
                r#"{{"model":"{model}","input":["a","b"],"dimensions":256,"provider":{{"ignore":["xai"]}}}}"#
            );
            let r = route(b"", &body).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                (r.target.to.provider.as_str(), r.target.to.path.as_str()),
                ("openai", "/v1/embeddings")
            );
            assert_eq!(
                String::from_utf8_lossy(&r.target.body),
                format!(r#"{{"model":"{want}","input":["a","b"],"dimensions":256}}"#)
            );
        }
    }

    /// `max_price` was spliced out unread, and the dearer model answered: it bounds the
    /// input price as on chat, and a bad one is refused as on chat.
    #[test]
    fn max_price_bounds_the_input_price() {
        let body = |max: &str| format!(r#"{{"model":"embed-large","input":"x","max_price":{max}}}"#);
        let e = route(b"", &body(r#"{"prompt":0.05}"#)).err().map(|e| (e.status, e.code));
        assert_eq!(e, Some((400, "no_model_within_max_price")));
        let r = route(b"", &body(r#"{"prompt":1}"#))
            .map(|r| String::from_utf8_lossy(&r.target.body).into_owned());
        assert_eq!(r.ok().as_deref(), Some(r#"{"model":"text-embedding-3-large","input":"x"}"#));
        for bad in [r#""cheap""#, r#"{"prompt":-1}"#] {
            let e = route(b"", &body(bad)).err().map(|e| (e.status, e.param));
            assert!(
                e.as_ref().is_some_and(
                    |(s, p)| *s == 400 && p.as_deref().is_some_and(|p| p.starts_with("max_price"))
                ),
                "{bad}: {e:?}"
            );
        }
    }

    #[test]
    fn titan_is_translated() {
        let r = route(b"", r#"{"model":"embed-titan","input":["hello"],"dimensions":512}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.target.to.provider, "aws-bedrock-runtime");
        assert_eq!(r.target.to.path, "/model/amazon.titan-embed-text-v2%3A0/invoke");
        assert_eq!(
            String::from_utf8_lossy(&r.target.body),
            r#"{"inputText":"hello","dimensions":512,"normalize":true}"#
        );
        // The answer names the catalog model that ran, as chat answers do.
        let model = "amazon.titan-embed-text-v2:0".to_string();
        assert_eq!(r.translate, Some(ResponseTranslation::TitanEmbed { model, base64: false }));
        let e = route(b"", r#"{"model":"embed-titan","input":"x","dimensions":300}"#).err();
        assert_eq!(e.map(|e| e.code), Some("invalid_value"));
        // What the OpenAI SDKs ask by default: the answer is encoded as OpenAI's would be.
        for (format, base64) in [
            (r#""base64""#, Some(true)),
            (r#""float""#, Some(false)),
            ("null", Some(false)),
            (r#""int8""#, None),
        ] {
            let body = format!(r#"{{"model":"embed-titan","input":"x","encoding_format":{format}}}"#);
            let got = route(b"", &body).ok().and_then(|r| r.translate);
            let want = base64.map(|base64| ResponseTranslation::TitanEmbed {
                model: "amazon.titan-embed-text-v2:0".into(),
                base64,
            });
            assert_eq!(got, want, "{format}");
        }
        let e = route(b"", r#"{"model":"embed-titan","input":"x","encoding_format":"int8"}"#).err();
        assert_eq!(e.map(|e| e.param), Some(Some("encoding_format".to_string())));
        // Another provider gets the client's value as it is.
        let r = route(b"", r#"{"model":"embed-small","input":"x","encoding_format":"int8"}"#);
        let body = r.map(|r| String::from_utf8_lossy(&r.target.body).into_owned()).unwrap_or_default();
        assert!(body.contains(r#""encoding_format":"int8""#), "{body}");
    }

    /// Issue 15: `prefer` (and the other router fields) reached the provider.
    #[test]
    fn router_fields_are_spliced_out() {
        let body = r#"{"prefer":"cheap", "model":"embed-small","tier":"economy","input":"a" ,"max_price":{"prompt":1},"user":"u"}"#;
        let r = route(b"", body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            String::from_utf8_lossy(&r.target.body),
            r#"{"model":"text-embedding-3-small","input":"a","user":"u"}"#
        );
    }

    /// Issue 15: `dimensions` was checked for Titan only; whole-number floats were refused.
    #[test]
    fn dimensions_are_checked_against_the_vector_size() {
        for (model, ok, too_many) in
            [("embed-small", 1536, 1537), ("embed-large", 3072, 4000), ("embed-titan", 1024, 2048)]
        {
            let body = |d: &str| format!(r#"{{"model":"{model}","input":"x","dimensions":{d}}}"#);
            assert!(route(b"", &body(&ok.to_string())).is_ok(), "{model} {ok}");
            let e = route(b"", &body(&too_many.to_string())).err();
            let e = e.unwrap_or_else(|| panic!("{model} {too_many} routed"));
            assert_eq!(
                (e.status, e.code, e.param.as_deref()),
                (400, "invalid_value", Some("dimensions")),
                "{e}"
            );
            assert!(e.message.contains(&format!("{too_many}")), "{e}");
        }
        let r = route(b"", r#"{"model":"embed-small","input":"x","dimensions":1297.0}"#);
        assert!(r.is_ok_and(|r| String::from_utf8_lossy(&r.target.body).contains("1297.0")));
        let r = route(b"", r#"{"model":"embed-titan","input":"x","dimensions":5.12e2}"#);
        assert!(r.is_ok_and(|r| String::from_utf8_lossy(&r.target.body).contains(r#""dimensions":512,"#)));
        for bad in ["0", "12.5", "-1"] {
            let e = route(b"", &format!(r#"{{"model":"embed-small","input":"x","dimensions":{bad}}}"#)).err();
            assert_eq!(e.map(|e| e.code), Some("invalid_value"), "{bad}");
        }
    }

    #[test]
    fn embedding_errors() {
        let cases: [(&[u8], &str, u16, &str); 14] = [
            (b"", r#"{"model":"embed-huge","input":"x"}"#, 404, "model_not_found"),
            (b"", r#"{"model":"embed-small"}"#, 400, "missing_required_parameter"),
            (b"", r#"{"model":"embed-small","input":5}"#, 400, "invalid_type"),
            (b"", r#"{"model":"embed-titan","input":""}"#, 400, "invalid_value"),
            (b"", r#"{"model":"embed-small","input":[]}"#, 400, "invalid_value"),
            (b"", r#"{"model":"embed-small","input":["a", ""]}"#, 400, "invalid_value"),
            (b"", r#"{"model":"embed-small","input":[[1,2],[ ]]}"#, 400, "invalid_value"),
            (b"", r#"{"model":"embed-titan","input":["a","b"]}"#, 400, "invalid_value"),
            (
                br#"{"blocked_providers":["openai"]}"#,
                r#"{"model":"embed-small","input":"x"}"#,
                403,
                "provider_blocked",
            ),
            (b"", r#"{"model":"embed-small","input":"x","input":"y"}"#, 400, "duplicate_key"),
            (
                b"",
                r#"{"model":"embed-small","input":"x","MODEL":"text-embedding-3-large"}"#,
                400,
                "unknown_parameter",
            ),
            (b"", r#"{"model":"embed-small","input":"x","dimensions":"256"}"#, 400, "invalid_type"),
            // The request's own provider names are checked, as chat's are.
            (
                b"",
                r#"{"model":"embed-small","input":"x","provider":{"ignore":["OpenAI"]}}"#,
                400,
                "unknown_provider",
            ),
            (
                b"",
                r#"{"model":"embed-small","input":"x","provider":{"only":["opnai"]}}"#,
                400,
                "unknown_provider",
            ),
        ];
        for (cfg, body, status, code) in cases {
            let e = route(cfg, body).err();
            assert_eq!(e.map(|e| (e.status, e.code)), Some((status, code)), "{body}");
        }
    }
}
