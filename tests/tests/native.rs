//! Native provider protocols through the real Envoy (issue 17): every current model answers,
//! whole and streamed; failover crosses protocols; Envoy's SigV4 signing filter signs the
//! translated body Bedrock receives.

use model_router_scorer::catalog::Api;
use model_router_tests::catalog::live_model;
use model_router_tests::envoy::{Stack, StackOptions};
use model_router_tests::http::{self, Response};
use model_router_tests::mock::validate::responses::ENCRYPTED_REASONING;
use serde_json::{Value, json};

const CHAT: &str = "/v1/chat/completions";

fn start(opts: &StackOptions<'_>) -> Stack {
    Stack::start_with(opts).unwrap_or_else(|e| panic!("cannot start the stack: {e}"))
}

fn chat(s: &Stack, body: &str) -> Response {
    http::post_json(s.envoy.addr, CHAT, body).unwrap_or_else(|e| panic!("request failed: {e}"))
}

/// The `data:` payloads of an SSE body, `[DONE]` included.
fn events(r: &Response) -> Vec<String> {
    r.text().lines().filter_map(|l| l.strip_prefix("data: ")).map(str::to_string).collect()
}

/// The text a streamed answer carries, and its usage.
fn streamed(r: &Response) -> (String, Option<Value>) {
    let mut text = String::new();
    let mut usage = None;
    for e in events(r) {
        let v: Value = serde_json::from_str(&e).unwrap_or(Value::Null);
        if let Some(t) = v["choices"][0]["delta"]["content"].as_str() {
            text.push_str(t);
        }
        if v["usage"].is_object() {
            usage = Some(v["usage"].clone());
        }
    }
    (text, usage)
}

/// Every model `/v1/models` offers today answers through its own protocol, whole and streamed,
/// and an agent's turn after tool results; `/v1/models` offers every chat model of the catalog
/// that has not retired.
#[test]
fn every_current_model_answers_whole_and_streamed() {
    let s = start(&StackOptions::default());
    let list = http::request(s.envoy.addr, "GET", "/v1/models", &[], b"").unwrap_or_else(|e| panic!("{e}"));
    let listed: Vec<String> = list.json()["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["kind"] == "chat")
        .filter_map(|m| m["id"].as_str().map(str::to_string))
        .collect();
    let catalog = model_router_scorer::Config::from_json(b"").unwrap_or_else(|e| panic!("{e}")).catalog;
    let today = model_router_tests::catalog::now();
    for d in catalog.deployments.iter().filter(|d| !d.retired(today)) {
        assert!(listed.contains(&d.id), "{} ({}) is not listed", d.id, d.api.as_str());
    }
    assert!(listed.len() >= 30, "{listed:?}");
    for model in &listed {
        let r =
            chat(&s, &format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hello"}}]}}"#));
        assert_eq!(r.status, 200, "{model}: {}", r.text());
        let provider = r.header("x-model-router-provider").unwrap_or_default().to_string();
        let v = r.json();
        assert_eq!(v["choices"][0]["message"]["content"], format!("mock reply from {provider}"), "{model}");
        assert_eq!(v["object"], "chat.completion", "{model}");
        // Translated answers name the catalog id; OpenAI-compatible ones pass through as the
        // provider wrote them, with its own id for the model.
        let named = v["model"].as_str().unwrap_or_default();
        let upstream = catalog.deployments.iter().any(|d| d.id == *model && d.upstream_id == named);
        assert!(named == model || upstream, "{model} answered as {named}");
        assert!(r.header("x-model-router-cost").is_some_and(|c| c.parse::<f64>().is_ok()), "{model}");

        // An agent's turn: a tool call, its result, an empty result (a command with no output),
        // and the user's next message after them.
        let body = format!(
            r#"{{"model":"{model}","messages":[{{"role":"user","content":"list and check"}},{{"role":"assistant","content":null,"tool_calls":[{{"id":"c1","type":"function","function":{{"name":"ls","arguments":"{{}}"}}}},{{"id":"c2","type":"function","function":{{"name":"check","arguments":"{{}}"}}}}]}},{{"role":"tool","tool_call_id":"c1","content":"a.txt"}},{{"role":"tool","tool_call_id":"c2","content":""}},{{"role":"user","content":"and now?"}}],"tools":[{{"type":"function","function":{{"name":"ls"}}}},{{"type":"function","function":{{"name":"check"}}}}]}}"#
        );
        let r = chat(&s, &body);
        let tools = catalog.deployments.iter().any(|d| d.id == *model && d.tools);
        if tools {
            assert_eq!(r.status, 200, "{model} after tool results: {}", r.text());
        } else {
            assert_eq!(r.status, 400, "{model} takes no tools: {}", r.text());
        }

        let body = format!(
            r#"{{"model":"{model}","stream":true,"stream_options":{{"include_usage":true}},"messages":[{{"role":"user","content":"hello"}}]}}"#
        );
        let r = chat(&s, &body);
        assert_eq!(r.status, 200, "{model} streamed: {}", r.text());
        assert!(r.header("content-type").is_some_and(|c| c.starts_with("text/event-stream")), "{model}");
        let (text, usage) = streamed(&r);
        assert_eq!(text, format!("mock reply from {provider}"), "{model} streamed");
        let usage = usage.unwrap_or_else(|| panic!("{model}: no usage chunk in {}", r.text()));
        assert!(usage["cost"].is_string() || usage["cost"].is_number(), "{model}: {usage}");
        assert_eq!(events(&r).last().map(String::as_str), Some("[DONE]"), "{model}");
    }
}

/// A catalog of three economy models on the demo's mocks, one per protocol; prices and
/// quality order them under `cheap` and `quality`.
const THREE_PROTOCOLS: &str = r#"{"resilience":{"max_attempts":3},"catalog":{
  "providers":{
    "aws-bedrock-runtime":{"base_path":"","auth":{"header":"authorization","prefix":"Bearer ","env":"AWS_BEARER_TOKEN_BEDROCK"}},
    "anthropic":{},
    "openai":{"auth":{"header":"authorization","prefix":"Bearer ","env":"OPENAI_API_KEY"}}},
  "models":[
    {"id":"nemo","upstream_id":"nvidia.nemotron-nano-9b-v2","tier":"economy","provider":"aws-bedrock-runtime","api":"bedrock-converse","context_window":100000,"max_output":1000,"price_in":0.1,"price_out":0.1,"quality":80},
    {"id":"haiku","upstream_id":"claude-haiku-4-5","tier":"economy","provider":"anthropic","api":"messages","context_window":100000,"max_output":1000,"price_in":1,"price_out":1,"quality":70},
    {"id":"mini","upstream_id":"gpt-4.1-mini","tier":"economy","provider":"openai","api":"chat","context_window":100000,"max_output":1000,"price_in":2,"price_out":2,"quality":90},
    {"id":"s","tier":"standard","provider":"openai","context_window":1000,"max_output":100,"price_in":1,"price_out":1,"quality":50},
    {"id":"x","tier":"premium","provider":"openai","context_window":1000,"max_output":100,"price_in":1,"price_out":1,"quality":50}]}}"#;

/// Failover from one protocol to another, whole and streamed: each fallback is translated from
/// the client's own body, and the answer is in the OpenAI shape whichever protocol gave it.
#[test]
fn failover_crosses_protocols_streamed_and_not() {
    let s = start(&StackOptions { plugin_config: Some(THREE_PROTOCOLS), ..StackOptions::default() });
    // (prefer, providers made to fail, who answers, the failed attempts it names)
    let cases = [
        ("cheap", &["aws-bedrock-runtime"][..], "anthropic", "aws-bedrock-runtime/nemo"),
        (
            "cheap",
            &["aws-bedrock-runtime", "anthropic"][..],
            "openai",
            "aws-bedrock-runtime/nemo, anthropic/haiku",
        ),
        ("quality", &["openai"][..], "aws-bedrock-runtime", "openai/mini"),
    ];
    for (prefer, failing, answers, from) in cases {
        for stream in [false, true] {
            for p in failing {
                s.fault(p, Some(r#"{"status":503}"#)).unwrap_or_else(|e| panic!("{e}"));
            }
            let options =
                if stream { r#","stream":true,"stream_options":{"include_usage":true}"# } else { "" };
            let body = format!(
                r#"{{"model":"economy","prefer":"{prefer}"{options},"messages":[{{"role":"user","content":"hello"}}]}}"#
            );
            let r = chat(&s, &body);
            let case = format!("{prefer} failing {failing:?} stream {stream}");
            assert_eq!(r.status, 200, "{case}: {}", r.text());
            assert_eq!(r.header("x-model-router-provider"), Some(answers), "{case}");
            assert_eq!(r.header("x-model-router-fallback-from"), Some(from), "{case}");
            let want = format!("mock reply from {answers}");
            if stream {
                let (text, usage) = streamed(&r);
                assert_eq!(text, want, "{case}: {}", r.text());
                assert!(usage.is_some_and(|u| u["cost"].is_string() || u["cost"].is_number()), "{case}");
            } else {
                assert_eq!(r.json()["choices"][0]["message"]["content"], want, "{case}: {}", r.text());
                assert!(r.header("x-model-router-cost").is_some(), "{case}");
            }
            // What each provider received is its own protocol, built from the client's body.
            for got in s.take_received() {
                let v = got.json();
                match got.provider.as_str() {
                    "aws-bedrock-runtime" => {
                        assert!(
                            got.path.starts_with("/model/nvidia.nemotron-nano-9b-v2/converse"),
                            "{}",
                            got.path
                        );
                        assert!(
                            v.get("model").is_none() && v["messages"][0]["content"][0]["text"] == "hello",
                            "{v}"
                        );
                    }
                    "anthropic" => {
                        assert_eq!(
                            (got.path.as_str(), v["model"].as_str()),
                            ("/v1/messages", Some("claude-haiku-4-5"))
                        );
                        assert!(v["max_tokens"].is_u64() && got.header("anthropic-version").is_some(), "{v}");
                    }
                    _ => assert_eq!(
                        (got.path.as_str(), v["model"].as_str()),
                        ("/v1/chat/completions", Some("gpt-4.1-mini"))
                    ),
                }
                assert!(v.get("prefer").is_none(), "{v}");
            }
            for p in failing {
                s.fault(p, None).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
}

/// The demo's bedrock-runtime cluster with Envoy's own SigV4 signing as an upstream filter,
/// as envoy/providers.yaml ships it (inline test credentials here).
const SIGNED: (&str, &str) = (
    "  - name: aws-bedrock-runtime\n    connect_timeout: 2s\n    type: STATIC\n",
    r#"  - name: aws-bedrock-runtime
    connect_timeout: 2s
    type: STATIC
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http_protocol_options: {}}
        http_filters:
        - name: envoy.filters.http.aws_request_signing
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning
            service_name: bedrock
            region: us-east-1
            use_unsigned_payload: false
            credential_provider:
              inline_credential:
                access_key_id: AKIDEXAMPLE
                secret_access_key: wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
        - name: envoy.filters.http.upstream_codec
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec
"#,
);

/// SigV4 by Envoy: the signature covers the translated body (the mock recomputes the payload
/// hash from what it received and refuses a mismatch with Bedrock's 403), the model id's `:`
/// travels percent-encoded, streamed and not.
#[test]
fn envoy_signs_the_translated_body_bedrock_receives() {
    let s = start(&StackOptions { swaps: &[SIGNED], ..StackOptions::default() });
    for stream in [false, true] {
        let options = if stream { r#","stream":true"# } else { "" };
        let body = format!(
            r#"{{"model":"us.meta.llama4-scout-17b-instruct-v1:0"{options},"messages":[{{"role":"user","content":"hello"}}]}}"#
        );
        let r = chat(&s, &body);
        assert_eq!(r.status, 200, "stream {stream}: {}", r.text());
        let got = s.take_received();
        let [one] = &got[..] else { panic!("{} requests", got.len()) };
        let suffix = if stream { "converse-stream" } else { "converse" };
        assert_eq!(one.path, format!("/model/us.meta.llama4-scout-17b-instruct-v1%3A0/{suffix}"));
        let auth = one.header("authorization").unwrap_or_default();
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), "{auth}");
        assert!(auth.contains("/us-east-1/bedrock/aws4_request"), "{auth}");
        let hash = one.header("x-amz-content-sha256").unwrap_or_default();
        assert!(hash.len() == 64 && hash != "UNSIGNED-PAYLOAD", "{hash}");
        assert!(one.json()["messages"].is_array() && one.json().get("model").is_none());
    }
}

/// Prompt caching, the main reason to use Anthropic's own API: `cache_control` reaches it,
/// and the cache reads and writes it reports are priced at Anthropic's rates (0.1 and 1.25
/// times the input price), not as plain input.
#[test]
fn anthropic_cache_tokens_reach_the_client_and_are_priced_at_their_rates() {
    let s = start(&StackOptions::default());
    let body = r#"{"model":"claude-sonnet-4-6","messages":[{"role":"system","content":[{"type":"text","text":"You are terse.","cache_control":{"type":"ephemeral"}}]},{"role":"user","content":"hello"}]}"#;
    // Five-minute writes at 1.25 times the input price, then one-hour ones at 2 (whole and
    // streamed).
    cache_priced(&s, body, 1.25, false);
    let hour = body.replace(r#""type":"ephemeral""#, r#""type":"ephemeral","ttl":"1h""#);
    cache_priced(&s, &hour, 2.0, false);
    cache_priced(
        &s,
        &hour.replacen('{', r#"{"stream":true,"stream_options":{"include_usage":true},"#, 1),
        2.0,
        true,
    );
}

/// Sends `body` and checks its usage's cache counts and its cost, writes at `write` times the
/// input price.
fn cache_priced(s: &Stack, body: &str, write_rate: f64, stream: bool) {
    let r = chat(s, body);
    assert_eq!(r.status, 200, "{}", r.text());
    let got = s.take_received();
    let sent = got.first().map(|g| g.json()).unwrap_or(Value::Null);
    assert_eq!(sent["system"][0]["cache_control"]["type"], "ephemeral", "{sent}");
    let usage = if stream { streamed(&r).1.unwrap_or(Value::Null) } else { r.json()["usage"].clone() };
    let details = &usage["prompt_tokens_details"];
    let (read, write) = (details["cached_tokens"].as_u64(), details["cache_creation_tokens"].as_u64());
    let (Some(read), Some(write)) = (read, write) else { panic!("no cache counts in {usage}") };
    assert!(read + write > 0, "the mock reports cache use for cache_control: {usage}");
    let prompt = usage["prompt_tokens"].as_u64().unwrap_or_default();
    let output = usage["completion_tokens"].as_u64().unwrap_or_default();
    let catalog = model_router_scorer::Config::from_json(b"").unwrap_or_else(|e| panic!("{e}")).catalog;
    let d = catalog
        .deployments
        .iter()
        .find(|d| d.id == "claude-sonnet-4-6")
        .unwrap_or_else(|| panic!("no claude"));
    let plain = prompt - read - write;
    let want = (plain as f64 * d.price_in
        + read as f64 * d.price_in * 0.1
        + write as f64 * d.price_in * write_rate
        + output as f64 * d.price_out)
        / 1e6;
    let cost: f64 = if stream {
        usage["cost"].as_str().and_then(|c| c.parse().ok()).or(usage["cost"].as_f64()).unwrap_or(-1.0)
    } else {
        r.header("x-model-router-cost").and_then(|c| c.parse().ok()).unwrap_or(-1.0)
    };
    assert!((cost - want).abs() < 1e-8, "cost {cost}, want {want} from {usage}");
    let flat = (prompt as f64 * d.price_in + output as f64 * d.price_out) / 1e6;
    assert!((cost - flat).abs() > 1e-9, "cache tokens priced as plain input");
}

/// A ConverseStream the request's own error opens (a `validationException` frame in a 200
/// stream) reaches the client as OpenAI refuses a bad stream request: a 400 with the JSON error,
/// the held stream's headers rewritten by the router in Envoy, not a 200 event stream.
#[test]
fn a_stream_the_requests_own_error_opens_is_a_json_400() {
    let s = start(&StackOptions::default());
    let body = r#"{"model":"economy","prefer":"cheap","stream":true,"provider":{"only":["aws-bedrock-runtime"]},
        "messages":[{"role":"user","content":"hello"}]}"#;
    let ok = chat(&s, body);
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.header("x-model-router-provider"), Some("aws-bedrock-runtime"));
    s.fault("aws-bedrock-runtime", Some(r#"{"status":400,"opening":true,"count":1}"#))
        .unwrap_or_else(|e| panic!("{e}"));
    let r = chat(&s, body);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.header("content-type").is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        r.head.headers
    );
    let v = r.json();
    assert_eq!(v["error"]["code"], "provider_rejected_request", "{v}");
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("ValidationException")), "{v}");
}

/// The assistant message a chat client builds from a streamed answer: its tool calls and its
/// `thinking_blocks` entries (each by its `index`, which is left out).
fn streamed_message(r: &Response) -> Value {
    let (mut calls, mut blocks) = (Vec::<Value>::new(), Vec::<Value>::new());
    for e in events(r) {
        let v: Value = serde_json::from_str(&e).unwrap_or(Value::Null);
        let delta = &v["choices"][0]["delta"];
        for c in delta["tool_calls"].as_array().into_iter().flatten() {
            let i = c["index"].as_u64().unwrap_or_default() as usize;
            if calls.len() <= i {
                calls.push(json!({"id": c["id"], "type": "function", "function": {"name": c["function"]["name"], "arguments": ""}}));
            }
            let args = c["function"]["arguments"].as_str().unwrap_or_default();
            let had = calls[i]["function"]["arguments"].as_str().unwrap_or_default().to_string();
            calls[i]["function"]["arguments"] = json!(had + args);
        }
        for b in delta["thinking_blocks"].as_array().into_iter().flatten() {
            let mut b = b.clone();
            b.as_object_mut().map(|o| o.remove("index"));
            blocks.push(b);
        }
    }
    json!({"role": "assistant", "content": null, "tool_calls": calls, "thinking_blocks": blocks})
}

/// An OpenAI model's reasoning through a chat client's tool loop, whole and streamed: with
/// nothing stored at the provider, the answer carries it in `thinking_blocks` and the next step
/// sends it back as the reasoning item the model wrote (the mock refuses any other), so the
/// loop's later steps keep the reasoning of its earlier ones.
#[test]
fn an_openai_models_encrypted_reasoning_goes_back_through_a_tool_loop() {
    let s = start(&StackOptions::default());
    let model = live_model(Api::Responses);
    let tools = json!([{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    for stream in [false, true] {
        let user = json!({"role": "user", "content": "weather? mock:tool mock:reasoning"});
        let first = json!({"model": model, "stream": stream, "messages": [user], "tools": tools});
        let r = chat(&s, &first.to_string());
        assert_eq!(r.status, 200, "stream {stream}: {}", r.text());
        let asked = s.take_received();
        assert_eq!(
            asked.first().map(|g| g.json()["include"].clone()),
            Some(json!(["reasoning.encrypted_content"]))
        );
        let message = if stream { streamed_message(&r) } else { r.json()["choices"][0]["message"].clone() };
        let blocks = message["thinking_blocks"].as_array().cloned().unwrap_or_default();
        assert_eq!(blocks.len(), 1, "stream {stream}: {}", r.text());
        let call = message["tool_calls"][0]["id"].clone();
        let tool = json!({"role": "tool", "tool_call_id": call, "content": "sunny"});
        let next =
            json!({"model": model, "stream": stream, "messages": [user, message, tool], "tools": tools});
        let r = chat(&s, &next.to_string());
        assert_eq!(r.status, 200, "stream {stream}: {}", r.text());
        let got = s.take_received();
        let input = got.first().map(|g| g.json()["input"].clone()).unwrap_or_default();
        let kinds: Vec<&str> =
            input.as_array().into_iter().flatten().filter_map(|i| i["type"].as_str()).collect();
        assert_eq!(kinds, ["message", "reasoning", "function_call", "function_call_output"], "{input}");
        assert_eq!(input[1]["encrypted_content"], ENCRYPTED_REASONING, "{input}");
    }
}

/// `POST /v1/messages/count_tokens` (Claude Code's `/context`): a Claude on Anthropic's API is
/// counted there, with the Messages body the request would send less what only generating
/// takes (Anthropic refuses `max_tokens` there), its answer as Anthropic gave it; any other
/// model is counted by the router's estimate, and no provider is asked.
#[test]
fn token_counts_come_from_anthropic_for_claude_and_from_the_estimate_elsewhere() {
    let s = start(&StackOptions::default());
    let ask = |model: &str| {
        format!(
            r#"{{"model":"{model}","system":"be brief","messages":[{{"role":"user","content":"count me"}}],"tools":[{{"name":"get_weather","input_schema":{{"type":"object","properties":{{"city":{{"type":"string"}}}}}}}}]}}"#
        )
    };
    let count = |model: &str| {
        http::post_json(s.envoy.addr, "/v1/messages/count_tokens?beta=true", &ask(model))
            .unwrap_or_else(|e| panic!("count failed: {e}"))
    };
    s.take_received();
    let r = count("claude-sonnet-4-6");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        (r.header("x-model-router-provider"), r.header("x-model-router-count")),
        (Some("anthropic"), Some("provider"))
    );
    let got = s.take_received();
    let [sent] = got.as_slice() else { panic!("one request to a provider: {}", got.len()) };
    assert_eq!(sent.path, "/v1/messages/count_tokens");
    let body = sent.json();
    assert!(body.get("max_tokens").is_none() && body["tools"][0]["name"] == "get_weather", "{body}");
    // The mock counts a token per four bytes of what it was sent.
    assert_eq!(r.json(), json!({"input_tokens": sent.body.len() / 4}));

    let r = count("gpt-4.1");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        (r.header("x-model-router-provider"), r.header("x-model-router-count")),
        (Some("openai"), Some("estimate"))
    );
    assert!(r.json()["input_tokens"].as_u64().is_some_and(|n| n > 0), "{}", r.text());
    assert!(s.take_received().is_empty(), "an estimate asks no provider");

    // Refused in Anthropic's shape: a server tool, as on /v1/messages.
    let bad = ask("claude-sonnet-4-6")
        .replace(r#""name":"get_weather","#, r#""type":"web_search_20250305","name":"web_search","#);
    let r =
        http::post_json(s.envoy.addr, "/v1/messages/count_tokens", &bad).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((r.status, &r.json()["type"]), (400, &json!("error")), "{}", r.text());
}

/// A tool that asks to be strict (the OpenAI Agents SDK's default) reaches Claude strict, its
/// objects closed as Anthropic requires (the mock refuses an open one, as Anthropic does); one
/// whose schema Claude cannot decode strictly goes as before, and so do all of them past
/// Anthropic's limits (the mock refuses a 21st strict tool). A Messages client's `strict` too.
#[test]
fn strict_tools_reach_claude_strict_within_anthropics_limits() {
    let s = start(&StackOptions::default());
    let tool = |name: &str, schema: &str| {
        format!(r#"{{"type":"function","function":{{"name":"{name}","strict":true,"parameters":{schema}}}}}"#)
    };
    let place = r#"{"type":"object","properties":{"city":{"type":"string"},"at":{"type":"object","properties":{"lat":{"type":"number"}},"required":["lat"]}},"required":["city","at"]}"#;
    let bounded = r#"{"type":"object","properties":{"n":{"type":"integer","minimum":1}},"required":["n"]}"#;
    let ask = |tools: &[String]| {
        format!(
            r#"{{"model":"claude-haiku-4-5","messages":[{{"role":"user","content":"weather?"}}],"tool_choice":"required","tools":[{}]}}"#,
            tools.join(",")
        )
    };
    s.take_received();
    let r = chat(&s, &ask(&[tool("place", place), tool("count", bounded)]));
    assert_eq!(r.status, 200, "{}", r.text());
    let got = s.take_received();
    let [sent] = got.as_slice() else { panic!("one request to a provider: {}", got.len()) };
    let tools = sent.json()["tools"].clone();
    assert_eq!(tools[0]["strict"], json!(true), "{tools}");
    assert_eq!(tools[0]["input_schema"]["properties"]["at"]["additionalProperties"], json!(false), "{tools}");
    assert_eq!(
        (tools[1].get("strict"), &tools[1]["input_schema"]["properties"]["n"]["minimum"]),
        (None, &json!(1))
    );

    let many: Vec<String> = (0..21).map(|k| tool(&format!("t{k}"), place)).collect();
    let r = chat(&s, &ask(&many));
    assert_eq!(r.status, 200, "{}", r.text());
    let got = s.take_received();
    let [sent] = got.as_slice() else { panic!("one request to a provider: {}", got.len()) };
    let tools = sent.json()["tools"].as_array().cloned().unwrap_or_default();
    assert_eq!((tools.len(), tools.iter().filter(|t| t.get("strict").is_some()).count()), (21, 0));

    // (Its schema as Anthropic's docs write a strict one: a schema OpenAI's strict mode would
    // refuse goes unstrict, as a tier may route it there.)
    let messages = r#"{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{"role":"user","content":"weather?"}],"tools":[{"name":"place","strict":true,"input_schema":{"type":"object","properties":{"city":{"type":"string"},"at":{"type":"object","properties":{"lat":{"type":"number"}},"required":["lat"],"additionalProperties":false}},"required":["city","at"],"additionalProperties":false}}]}"#;
    let r = http::post_json(s.envoy.addr, "/v1/messages", messages).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let got = s.take_received();
    let [sent] = got.as_slice() else { panic!("one request to a provider: {}", got.len()) };
    let tool = &sent.json()["tools"][0];
    assert_eq!(
        (&tool["strict"], &tool["input_schema"]["properties"]["at"]["additionalProperties"]),
        (&json!(true), &json!(false))
    );
}
