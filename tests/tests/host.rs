//! Host tests: the built `.wasm` in wasmtime through `wasm_host`, asserting what a client or a
//! provider would observe.

use model_router_tests::envoy::wasm_path;
use model_router_tests::wasm_host::{Outcome, Plugin, header};

const CHAT: &str = "/v1/chat/completions";

fn plugin(config: &str) -> Plugin {
    Plugin::load(&wasm_path(), config).unwrap_or_else(|e| panic!("load: {e}"))
}

fn post_headers(len: usize) -> Vec<(&'static str, String)> {
    vec![
        (":method", "POST".into()),
        (":path", CHAT.into()),
        (":authority", "router".into()),
        ("content-type", "application/json".into()),
        ("content-length", len.to_string()),
    ]
}

fn as_refs<'a>(h: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    h.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn routes_a_body_that_arrives_in_pieces() {
    let mut p = plugin("{}");
    let body =
        br#"{"model":"economy","prefer":"cheap","messages":[{"role":"user","content":"hello"}],"n":1}"#;
    let mut h = post_headers(body.len());
    h.push(("x-model-router-cluster", "openai".into()));
    let (id, out) = p.request(&as_refs(&h), &[&body[..10], &body[10..40], &body[40..]]).unwrap();
    let Outcome::Forwarded { headers, body: sent } = out else { panic!("{out:?}") };
    let want = br#"{"model":"llama3.1-8b","messages":[{"role":"user","content":"hello"}],"n":1}"#;
    assert_eq!(String::from_utf8_lossy(&sent), String::from_utf8_lossy(want));
    assert_eq!(header(&headers, "x-model-router-cluster"), Some("cerebras"));
    assert_eq!(header(&headers, "content-length"), Some(want.len().to_string().as_str()));
    assert_eq!(headers.iter().filter(|(k, _)| k == "x-model-router-cluster").count(), 1);

    let resp = p.response(id, &[(":status", "200"), ("content-type", "application/json")]).unwrap();
    assert_eq!(header(&resp, "x-model-router-model"), Some("llama3.1-8b"));
    assert_eq!(header(&resp, "x-model-router-provider"), Some("cerebras"));
    assert_eq!(header(&resp, "x-model-router-tier"), Some("economy"));
    assert_eq!(header(&resp, "x-model-router-prefer"), Some("cheap"));
    assert_eq!(header(&resp, "x-model-router-selection"), Some("tier"));
}

#[test]
fn bad_input_is_answered_locally_and_the_vm_keeps_serving() {
    let mut p = plugin("{}");
    for (body, status, code) in [
        (&b"{\"model\":"[..], 400, "invalid_json"),
        (
            &br#"{"model":"economy","messages":[{"role":"user","content":"x"}],"model":"x"}"#[..],
            400,
            "duplicate_key",
        ),
        (&br#"{"model":"gpt-0","messages":[{"role":"user","content":"x"}]}"#[..], 404, "model_not_found"),
    ] {
        let h = post_headers(body.len());
        let (_, out) = p.request(&as_refs(&h), &[body]).unwrap();
        let Outcome::Local(reply) = out else { panic!("{out:?}") };
        assert_eq!(reply.status, status);
        assert_eq!(reply.json()["error"]["code"], code);
        assert_eq!(reply.json()["error"]["type"], "invalid_request_error");
        assert!(reply.headers.contains(&("content-type".into(), "application/json".into())));
    }
    let body = br#"{"model":"premium","messages":[{"role":"user","content":"x"}]}"#;
    let h = post_headers(body.len());
    let (_, out) = p.request(&as_refs(&h), &[body]).unwrap();
    assert!(matches!(out, Outcome::Forwarded { .. }), "{out:?}");
}

#[test]
fn a_post_without_body_and_a_wrong_method_get_errors() {
    let mut p = plugin("{}");
    let h = post_headers(0);
    let (_, out) = p.request(&as_refs(&h), &[]).unwrap();
    let Outcome::Local(reply) = out else { panic!("{out:?}") };
    assert_eq!((reply.status, reply.json()["error"]["code"].as_str()), (400, Some("missing_body")));

    let (_, out) = p.request(&[(":method", "PUT"), (":path", CHAT)], &[]).unwrap();
    let Outcome::Local(reply) = out else { panic!("{out:?}") };
    assert_eq!((reply.status, reply.json()["error"]["code"].as_str()), (405, Some("method_not_allowed")));
}

#[test]
fn requests_it_does_not_route_pass_untouched() {
    let mut p = plugin("{}");
    let headers = [
        (":method", "POST"),
        (":path", "/v1/files"),
        ("content-type", "application/json"),
        ("authorization", "Bearer client-key"),
    ];
    let body = br#"{"model":"whatever","input":"x"}"#;
    let (id, out) = p.request(&headers, &[body]).unwrap();
    let want: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(out, Outcome::Forwarded { headers: want, body: body.to_vec() });
    let resp = p.response(id, &[(":status", "200")]).unwrap();
    assert_eq!(resp, vec![(":status".to_string(), "200".to_string())]);

    // Only the internal cluster header is taken away, so a client cannot pick a cluster.
    let (_, out) = p
        .request(&[(":method", "GET"), (":path", "/other"), ("x-model-router-cluster", "openai")], &[])
        .unwrap();
    let Outcome::Forwarded { headers, .. } = out else { panic!("{out:?}") };
    assert_eq!(header(&headers, "x-model-router-cluster"), None);
    assert_eq!(header(&headers, ":path"), Some("/other"));
}

#[test]
fn configuration_is_validated_and_applied() {
    let err = Plugin::load(&wasm_path(), r#"{"default_prefer":"fastest"}"#).err().unwrap_or_default();
    assert!(err.contains("configuration rejected: default_prefer 'fastest' is invalid"), "{err}");
    let err = Plugin::load(&wasm_path(), r#"{"clusterheader":"x"}"#).err().unwrap_or_default();
    assert!(err.contains("unknown field `clusterheader`"), "{err}");

    let mut p = plugin(
        r#"{"cluster_header":"x-llm-cluster","clusters":{"cerebras":"egress_cerebras"},"default_prefer":"cheap"}"#,
    );
    let body = br#"{"model":"economy","messages":[{"role":"user","content":"x"}]}"#;
    let h = post_headers(body.len());
    let (_, out) = p.request(&as_refs(&h), &[body]).unwrap();
    let Outcome::Forwarded { headers, .. } = out else { panic!("{out:?}") };
    assert_eq!(header(&headers, "x-llm-cluster"), Some("egress_cerebras"));
}

#[test]
fn auto_remembers_a_conversation_tier_in_shared_data_until_it_expires() {
    // No client header here: tiers are remembered for anonymous callers only when configured.
    let mut p = plugin(r#"{"sticky":{"ttl_secs":60,"without_client":true}}"#);
    p.set_now_secs(1_000);
    let ask = "What would be the long-term consequences for monetary policy, bank solvency and public debt \
               markets if a large eurozone member left the currency union during a recession?";
    // A first turn is never remembered: the hard ask comes in turn 2.
    let opening = r#"{"role":"user","content":"hi"},{"role":"assistant","content":"Hello!"}"#;
    let turn1 = format!(r#"{{"model":"auto","messages":[{opening},{{"role":"user","content":"{ask}"}}]}}"#);
    let turn2 = format!(
        r#"{{"model":"auto","messages":[{opening},{{"role":"user","content":"{ask}"}},{{"role":"assistant","content":"ok"}},{{"role":"user","content":"thanks!"}}]}}"#
    );
    let tier_of = |p: &mut Plugin, body: &str| -> (String, String) {
        let h = post_headers(body.len());
        let (id, out) = p.request(&as_refs(&h), &[body.as_bytes()]).unwrap();
        assert!(matches!(out, Outcome::Forwarded { .. }), "{out:?}");
        let resp = p.response(id, &[(":status", "200")]).unwrap();
        (
            header(&resp, "x-model-router-tier").unwrap_or_default().to_string(),
            header(&resp, "x-model-router-auto-tier").unwrap_or_default().to_string(),
        )
    };
    assert_eq!(tier_of(&mut p, &turn1), ("standard".into(), "standard".into()));
    // One conversation slot (besides the provider health records and the digests' key,
    // drawn once for the VM's workers).
    assert!(p.shared_keys().contains(&"model_router.digest_key".to_string()));
    let keys: Vec<String> = p
        .shared_keys()
        .into_iter()
        .filter(|k| !k.starts_with("model_router.health.") && k != "model_router.digest_key")
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("model_router.sticky."), "{keys:?}");
    p.set_now_secs(1_030);
    assert_eq!(tier_of(&mut p, &turn2), ("standard".into(), "economy".into()));
    // Each turn refreshes the memory; 61 s after the last one it is gone.
    p.set_now_secs(1_030 + 61);
    assert_eq!(tier_of(&mut p, &turn2), ("economy".into(), "economy".into()));
}

#[test]
fn provider_keys_come_from_the_vm_environment_and_client_keys_never_travel() {
    // Groq's key as a Secret made with `echo` holds it, with its newline; OpenAI's holds a
    // line break no header can carry.
    let env = [
        ("GROQ_API_KEY", "gsk-test-groq\n"),
        ("GEMINI_API_KEY", "test-gemini"),
        ("OPENAI_API_KEY", "sk-test-openai\r\nx-injected: yes"),
    ];
    let mut p = Plugin::load_with_env(&wasm_path(), "{}", &env).unwrap();
    p.set_now_secs(20_779 * 86_400); // 2026-11-22
    let logs = p.logs().iter().map(|(_, l)| l.clone()).collect::<Vec<_>>().join("\n");
    assert!(logs.contains("keys from the VM environment for: google-gemini, groq; none for: "), "{logs}");
    // A provider whose variable is unset is named, with it (an operator's typo shows); one
    // whose key cannot be sent is named as refused, and why, at error.
    assert!(logs.contains("anthropic (ANTHROPIC_API_KEY)"), "{logs}");
    assert!(logs.contains("openai (OPENAI_API_KEY, refused)"), "{logs}");
    let refused = p.logs().iter().any(|(level, l)| {
        *level == 4 && l.contains("OPENAI_API_KEY for provider openai holds a control character")
    });
    assert!(refused, "{logs}");
    assert!(!logs.contains("gsk-test-groq") && !logs.contains("sk-test-openai"), "a key reached the log");

    // A chat-API model on groq, pinned: its key is the environment's, as a bearer token.
    let body = br#"{"model":"meta-llama/llama-4-scout-17b-16e-instruct","messages":[{"role":"user","content":"x"}]}"#;
    let mut h = post_headers(body.len());
    h.push(("authorization", "Bearer sk-client-own".into()));
    h.push(("x-api-key", "client-anthropic-key".into()));
    let (_, out) = p.request(&as_refs(&h), &[body]).unwrap();
    let Outcome::Forwarded { headers, .. } = out else { panic!("{out:?}") };
    assert_eq!(header(&headers, "authorization"), Some("Bearer gsk-test-groq"));
    assert_eq!(header(&headers, "x-api-key"), None);
    assert_eq!(header(&headers, ":path"), Some("/openai/v1/chat/completions"));
    assert_eq!(header(&headers, "x-model-router-cluster"), Some("groq"));

    // A provider without a key in the environment gets no credential from the filter (Envoy
    // supplies it: Anthropic's credential_injector, Bedrock's SigV4 signing), and still never
    // the client's, in either header.
    for (body, cluster) in [
        (&br#"{"model":"claude-opus-4-7","messages":[{"role":"user","content":"x"}]}"#[..], "anthropic"),
        (
            &br#"{"model":"nvidia.nemotron-nano-9b-v2","messages":[{"role":"user","content":"x"}]}"#[..],
            "aws-bedrock-runtime",
        ),
    ] {
        let mut h = post_headers(body.len());
        h.push(("authorization", "Bearer sk-client-own".into()));
        h.push(("x-api-key", "client-anthropic-key".into()));
        let (_, out) = p.request(&as_refs(&h), &[body]).unwrap();
        let Outcome::Forwarded { headers, .. } = out else { panic!("{out:?}") };
        assert_eq!(header(&headers, "x-model-router-cluster"), Some(cluster));
        assert_eq!(header(&headers, "authorization"), None, "{cluster}");
        assert_eq!(header(&headers, "x-api-key"), None, "{cluster}");
    }
}

#[test]
fn the_router_answers_the_model_list() {
    let mut p = plugin(r#"{"client_header":"x-team","clients":{"b":{"only_providers":["anthropic"]}}}"#);
    p.set_now_secs(20_779 * 86_400);
    let (_, out) = p.request(&[(":method", "GET"), (":path", "/v1/models")], &[]).unwrap();
    let Outcome::Local(reply) = out else { panic!("{out:?}") };
    assert_eq!(reply.status, 200);
    let ids: Vec<String> = reply.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(ids.contains(&"gpt-4.1".to_string()) && ids.contains(&"embed-small".to_string()));
    let (_, out) = p.request(&[(":method", "GET"), (":path", "/v1/models"), ("x-team", "b")], &[]).unwrap();
    let Outcome::Local(reply) = out else { panic!("{out:?}") };
    let providers: Vec<String> = reply.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["providers"].as_array().cloned())
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect();
    assert!(!providers.is_empty() && providers.iter().all(|p| p == "anthropic"), "{providers:?}");
}

#[test]
fn an_edit_anywhere_in_a_remembered_conversation_reaches_the_provider() {
    // The module compares a remembered conversation with the next turn 64 bytes a step (wasm
    // SIMD; natively, words): a one-byte edit at any lane of a step, in the part a worker
    // remembers, must reach the provider as it would without the memory.
    let note = |i: usize| format!("note {i:03} on how the parser reads dates, zones and offsets");
    let history = |edit: Option<(usize, usize)>| -> String {
        (0..40)
            .map(|i| {
                let mut text = note(i).into_bytes();
                if let Some((_, at)) = edit.filter(|&(k, _)| k == i) {
                    text[at] = b'#';
                }
                let role = if i % 2 == 0 { "user" } else { "assistant" };
                format!(r#"{{"role":"{role}","content":"{}"}}"#, String::from_utf8(text).unwrap())
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    // A model that takes a conversation ending on an assistant turn, as the first one here does.
    let turn = |messages: String| {
        format!(r#"{{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{messages}]}}"#)
    };
    let send = |p: &mut Plugin, body: &str| -> String {
        let h = post_headers(body.len());
        let (_, out) = p.request(&as_refs(&h), &[body.as_bytes()]).unwrap();
        let Outcome::Forwarded { headers, body } = out else { panic!("{out:?}") };
        assert_eq!(header(&headers, ":path"), Some("/v1/messages"));
        String::from_utf8(body).unwrap()
    };
    let mut cases = 0;
    for k in (0..38).step_by(3) {
        for at in (0..note(k).len()).step_by(5) {
            let mut p = plugin(r#"{"prefix_cache":{"min_bytes":1024}}"#);
            send(&mut p, &turn(history(None)));
            let next = |h: String| {
                turn(format!(
                    r#"{h},{{"role":"assistant","content":"ok"}},{{"role":"user","content":"go on"}}"#
                ))
            };
            let sent = send(&mut p, &next(history(Some((k, at)))));
            let mut edited = note(k).into_bytes();
            edited[at] = b'#';
            let edited = String::from_utf8(edited).unwrap();
            assert!(sent.contains(&edited) && !sent.contains(&note(k)), "message {k} byte {at}: {sent}");
            cases += 1;
        }
    }
    assert!(cases > 100, "{cases}");
}

#[test]
fn auto_scan_states_are_found_by_digests_from_the_key_the_vm_drew() {
    use model_router_scorer::parse::prefix::{self, Digest};
    let mut p = plugin(r#"{"prefix_cache":{"min_bytes":0}}"#);
    let messages = [
        r#"{"role":"user","content":"Write a parser for ISO dates in Rust."}"#,
        r#"{"role":"assistant","content":"Here it is."}"#,
        r#"{"role":"user","content":"Now add time zones."}"#,
    ];
    let head = r#"{"model":"auto","messages":["#;
    let body = format!("{head}{}]}}", messages.join(","));
    let mut spans = Vec::new();
    let mut at = head.len();
    for m in messages {
        spans.push((at, at + m.len()));
        at += m.len() + 1;
    }
    let h = post_headers(body.len());
    let (_, out) = p.request(&as_refs(&h), &[body.as_bytes()]).unwrap();
    assert!(matches!(out, Outcome::Forwarded { .. }), "{out:?}");
    let key = p.shared_value("model_router.digest_key").unwrap_or_default();
    let key = Digest::from_bytes(key.try_into().unwrap_or_else(|k| panic!("not 16 bytes: {k:?}")));
    assert_ne!(key, prefix::EMPTY, "the VM drew no key of its own");
    let slot = |k: Digest| {
        let last = prefix::chain(k, body.as_bytes(), &spans).last().copied().unwrap_or(k);
        format!("model_router.prefix.{}", last.0 % 4096)
    };
    let keys = p.shared_keys();
    assert!(keys.contains(&slot(key)), "no state under the drawn key's digest: {keys:?}");
    assert!(!keys.contains(&slot(prefix::EMPTY)), "a state under the public key's digest: {keys:?}");
}

/// A configuration pushed live is a new root context in the same VM. The gauges of what it
/// removed stayed as they were (a removed client's spend; a removed provider's breaker left at
/// 1, open, fired its alert for good), and the VM's memory was added to its gauge again by
/// every new root context. When the VM's last root context is done, its memory leaves the gauge.
#[test]
fn a_new_configuration_zeroes_the_gauges_it_removed_and_counts_the_vms_memory_once() {
    let config =
        |clients: &str| format!(r#"{{"client_header":"x-team","budgets":{{"clients":{{{clients}}}}}}}"#);
    let mut p = plugin(&config(r#""old":1,"kept":1"#));
    let answer = br#"{"choices":[{"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":1000,"completion_tokens":100}}"#;
    let ask = |p: &mut Plugin, client: &str| {
        let body = br#"{"model":"economy","messages":[{"role":"user","content":"hello"}]}"#;
        let mut h = post_headers(body.len());
        h.push(("x-team", client.to_string()));
        let (id, out) = p.request(&as_refs(&h), &[body]).unwrap();
        assert!(matches!(out, Outcome::Forwarded { .. }), "{out:?}");
        p.response(id, &[(":status", "200"), ("content-type", "application/json")]).unwrap();
        p.response_body(id, answer).unwrap();
        p.finish(id).unwrap();
    };
    ask(&mut p, "old");
    ask(&mut p, "kept");
    let spent =
        |p: &Plugin, c: &str| p.metric(&format!("model_router.budget_spent_nanousd.scope.client.{c}"));
    let (old, kept) = (spent(&p, "old").unwrap_or(0), spent(&p, "kept").unwrap_or(0));
    assert!(old > 0 && kept > 0, "{old} {kept}");
    let memory = p.metric("model_router.vm_memory_bytes").unwrap_or(0);
    assert_eq!(memory, p.memory_bytes() as i64);

    let first = p.reconfigure(&config(r#""kept":1"#)).unwrap();
    assert_eq!((spent(&p, "old"), spent(&p, "kept")), (Some(0), Some(kept)));
    // The replaced configuration still ticks until it is done: it sets no gauge it had (the
    // removed client's came back each minute), the new one sets its own.
    p.tick_root(first).unwrap();
    p.tick().unwrap();
    assert_eq!((spent(&p, "old"), spent(&p, "kept")), (Some(0), Some(kept)));
    ask(&mut p, "kept");
    assert_eq!(p.metric("model_router.vm_memory_bytes"), Some(p.memory_bytes() as i64), "counted once");
    // The replaced root context is done; the VM lives on with the new one.
    p.root_done(first).unwrap();
    assert_eq!(p.metric("model_router.vm_memory_bytes"), Some(p.memory_bytes() as i64));
    let current = p.root();
    p.root_done(current).unwrap();
    assert_eq!(p.metric("model_router.vm_memory_bytes"), Some(0), "the VM's last root context is done");
}

/// The bodies kept for fallbacks are the VM's, under every configuration it holds: a pushed
/// configuration kept a ledger of its own while the one it replaced drained (helper, pushing
/// over a listener), and a worker held twice `failover_body_bytes`.
#[test]
fn a_pushed_configuration_shares_the_vms_ledger_of_kept_bodies() {
    // 1,400-byte bodies are large (over 4,000 / 16): together they may take 3,000 bytes.
    let config = r#"{"resilience":{"failover_body_bytes":4000}}"#;
    let mut p = plugin(config);
    let ask = |p: &mut Plugin| {
        let text = "word ".repeat(260);
        let body = format!(r#"{{"model":"economy","messages":[{{"role":"user","content":"{text}"}}]}}"#);
        let h = post_headers(body.len());
        let (_, out) = p.request(&as_refs(&h), &[body.as_bytes()]).unwrap();
        assert!(matches!(out, Outcome::Forwarded { .. }), "{out:?}");
    };
    let unkept = |p: &Plugin| p.metric("model_router.failover_unkept").unwrap_or(0);
    ask(&mut p);
    ask(&mut p);
    assert_eq!(unkept(&p), 0, "two fit");
    // Pushed while both are in flight: the third does not fit beside them.
    p.reconfigure(config).unwrap();
    ask(&mut p);
    assert_eq!(unkept(&p), 1);
}

/// A configuration sets every client's budget gauges as it loads, and registers them for the
/// sweep together: one at a time, each read and rewrote the growing list (8,000 clients held a
/// push's live requests 16 s). Host calls per client stay flat.
#[test]
fn a_configuration_registers_its_gauges_together() {
    let config = |n: usize| {
        let clients: Vec<String> = (0..n).map(|i| format!(r#""c{i}":1"#)).collect();
        format!(r#"{{"client_header":"x-team","budgets":{{"clients":{{{}}}}}}}"#, clients.join(","))
    };
    let calls = |n: usize| {
        let mut p = plugin(&config(n));
        let before = p.crossings();
        p.reconfigure(&config(n)).unwrap();
        (p.crossings() - before).host_calls
    };
    let (small, large) = (calls(100), calls(300));
    let per_client = (large - small) as f64 / 200.0;
    assert!(per_client <= 6.0, "{per_client} host calls a client ({small} for 100, {large} for 300)");
    let mut p = plugin(&config(3));
    p.reconfigure(&config(3)).unwrap();
    let listed = String::from_utf8(p.shared_value("model_router.gauges").unwrap_or_default()).unwrap();
    assert!(listed.lines().any(|l| l == "budget_limit_nanousd.scope.client.c2"), "{listed}");
}

/// A spend gauge was set only when a request of its scope settled: past UTC midnight it showed
/// the day before's spend until that scope's next request (found driving the demo: a client's
/// gauge said 108 million nano-USD spent "today" at 00:01), and a dashboard drew the limit
/// nearly spent all morning. The root context now sets every gauged scope from its record each
/// minute; a configuration without limits asks for no tick.
#[test]
fn the_spend_gauges_start_the_new_utc_day_at_midnight() {
    let config = r#"{"client_header":"x-team","budgets":{"daily_usd":5,"clients":{"a":1}}}"#;
    let mut p = plugin(config);
    assert_eq!(p.tick_ms(), 60_000);
    let day = 20_779 * 86_400;
    p.set_now_secs(day + 86_000);
    let body = br#"{"model":"economy","messages":[{"role":"user","content":"hello"}]}"#;
    let mut h = post_headers(body.len());
    h.push(("x-team", "a".to_string()));
    let (id, out) = p.request(&as_refs(&h), &[body]).unwrap();
    assert!(matches!(out, Outcome::Forwarded { .. }), "{out:?}");
    p.response(id, &[(":status", "200"), ("content-type", "application/json")]).unwrap();
    let answer = br#"{"choices":[{"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":1000,"completion_tokens":100}}"#;
    p.response_body(id, answer).unwrap();
    p.finish(id).unwrap();
    let gauges = |p: &Plugin| {
        ["global", "client.a"].map(|s| p.metric(&format!("model_router.budget_spent_nanousd.scope.{s}")))
    };
    let [global, client] = gauges(&p);
    assert!(global.is_some_and(|g| g > 0) && global == client, "{global:?} {client:?}");
    // A tick the same day changes nothing; one the next day starts it.
    p.tick().unwrap();
    assert_eq!(gauges(&p), [global, client]);
    p.set_now_secs(day + 86_400 + 30);
    p.tick().unwrap();
    assert_eq!(gauges(&p), [Some(0), Some(0)]);
    assert_eq!(plugin("{}").tick_ms(), 0, "no limits, no tick");
}

/// A `client_header` with `_` loads (a listener may pass it), but the shipped listeners drop
/// such headers, so no request names its client and no client's budget applies, silently. The
/// configuration says so when it loads.
#[test]
fn a_client_header_with_an_underscore_is_warned_of_at_load() {
    let warned = |config: &str| {
        plugin(config).logs().iter().any(|(_, l)| l.contains("client_header") && l.contains("underscores"))
    };
    assert!(warned(r#"{"client_header":"x_team"}"#));
    assert!(!warned(r#"{"client_header":"x-team"}"#));
}

/// A configuration that refuses every chat request it covers (here a daily limit of 0 with no
/// free model) loads, since an operator may mean it, and says so in Envoy's log at load.
#[test]
fn a_configuration_that_refuses_every_request_says_so_at_load() {
    let warned =
        |config: &str| plugin(config).logs().iter().any(|(_, l)| l.contains("budgets.daily_usd is 0"));
    assert!(warned(r#"{"budgets":{"daily_usd":0}}"#));
    assert!(!warned(r#"{"budgets":{"daily_usd":1}}"#));
}
