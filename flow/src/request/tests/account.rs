//! What a request leaves behind when it is settled: spend against each budget, cost per client,
//! auto's tier, and the filter state an access log reads (unless turned off).

use super::{HELLO, STREAM_HELLO, chat, cluster_of, config, pairs, route, set_response};
use crate::io::Event;
use crate::request::Request;

#[test]
fn a_settled_request_reports_spend_against_each_limit_cost_per_client_and_autos_tier() {
    let body = r#"{"model":"auto","messages":[{"role":"user","content":"hello"}]}"#;
    let mut host = chat(body);
    host.request_headers.push(("x-team".into(), "team.a".into()));
    let extra = r#","client_header":"x-team","budgets":{"daily_usd":2,"clients":{"team.a":0.5}}"#;
    let mut req = Request::new(Some(config(extra)));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    host.response_body = br#"{"choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":500}}"#.to_vec();
    req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
    req.on(&host, Event::Log);
    let counters = host.counters.borrow();
    let get = |name: &str| counters.get(name).copied();
    // 1000 in + 500 out at 1 and 2 USD per million: 0.002 USD.
    for (name, want) in [
        ("budget_spent_nanousd.scope.global", 2_000_000),
        ("budget_spent_nanousd.scope.client.team_a", 2_000_000),
        ("budget_limit_nanousd.scope.global", 2_000_000_000),
        ("budget_limit_nanousd.scope.client.team_a", 500_000_000),
        ("client_cost_nanousd.client.team_a", 2_000_000),
        ("auto_tier.tier.economy", 1),
    ] {
        assert_eq!(get(name), Some(want), "{name} in {counters:?}");
    }
    assert!(counters.contains_key("auto_score"), "{counters:?}");
    // Without a client header nothing is counted per client.
    drop(counters);
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(extra)));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    host.response_body = br#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5}}"#.to_vec();
    req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
    req.on(&host, Event::Log);
    let counters = host.counters.borrow();
    assert!(!counters.keys().any(|k| k.starts_with("client_cost_nanousd")), "{counters:?}");
    assert!(counters.contains_key("budget_limit_nanousd.scope.global"), "{counters:?}");
}

#[test]
fn filter_state_is_written_unless_turned_off_and_the_answer_is_the_same_either_way() {
    let answer = br#"{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":1000,"completion_tokens":500}}"#;
    let mut headers = Vec::new();
    for (extra, written) in
        [("", true), (r#","filter_state":true"#, true), (r#","filter_state":false"#, false)]
    {
        let mut host = chat(HELLO);
        let mut req = Request::new(Some(config(extra)));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "200")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        host.response_body = answer.to_vec();
        let last = req.on(&host, Event::ResponseBody { size: answer.len(), end_of_stream: true });
        req.on(&host, Event::Log);
        let notes = host.notes.borrow();
        assert_eq!(!notes.is_empty(), written, "{extra}: {notes:?}");
        if written {
            assert_eq!(notes.get("model").map(String::as_str), Some("m"), "{notes:?}");
            assert_eq!(notes.get("cost").map(String::as_str), Some("0.00200000"));
        }
        headers.push(set_response(&last, "x-model-router-cost"));
    }
    // What the client sees does not depend on it.
    assert!(headers.windows(2).all(|w| w[0] == w[1]) && headers[0].is_some(), "{headers:?}");
}

/// A request its client leaves before the answer's headers came was logged with no model or
/// provider (they were noted only then), though it was charged under them: they are noted when
/// it is sent, and a fallback's when it is sent (a client leaving while it is out).
#[test]
fn where_a_request_was_sent_is_noted_before_any_answer() {
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":2}"#)));
    let first = cluster_of(&route(&mut req, &host)).unwrap_or_default();
    let noted = |host: &super::Fake, key: &str| host.notes.borrow().get(key).cloned();
    assert_eq!(noted(&host, "provider").as_deref(), Some(first.as_str()));
    assert_eq!(
        (noted(&host, "model").as_deref(), noted(&host, "attempts").as_deref()),
        (Some("m"), Some("1"))
    );
    host.response_headers = pairs(&[(":status", "503")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    req.on(&host, Event::Dispatched { sent: true });
    assert_ne!(noted(&host, "provider").as_deref(), Some(first.as_str()));
    assert_eq!(noted(&host, "attempts").as_deref(), Some("2"));
    let fallback = noted(&host, "provider");
    host.call_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    host.call_body = br#"{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#.to_vec();
    req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
    assert_eq!((noted(&host, "provider"), noted(&host, "attempts").as_deref()), (fallback, Some("2")));
}

/// A global daily budget, as the settlement tests configure it.
const BUDGET: &str = r#","budgets":{"daily_usd":2}"#;

/// The day's settled global spend.
fn spent(host: &super::Fake) -> Option<u64> {
    host.counters.borrow().get("budget_spent_nanousd.scope.global").copied()
}

/// What [`HELLO`] is charged when answered without usage: its estimate.
pub(super) fn estimate_of_hello() -> u64 {
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(BUDGET)));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    host.response_body = br#"{"choices":[]}"#.to_vec();
    req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
    req.on(&host, Event::Log);
    let estimate = spent(&host).unwrap_or(0);
    assert!(estimate > 0);
    estimate
}

/// A whole answer without its usage is charged no less than the output it holds (a token per
/// four bytes, as the estimate counts) and its input: a long one was charged the estimate's
/// default length.
#[test]
fn a_long_answer_without_usage_is_charged_the_output_it_holds() {
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(BUDGET)));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    let text = "word ".repeat(800);
    host.response_body = format!(r#"{{"choices":[{{"index":0,"message":{{"role":"assistant","content":"{text}"}},"finish_reason":"stop"}}]}}"#).into_bytes();
    req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
    req.on(&host, Event::Log);
    // 4,000 bytes: 1,000 tokens out at $2 per million, and the input's estimate at $1.
    let spent = spent(&host).unwrap_or(0);
    assert!((2_000_000..2_010_000).contains(&spent), "{spent}");
    assert!(spent > estimate_of_hello());
}

/// A client that leaves while its provider has not answered (a disconnect before the response
/// headers, or during a fallback) is charged the estimate, as an answer without usage is: the
/// provider still bills the work. Before, it settled nothing, and a client could spend past its
/// limit by hanging up on every request.
#[test]
fn a_request_left_unanswered_by_its_client_is_charged_its_estimate() {
    let extra = BUDGET;
    let estimate = estimate_of_hello();

    // What the metrics say of it: one request the client closed, under the provider that had
    // it, and its charge under the same (it was in the budgets only).
    let counted = |host: &super::Fake, provider: &str| {
        let counters = host.counters.borrow();
        let request = format!(
            "requests.tier.economy.prefer.balanced.provider.{provider}.model.m.outcome.client_closed"
        );
        let cost: u64 = counters.iter().filter(|(k, _)| k.starts_with("cost_nanousd")).map(|(_, v)| *v).sum();
        (
            counters.get(&request).copied(),
            cost,
            counters.get(&format!("cost_nanousd.provider.{provider}.model.m")).copied(),
        )
    };

    // Gone before the response headers.
    let host = chat(HELLO);
    let mut req = Request::new(Some(config(extra)));
    let first = cluster_of(&route(&mut req, &host)).unwrap_or_default();
    req.on(&host, Event::Log);
    assert_eq!(spent(&host), Some(estimate));
    assert_eq!(counted(&host, &first), (Some(1), estimate, Some(estimate)));

    // Gone while a fallback runs: the first provider failed, the second has the request.
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(extra)));
    let first = cluster_of(&route(&mut req, &host)).unwrap_or_default();
    host.response_headers = pairs(&[(":status", "503")]);
    let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    assert!(step.effects.iter().any(|e| matches!(e, crate::io::Effect::Call { .. })), "{step:?}");
    req.on(&host, Event::Dispatched { sent: true });
    req.on(&host, Event::Log);
    assert_eq!(spent(&host), Some(estimate));
    let second = if first == "a" { "b" } else { "a" };
    assert_eq!(counted(&host, second), (Some(1), estimate, Some(estimate)));

    // A provider's refusal is not billed: nothing.
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(extra)));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "422"), ("content-type", "application/json")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    host.response_body = br#"{"error":{"message":"no"}}"#.to_vec();
    req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
    req.on(&host, Event::Log);
    assert_eq!(spent(&host), Some(0));
}

/// A fallback call the router's timeout ended (Envoy answers it with a local 504) had a
/// provider working on it: its estimate is charged beside what the answering attempt cost. A
/// provider's own quick 504 is not.
#[test]
fn a_fallback_that_never_answered_is_charged_beside_the_answer() {
    let extra = BUDGET;
    let estimate = estimate_of_hello();

    // (the fallback's 504 came after this many ms, charged beside the answer)
    // (a timeout the host's clock reads as a little short of it is one all the same; a
    // provider's own 504, with its upstream time, is not, however late)
    for (after_ms, upstream, lost) in
        [(300_000, false, estimate), (299_998, false, estimate), (2_000, false, 0), (299_998, true, 0)]
    {
        let mut host = chat(HELLO);
        let mut req = Request::new(Some(config(extra)));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "503")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        req.on(&host, Event::Dispatched { sent: true });
        host.call_headers = pairs(&[(":status", "504")]);
        if upstream {
            host.call_headers.extend(pairs(&[("x-envoy-upstream-service-time", "299990")]));
        }
        host.now_ns += after_ms * 1_000_000;
        let step = req.on(&host, Event::CallResponse { body_size: 0 });
        assert!(step.effects.iter().any(|e| matches!(e, crate::io::Effect::Call { .. })), "{step:?}");
        req.on(&host, Event::Dispatched { sent: true });
        host.call_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
        host.call_body = br#"{"choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":500}}"#.to_vec();
        req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
        req.on(&host, Event::Log);
        // 1000 in + 500 out at 1 and 2 USD per million: 0.002 USD, and a lost attempt's estimate.
        assert_eq!(spent(&host), Some(2_000_000 + lost), "after {after_ms} ms");
    }
}

/// The first attempt ended by Envoy's own timeout (the route's `per_try_idle_timeout`: a 504
/// of Envoy's) left the provider working on the request, as a fallback's does: its estimate is
/// charged beside the answer. It was charged nothing. A provider's own 504 is not charged.
#[test]
fn a_first_attempt_ended_by_envoys_timeout_is_charged_beside_the_answer() {
    let estimate = estimate_of_hello();
    for (details, lost) in [
        (Some("upstream_per_try_idle_timeout"), estimate),
        (Some("upstream_response_timeout"), estimate),
        (Some("stream_idle_timeout"), estimate),
        (Some("via_upstream"), 0),
        (None, 0),
    ] {
        let mut host = chat(HELLO);
        host.details = details.map(str::to_string);
        let mut req = Request::new(Some(config(BUDGET)));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "504")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        req.on(&host, Event::Dispatched { sent: true });
        host.call_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
        host.call_body = br#"{"choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":500}}"#.to_vec();
        req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
        req.on(&host, Event::Log);
        assert_eq!(spent(&host), Some(2_000_000 + lost), "{details:?}");
        // The lost attempt's charge is counted under its own provider: the series add up.
        let counters = host.counters.borrow();
        let cost: u64 = counters.iter().filter(|(k, _)| k.starts_with("cost_nanousd")).map(|(_, v)| *v).sum();
        assert_eq!(cost, 2_000_000 + lost, "{details:?}: {counters:?}");
    }
    // With no candidate left, the lost attempt alone.
    let mut host = chat(HELLO);
    host.details = Some("upstream_per_try_idle_timeout".into());
    let mut req = Request::new(Some(config(&format!(r#"{BUDGET},"resilience":{{"max_attempts":1}}"#))));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "504")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    req.on(&host, Event::Log);
    assert_eq!(spent(&host), Some(estimate));
}

/// A stream that ends before its usage chunk, because the client left after reading the
/// answer or the stream was cut, was charged the estimate (512 output tokens by default),
/// however long it ran: a client could read a long answer and hang up for a fraction of its
/// price. Each event passed on carries at least a token: it is charged no less than that.
#[test]
fn a_stream_ended_before_its_usage_is_charged_at_least_what_it_passed_on() {
    let estimate = estimate_of_hello();
    let event = r#"data: {"choices":[{"index":0,"delta":{"content":"word "}}]}"#;
    // (events passed on, how the stream ends: false for the client leaving, true for a cut)
    for (events, cut) in [(2_000u64, false), (2_000, true), (3, false)] {
        let mut host = chat(STREAM_HELLO);
        let mut req = Request::new(Some(config(BUDGET)));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        // Two chunks: one ending between events, one cut inside one (not counted).
        let half = events / 2;
        let mut chunks = vec![format!("{event}\n\n").repeat(half as usize)];
        chunks.push(format!("{}{}", format!("{event}\n\n").repeat((events - half) as usize), &event[..20]));
        for (i, chunk) in chunks.iter().enumerate() {
            host.response_body = chunk.as_bytes().to_vec();
            let end = cut && i + 1 == chunks.len();
            req.on(&host, Event::ResponseBody { size: chunk.len(), end_of_stream: end });
        }
        req.on(&host, Event::Log);
        // At 2 USD per million output tokens, a token per four bytes of text (five an event,
        // more than a token per event) up to the 1,000 its model writes (2,000 events of one
        // token of 10,000 bytes were charged $34 where the model could bill a cent), and the
        // input's estimate (at 1 USD per million) beside them.
        // (Each amount is rounded up to a nano-USD on its own: within 1 of the sum.)
        let input = estimate - 512 * 2_000;
        let want = estimate.max((events * 5).div_ceil(4).min(1_000) * 2_000 + input);
        let got = spent(&host).unwrap_or_default();
        assert!(got.abs_diff(want) <= 1, "{events} events, cut: {cut}: {got} against {want}");
        // The cost metric counts what the budget was charged (it counted nothing).
        let counters = host.counters.borrow();
        let cost: u64 = counters.iter().filter(|(k, _)| k.starts_with("cost_nanousd")).map(|(_, v)| *v).sum();
        assert_eq!(cost, got, "{counters:?}");
    }
}

/// The same on a fallback's stream, which the router reads whole: one without its usage chunk
/// was charged the estimate however long it ran.
#[test]
fn a_fallbacks_stream_without_usage_is_charged_at_least_what_it_passed_on() {
    let event = r#"data: {"choices":[{"index":0,"delta":{"content":"word "}}]}"#;
    // Capped at 20 tokens (its estimate's output), it passes more: up to the 1,000 its model
    // writes.
    for (events, tokens) in [(64, 80), (2_000, 1_000)] {
        let mut host =
            chat(&STREAM_HELLO.replacen(r#""stream":true"#, r#""stream":true,"max_tokens":20"#, 1));
        let mut req = Request::new(Some(config(BUDGET)));
        super::failed_over(&mut req, &mut host);
        host.call_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
        host.call_body = format!("{}data: [DONE]\n\n", format!("{event}\n\n").repeat(events)).into_bytes();
        req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
        req.on(&host, Event::Log);
        // A token per four bytes of text (5 an event) up to the 1,000 its model writes, at 2 USD
        // per million, and the input's estimate at 1.
        let input = estimate_of_hello() - 512 * 2_000;
        let got = spent(&host).unwrap_or_default();
        assert!(got.abs_diff(tokens * 2_000 + input) <= 1, "{events}: {got}");
    }
}

/// A fallback that answers without usage is charged its own estimate: it was charged the
/// first candidate's, which a dearer fallback passes (here the first is free, so nothing).
#[test]
fn a_fallback_answering_without_usage_is_charged_its_own_estimate() {
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(&format!(r#"{BUDGET},"free":["a/m"]"#))));
    let step = route(&mut req, &host);
    assert_eq!(cluster_of(&step).as_deref(), Some("a"), "the free one first");
    host.response_headers = pairs(&[(":status", "503")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    req.on(&host, Event::Dispatched { sent: true });
    host.call_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    host.call_body = br#"{"choices":[]}"#.to_vec();
    req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
    req.on(&host, Event::Log);
    assert_eq!(spent(&host), Some(estimate_of_hello()));
}

/// A routed request the host could not rewrite never goes out (the glue answers 500): it was
/// charged its estimate as if in flight, and the glue's own 500 was taken for the provider's,
/// counted against it and failed over.
#[test]
fn a_request_the_host_could_not_send_is_charged_nothing_and_blames_no_provider() {
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(BUDGET)));
    let step = route(&mut req, &host);
    let provider = cluster_of(&step).unwrap_or_default();
    req.on(&host, Event::Unsent);
    host.response_headers = pairs(&[(":status", "500"), ("content-type", "application/json")]);
    let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    assert!(step.effects.is_empty(), "{step:?}");
    req.on(&host, Event::Log);
    assert_eq!(spent(&host), Some(0));
    let health = host.shared.borrow().get(&model_router_scorer::health::provider_key(&provider)).cloned();
    assert!(health.is_none(), "{health:?}");
}

/// A client id names a spend record kept in shared data until Envoy restarts: one of 20 KB
/// was taken (and each new one kept); an empty one named a client "".
#[test]
fn a_client_id_too_long_or_sent_twice_is_refused_and_an_empty_one_names_no_one() {
    let extra = r#","client_header":"x-team","budgets":{"client_default_usd":1}"#;
    // Sent twice, the first copy named the client: a filter in front that appends the
    // authenticated value left the client's own first.
    for ids in [vec!["t".repeat(257)], vec!["bob".to_string(), "alice".to_string()]] {
        let mut host = chat(HELLO);
        host.request_headers.extend(ids.iter().map(|id| ("x-team".to_string(), id.clone())));
        let step = route(&mut Request::new(Some(config(extra))), &host);
        let refused =
            step.effects.iter().any(|e| matches!(e, crate::io::Effect::Respond { status: 400, .. }));
        assert!(refused, "{ids:?}: {step:?}");
    }
    let mut host = chat(HELLO);
    host.request_headers.push(("x-team".into(), " ".into()));
    let mut req = Request::new(Some(config(extra)));
    route(&mut req, &host);
    req.on(&host, Event::Log);
    assert!(
        !host.shared.borrow().keys().any(|k| k.contains("spend.client")),
        "{:?}",
        host.shared.borrow().keys()
    );
}

/// A client the configuration does not name (held to `client_default_usd`) is limited as any,
/// but its metrics do not carry its id: the id is the caller's to choose, and each new one
/// would be a metric Envoy keeps for good.
#[test]
fn clients_the_configuration_does_not_name_share_one_metric_label() {
    let extra = r#","client_header":"x-team","budgets":{"client_default_usd":1,"clients":{"team.a":1}}"#;
    for (client, named) in [("team.a", true), ("random-7f3a", false)] {
        let mut host = chat(HELLO);
        host.request_headers.push(("x-team".into(), client.into()));
        let mut req = Request::new(Some(config(extra)));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        host.response_body =
            br#"{"choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":500}}"#.to_vec();
        req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
        req.on(&host, Event::Log);
        let counters = host.counters.borrow();
        let segment = client.replace('.', "_");
        assert_eq!(
            counters.contains_key(&format!("client_cost_nanousd.client.{segment}")),
            named,
            "{counters:?}"
        );
        assert_eq!(counters.contains_key("client_cost_nanousd.client.other"), !named, "{counters:?}");
        let gauges = counters.keys().filter(|k| k.starts_with("budget_spent_nanousd.scope.client")).count();
        assert_eq!(gauges, usize::from(named), "{counters:?}");
        // Its spend is kept all the same: the limit holds.
        let key = format!("{}client.{client}", model_router_scorer::budget::KEY_PREFIX);
        assert!(host.shared.borrow().contains_key(&key), "{client}");
    }
}

/// An embeddings request embeds up to thousands of inputs, each up to the model's window: its
/// usage is charged as reported, not bounded by the window as a chat answer's is, but by what
/// 2,048 inputs can hold (a runaway count spent the day's budget in one request).
#[test]
fn an_embeddings_batch_is_charged_all_it_reported() {
    let catalog = r#"{"providers":{"a":{}},"models":[{"id":"m","tier":"economy","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2,"quality":60},{"id":"s","tier":"standard","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2,"quality":70},{"id":"x","tier":"premium","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2,"quality":80},{"id":"emb","tier":"embedding","provider":"a","api":"embeddings","context_window":100,"dimensions":8,"price_in":1,"price_out":0,"alias":"embed-small"}]}"#;
    let config = model_router_scorer::Config::from_json(format!(r#"{{"catalog":{catalog}}}"#).as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let shared = std::rc::Rc::new(crate::shared::Shared::new(config, std::collections::HashMap::new()));
    // 50,000 tokens at $1 per million, though the window is 100; a runaway count at 2,048
    // inputs of twice the window, 409,600 tokens.
    for (tokens, want) in [(50_000_u64, "0.05000000"), (1_000_000_000_000, "0.40960000")] {
        let mut host = chat(r#"{"model":"embed-small","input":["a","b"]}"#);
        host.request_headers =
            pairs(&[(":method", "POST"), (":path", "/v1/embeddings"), ("content-type", "application/json")]);
        let mut req = Request::new(Some(shared.clone()));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        host.response_body = format!(
            r#"{{"object":"list","data":[],"usage":{{"prompt_tokens":{tokens},"total_tokens":{tokens}}}}}"#
        )
        .into_bytes();
        let step = req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
        assert_eq!(set_response(&step, "x-model-router-cost").as_deref(), Some(want), "{step:?}");
    }
}
