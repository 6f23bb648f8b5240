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
    case_variant, duplicate_error, first_duplicate, open_object, string_field, syntax, wrong_type,
};
use crate::parse::json::{Kind, Reader};
use crate::parse::layout::Layout;
use crate::parse::options::{read_max_price, read_prefer, read_provider_policy, read_tier};
use crate::protocol::titan::{self, ResponseTranslation};
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
    let mut token_ids = TokenIds::default();
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
            "encoding_format" => match r.peek_kind().map_err(syntax)? {
                Kind::Null => r.null().map_err(syntax)?,
                Kind::String => encoding = Some(string_field(&mut r, "encoding_format")?),
                k => return Err(wrong_type("encoding_format", "float or base64", k)),
            },
            // Checked as chat checks them (a typo is a 400 there), then spliced out: an
            // embedding has one model to run.
            "prefer" => drop(read_prefer(&mut r)?),
            "tier" => drop(read_tier(&mut r)?),
            "input" => {
                let kind = r.peek_kind().map_err(syntax)?;
                if !matches!(kind, Kind::String | Kind::Array) {
                    return Err(ApiError::invalid(
                        "invalid_type",
                        Some("input"),
                        format!("'input' must be a string or an array, got {}", kind.name()),
                    ));
                }
                (empty_input, token_ids) = skip_input(&mut r, kind).map_err(syntax)?;
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
    // An alias names a model, which every provider serving it serves under its alias too.
    let embeddings = &config.catalog.embeddings;
    let id = embeddings
        .iter()
        .find(|e| e.alias.as_deref() == Some(model.as_ref()))
        .map_or(model.as_ref(), |e| &e.id);
    let named: Vec<&EmbeddingModel> = embeddings.iter().filter(|e| e.id == id).collect();
    let matching: Vec<&EmbeddingModel> = named.iter().copied().filter(|e| !e.retired(ctx.now)).collect();
    if matching.is_empty() {
        return Err(not_served(config, &model, named.first().copied(), ctx.now));
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
            let sizes = titan::titan_dimensions(&best.upstream_id);
            if let Some(d) = dimensions.filter(|d| !sizes.contains(d)) {
                let sizes: Vec<String> = sizes.iter().map(u64::to_string).collect();
                return Err(ApiError::invalid(
                    "invalid_value",
                    Some("dimensions"),
                    format!("{} produces {} dimensions, not {d}", echo(&model), sizes.join(" or ")),
                ));
            }
            (
                titan::titan_request(&best.upstream_id, one, dimensions),
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
    // Text at four bytes a token; token ids one each (`[0,0,...]` is two bytes a token).
    let text_bytes = input_bytes.saturating_sub(token_ids.bytes) as u64;
    let tokens = text_bytes.div_ceil(BYTES_PER_TOKEN) + token_ids.count;
    let estimate_usd = tokens as f64 * best.price_in / 1e6;
    Ok(EmbeddingRoute { target: Target { body, to }, translate, estimate_usd })
}

/// The error for a `model` no current embedding model is: `retired` (the model it names, every
/// provider's entry of which has retired; its vectors are another model's to no one), a chat
/// model or routing keyword sent here, or a name the catalog does not know. Each lists the
/// embedding models the request may name now, once each.
fn not_served(config: &Config, model: &str, retired: Option<&EmbeddingModel>, now: u64) -> ApiError {
    let mut names: Vec<&str> = Vec::new();
    for e in config.catalog.embeddings.iter().filter(|e| !e.retired(now)) {
        for name in e.alias.as_deref().into_iter().chain([e.id.as_str()]) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let names = if names.is_empty() {
        "none is served now".to_string()
    } else {
        format!("use one of {}", names.join(", "))
    };
    if let Some(e) = retired {
        return ApiError::invalid(
            "model_retired",
            Some("model"),
            format!(
                "embedding model {} was retired on {} (vectors of another model do not compare with its own: re-embed what you stored with it): {names}",
                echo(model),
                e.retires_text.as_deref().unwrap_or("an earlier date"),
            ),
        );
    }
    if config.catalog.serves(model) || config.model_aliases.resolve(model).is_some() {
        return ApiError::invalid(
            "model_not_routable",
            Some("model"),
            format!(
                "model {} is a chat model: send it to /v1/chat/completions; for embeddings, {names}",
                echo(model)
            ),
        );
    }
    ApiError::invalid(
        "model_not_found",
        Some("model"),
        format!("embedding model {} is not known: {names}", echo(model)),
    )
    .with_status(404)
}

/// The token ids in `input` (`[1,2]`, `[[1,2],[3]]`): how many, and the bytes they and their
/// arrays take in the body.
#[derive(Debug, Default, Clone, Copy)]
struct TokenIds {
    count: u64,
    bytes: usize,
}

/// Skips `input` (a string or an array, checked) in the body's one pass, telling whether it
/// is empty (an empty string, an empty array, or an array holding an empty string or token
/// array: the API refuses these, which a provider would bill nothing and answer in its own
/// shape) and what token ids it holds.
fn skip_input(r: &mut Reader<'_>, kind: Kind) -> Result<(bool, TokenIds), crate::parse::json::JsonError> {
    let mut ids = TokenIds::default();
    if kind == Kind::String {
        return r.skip_string().map(|len| (len == 0, ids));
    }
    let start = r.pos();
    let mut it = r.array()?;
    let mut items = 0;
    let mut empty = false;
    let mut flat = 0;
    while it.next(r)? {
        items += 1;
        match r.peek_kind()? {
            Kind::String => empty |= r.skip_string()? == 0,
            Kind::Array => {
                let at = r.pos();
                let mut inner = r.array()?;
                let mut tokens = 0;
                while inner.next(r)? {
                    tokens += 1;
                    r.skip_value()?;
                }
                empty |= tokens == 0;
                ids.count += tokens;
                ids.bytes += r.pos() - at;
            }
            Kind::Number => {
                flat += 1;
                r.skip_value()?;
            }
            _ => r.skip_value()?,
        }
    }
    if flat > 0 {
        // One array of token ids: the whole of it.
        ids = TokenIds { count: ids.count + flat, bytes: r.pos() - start };
    }
    Ok((empty || items == 0, ids))
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
        // 2027-01-15: after the retirement days the tests set.
        route_embeddings(&c, body.as_bytes(), &Context { now: 1_800_000_000, ..Context::default() })
    }

    /// A configuration with the built-in catalog, `edit` applied to its models.
    fn catalog_with(edit: impl Fn(&mut Vec<serde_json::Value>)) -> Vec<u8> {
        let mut c: serde_json::Value =
            serde_json::from_str(include_str!("../../catalog.json")).unwrap_or_else(|e| panic!("{e}"));
        if let Some(models) = c.get_mut("models").and_then(|m| m.as_array_mut()) {
            edit(models);
        }
        serde_json::json!({ "catalog": c }).to_string().into_bytes()
    }

    fn embedding(id: &str, provider: &str, extra: serde_json::Value) -> serde_json::Value {
        let mut m = serde_json::json!({"id": id, "tier": "embedding", "provider": provider, "context_window": 8191, "price_in": 0.01, "price_out": 0});
        if let (Some(m), Some(extra)) = (m.as_object_mut(), extra.as_object()) {
            m.extend(extra.clone());
        }
        m
    }

    /// A retired embedding model was "not known", and the names the error offered held it
    /// (twice, with two providers): a RAG index cannot follow that advice.
    #[test]
    fn a_retired_embedding_model_is_refused_as_retired_and_not_offered() {
        let cfg = catalog_with(|models| {
            for m in models.iter_mut().filter(|m| m["id"] == "text-embedding-3-large") {
                m["retires"] = "2020-01-01".into();
            }
            models.push(embedding("text-embedding-3-small", "groq", serde_json::json!({})));
        });
        for model in ["embed-large", "text-embedding-3-large"] {
            let e = route(&cfg, &format!(r#"{{"model":"{model}","input":"x"}}"#)).err();
            let e = e.unwrap_or_else(|| panic!("{model} routed"));
            assert_eq!((e.status, e.code), (400, "model_retired"), "{e}");
            let (said, offered) = e.message.split_once("use one of").unwrap_or_else(|| panic!("{e}"));
            assert!(said.contains("2020-01-01"), "{e}");
            assert!(!offered.contains("large"), "{e}");
            assert_eq!(offered.matches("text-embedding-3-small").count(), 1, "{e}");
        }
        let e = route(&cfg, r#"{"model":"embed-huge","input":"x"}"#).err().map(|e| (e.status, e.message));
        assert!(e.as_ref().is_some_and(|(s, m)| *s == 404 && !m.contains("large")), "{e:?}");
    }

    /// With a model on two providers, its alias reached only the provider whose entry carried
    /// it: the id and the alias routed apart, and a policy for the other refused the alias.
    #[test]
    fn an_alias_reaches_every_provider_of_its_model() {
        let cfg = catalog_with(|models| {
            models.push(embedding("text-embedding-3-small", "groq", serde_json::json!({})))
        });
        for body in [
            r#"{"model":"embed-small","input":"x"}"#,
            r#"{"model":"text-embedding-3-small","input":"x"}"#,
            r#"{"model":"embed-small","input":"x","provider":{"only":["groq"]}}"#,
        ] {
            let r = route(&cfg, body).map(|r| r.target.to.provider);
            assert_eq!(r.ok().as_deref(), Some("groq"), "{body}");
        }
        let r = route(&cfg, r#"{"model":"embed-small","input":"x","provider":{"only":["openai"]}}"#);
        assert_eq!(r.ok().map(|r| r.target.to.provider).as_deref(), Some("openai"));
    }

    /// Titan G1 was sent v2's `normalize` (and v2's sizes): it takes `inputText` alone.
    #[test]
    fn titan_g1_gets_its_text_alone() {
        let g1 = serde_json::json!({"api": "bedrock-invoke", "dimensions": 1536, "alias": "embed-titan-g1"});
        let cfg = catalog_with(|models| {
            models.push(embedding("amazon.titan-embed-text-v1", "aws-bedrock-runtime", g1.clone()));
        });
        for dims in ["", r#","dimensions":1536"#] {
            let r = route(&cfg, &format!(r#"{{"model":"embed-titan-g1","input":"x"{dims}}}"#));
            let r = r.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(r.target.to.path, "/model/amazon.titan-embed-text-v1/invoke");
            assert_eq!(String::from_utf8_lossy(&r.target.body), r#"{"inputText":"x"}"#);
        }
        let e = route(&cfg, r#"{"model":"embed-titan-g1","input":"x","dimensions":512}"#).err();
        assert_eq!(e.map(|e| (e.code, e.message.contains("1536"))), Some(("invalid_value", true)));
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

    /// Token ids were estimated at four bytes a token: `[0,0,...]` takes two, and a budget
    /// reserved half their cost.
    #[test]
    fn token_ids_are_estimated_one_token_each() {
        let ids = vec!["0"; 10_000].join(",");
        let price = 0.13 / 1e6;
        for (input, tokens) in [
            (format!("[[{ids}]]"), 10_000.0),
            (format!("[{ids}]"), 10_000.0),
            (format!(r#"[[{ids}],[7,8]]"#), 10_002.0),
            (r#"["abcdefgh",[1,2,3]]"#.to_string(), 5.0),
        ] {
            let body = format!(r#"{{"model":"embed-large","input":{input}}}"#);
            let r = route(b"", &body).map(|r| r.estimate_usd).unwrap_or_else(|e| panic!("{e}"));
            // The array's own brackets and commas count as text: a token or two.
            let got = r / price;
            assert!(got >= tokens - 1e-6 && got <= tokens + 2.5, "{}: {got} against {tokens}", &input[..20]);
        }
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
        let cases: [(&[u8], &str, u16, &str); 20] = [
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
            // Ignored unless a string, and `prefer` and `tier` unchecked.
            (b"", r#"{"model":"embed-titan","input":"x","encoding_format":5}"#, 400, "invalid_type"),
            (b"", r#"{"model":"embed-small","input":"x","prefer":"bogus"}"#, 400, "invalid_prefer"),
            (b"", r#"{"model":"embed-small","input":"x","tier":"nope"}"#, 400, "invalid_tier"),
            // A chat model, or a routing keyword, was "not known".
            (b"", r#"{"model":"claude-sonnet-4-6","input":"x"}"#, 400, "model_not_routable"),
            (b"", r#"{"model":"auto","input":"x"}"#, 400, "model_not_routable"),
            (b"", r#"{"model":"economy","input":"x"}"#, 400, "model_not_routable"),
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
