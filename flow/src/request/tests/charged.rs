//! What an answer is charged from its usage: each of `n` choices bills its own output, and a
//! whole answer without usage no less than the output it holds.

use super::*;

/// Each of `n` choices writes its own answer: usage within what `n` answers can bill is charged
/// whole (nine choices of a 32,768-token model were charged as if one wrote twice its window,
/// and a client's limit let 94% of an n=128 answer through uncounted), and bounded beyond.
#[test]
fn the_choices_asked_for_each_bill_their_own_output() {
    for (n, out, cost) in [(3, 5_000, "0.01001000"), (3, 7_000, "0.01201000"), (1, 5_000, "0.00401000")] {
        let mut host =
            chat(&HELLO.replace(r#""model":"economy","#, &format!(r#""model":"economy","n":{n},"#)));
        let mut req = Request::new(Some(config("")));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        let choices: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"index":{i},"message":{{"content":"hi"}},"finish_reason":"stop"}}"#))
            .collect();
        host.response_body = format!(
            r#"{{"choices":[{}],"usage":{{"prompt_tokens":10,"completion_tokens":{out}}}}}"#,
            choices.join(",")
        )
        .into_bytes();
        let step = req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
        // Window 1,000: 10 in at $1 and at most 2,000 out per choice at $2 per million.
        assert_eq!(
            set_response(&step, "x-model-router-cost").as_deref(),
            Some(cost),
            "n={n} out={out}: {step:?}"
        );
    }
}

/// An answer too large to hold, without usage, is charged no less than a token per four bytes
/// it passed; a fallback's whole answer, no less than the output it holds.
#[test]
fn answers_passed_unheld_or_from_a_fallback_without_usage_are_charged_what_they_hold() {
    let answer_of = |text: &str| {
        format!(
            r#"{{"choices":[{{"index":0,"message":{{"role":"assistant","content":"{text}"}},"finish_reason":"stop"}}]}}"#
        )
    };
    // Metered: passed on in two chunks, past a 16-byte hold limit (estimated 10 tokens out).
    // Its bytes at a token per four, $2 per million out, and the input's estimate; at most the
    // model's whole output (1,000 tokens), its JSON not all answer.
    for (words, tokens) in [(50, None), (800, Some(1_000))] {
        let answer = answer_of(&"word ".repeat(words));
        let (head, tail) = answer.split_at(40);
        let spent = metered(&[head, tail], None);
        let floor = tokens.unwrap_or(answer.len().div_ceil(4) as u64) * 2_000;
        assert!((floor..floor + 10_000).contains(&spent), "{words} words: {spent} for {floor}");
    }
    let text = "word ".repeat(800);
    let answer = answer_of(&text);
    // A fallback's whole answer.
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(r#","budgets":{"daily_usd":2},"resilience":{"max_attempts":2}"#)));
    failed_over(&mut req, &mut host);
    host.call_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    host.call_body = answer.as_bytes().to_vec();
    req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
    req.on(&host, Event::Log);
    let spent = host.counters.borrow().get("budget_spent_nanousd.scope.global").copied().unwrap_or(0);
    // 4,000 bytes of text: 1,000 tokens at $2 per million (and the lost attempt's estimate).
    assert!(spent >= 2_000_000, "{spent}");
}

/// An answer too large to hold that ends before the usage at its end (its client left, its
/// provider reset or stalled) is charged no less than a token per four bytes it passed, as one
/// that reached its end without usage is: it was charged the estimate of a default length.
#[test]
fn an_answer_passed_unheld_and_cut_before_its_usage_is_charged_what_it_passed() {
    // 80 tokens of the model's 100, against an estimate of 10.
    let answer = format!(r#"{{"choices":[{{"index":0,"message":{{"content":"{}"#, "word ".repeat(56));
    for details in ["downstream_remote_disconnect", "upstream_reset_after_response_started{remote_reset}"] {
        let spent = metered(&[&answer], Some(details));
        // Its bytes at a token per four, $2 per million out, and the input's estimate.
        let floor = answer.len().div_ceil(4) as u64 * 2_000;
        assert!((floor..floor + 10_000).contains(&spent), "{details}: {spent} for {floor}");
    }
}

/// What an answer passed on unheld (past a 16-byte hold limit; estimated 10 tokens out) in
/// `chunks` was charged, nano-USD: its last chunk its end when `details` is `None`, else the
/// request ended with Envoy's `details` before its end.
fn metered(chunks: &[&str], details: Option<&str>) -> u64 {
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(
        r#","budgets":{"daily_usd":2},"default_output_tokens":10,"resilience":{"max_held_response_bytes":16}"#,
    )));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "200")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    for (i, chunk) in chunks.iter().enumerate() {
        host.response_body = chunk.as_bytes().to_vec();
        let end = details.is_none() && i + 1 == chunks.len();
        req.on(&host, Event::ResponseBody { size: chunk.len(), end_of_stream: end });
    }
    host.details = details.map(str::to_string);
    req.on(&host, Event::Log);
    let spent = host.counters.borrow().get("budget_spent_nanousd.scope.global").copied();
    spent.unwrap_or(0)
}

/// A non-streamed request under an output ceiling (a Messages `max_tokens`) left before its
/// answer is charged what the ceiling reserved, as a cap that sizes the answer is: its provider
/// writes on. Streamed, or without a ceiling, its estimate.
#[test]
fn a_request_under_a_ceiling_left_unanswered_is_charged_its_ceiling_unless_streamed() {
    // 80 tokens out at $2 per million against an estimate of 10, and the input's.
    for (stream, ceiling, charged) in [(false, true, 160_000), (true, true, 20_000), (false, false, 160_000)]
    {
        let cap = if ceiling { r#""max_tokens_ceiling":true,"max_tokens":80"# } else { r#""max_tokens":80"# };
        let body = format!(
            r#"{{"model":"economy","stream":{stream},{cap},"messages":[{{"role":"user","content":"hello"}}]}}"#
        );
        let host = chat(&body);
        let mut req = Request::new(Some(config(r#","budgets":{"daily_usd":2},"default_output_tokens":10"#)));
        route(&mut req, &host);
        req.on(&host, Event::Log);
        let spent = host.counters.borrow().get("budget_spent_nanousd.scope.global").copied().unwrap_or(0);
        assert!((charged..charged + 10_000).contains(&spent), "stream {stream}, ceiling {ceiling}: {spent}");
    }
}

/// With `budgets.reserve_max_output`, an uncapped non-streamed request left before its answer
/// was charged `default_output_tokens`, not the whole output it reserved, which its provider
/// may write for no one: a client leaving each request spent 15 times its limit. Streamed (its
/// provider stops when the router hangs up), its estimate.
#[test]
fn with_reserve_max_output_an_uncapped_request_left_unanswered_is_charged_its_reservation() {
    // The model's whole 1,000 tokens out at $2 per million against an estimate of 10.
    for (stream, charged) in [(false, 2_000_000), (true, 20_000)] {
        let body = format!(
            r#"{{"model":"economy","stream":{stream},"messages":[{{"role":"user","content":"hello"}}]}}"#
        );
        let host = chat(&body);
        let budgets = r#","budgets":{"daily_usd":2,"reserve_max_output":true},"default_output_tokens":10"#;
        let mut req = Request::new(Some(config(budgets)));
        route(&mut req, &host);
        req.on(&host, Event::Log);
        let spent = host.counters.borrow().get("budget_spent_nanousd.scope.global").copied().unwrap_or(0);
        assert!((charged..charged + 10_000).contains(&spent), "stream {stream}: {spent}");
    }
    // Streamed, but left while a fallback was out: nothing cancels the router's call, and its
    // provider writes its whole answer for no one: its reservation (it was charged 10 tokens).
    let mut host =
        chat(r#"{"model":"economy","stream":true,"messages":[{"role":"user","content":"hello"}]}"#);
    let budgets = r#","budgets":{"daily_usd":2,"reserve_max_output":true},"default_output_tokens":10"#;
    let mut req = Request::new(Some(config(budgets)));
    super::failed_over(&mut req, &mut host);
    req.on(&host, Event::Log);
    let spent = host.counters.borrow().get("budget_spent_nanousd.scope.global").copied().unwrap_or(0);
    assert!((2_000_000..2_010_000).contains(&spent), "a fallback left: {spent}");
}

/// The output an answer without usage is charged no less than is priced at the rates of its
/// input's length: a long input's dearer output (a 300k-token request's answer was floored at
/// the base output price, 12% under its provider's bill).
#[test]
fn a_long_inputs_output_floor_is_at_the_long_rate() {
    let json = r#"{"catalog":{"providers":{"oa":{}},"models":[{"id":"g","tier":"economy","provider":"oa","context_window":400000,"max_output":100,"price_in":1.0,"price_out":2.0,"quality":50,"long_context":{"above":1000,"price_in":2.0,"price_out":4.0}},{"id":"s","tier":"standard","provider":"oa","context_window":1000,"max_output":100,"price_in":1.0,"price_out":1.0,"quality":50},{"id":"p","tier":"premium","provider":"oa","context_window":1000,"max_output":100,"price_in":1.0,"price_out":1.0,"quality":50}]}}"#;
    let config = model_router_scorer::Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let to = model_router_scorer::route::Upstream::chat(&config, &config.catalog.deployments[0], false);
    // 1,000 tokens at $4 and at $2 per million.
    assert_eq!(crate::request::flight::output_nano(&to, 2_000, 1_000), 4_000_000);
    assert_eq!(crate::request::flight::output_nano(&to, 1_000, 1_000), 2_000_000);
}

/// A fallback whose answer was lost after it began (no status: reset, or over what Envoy
/// buffers of a call's answer, 32 MiB) was billed by its provider: the next candidate, billed
/// too and lost the same way, is not tried. The router's 502 tells the SDK not to retry.
#[test]
fn a_fallback_answer_lost_after_it_began_is_not_asked_of_another() {
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":3}"#)));
    failed_over(&mut req, &mut host);
    host.call_headers = Vec::new();
    host.call_body = Vec::new();
    let step = req.on(&host, Event::CallResponse { body_size: 0 });
    assert!(!step.effects.iter().any(|e| matches!(e, Effect::Call { .. })), "{step:?}");
    let (status, json, headers) = respond(&step).unwrap_or_else(|| panic!("no reply: {step:?}"));
    let should = headers.iter().find(|(k, _)| k == "x-should-retry").map(|(_, v)| v.as_str());
    assert_eq!((status, should), (502, Some("false")), "{json}");
    assert!(
        host.logs.borrow().iter().any(|l| l.contains("was lost after it began")),
        "{:?}",
        host.logs.borrow()
    );
}

/// A provider that reports runaway usage (here 10^12 output tokens) is charged what its model
/// can bill, each choice twice its client's cap at most, or twice the window without one (a
/// day's budget went in one answer, and every client was refused until midnight; one answer of
/// 100 choices capped at 10 tokens was charged $1,680), and the log says so.
#[test]
fn a_runaway_usage_is_charged_what_the_model_can_bill() {
    // 10 in at $1 and out at $2 per million: 2,000 out a choice under a cap of 1,000, or
    // without one on a window of 1,000; 200,000 on `big`'s window of 100,000.
    for (model, extra, want) in [
        ("economy", "", "0.00401000"),
        ("big", r#","max_tokens":1000"#, "0.00401000"),
        ("big", r#","max_tokens":1000,"n":3"#, "0.01201000"),
        ("big", "", "0.40001000"),
    ] {
        let mut host = chat(&format!(
            r#"{{"model":"{model}"{extra},"messages":[{{"role":"user","content":"hello"}}]}}"#
        ));
        let mut req = Request::new(Some(config("")));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        host.response_body =
            br#"{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":10,"completion_tokens":1000000000000}}"#.to_vec();
        let step = req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
        assert_eq!(
            set_response(&step, "x-model-router-cost").as_deref(),
            Some(want),
            "{model}{extra}: {step:?}"
        );
        assert!(
            host.logs.borrow().iter().any(|l| l.contains("reported usage beyond")),
            "{:?}",
            host.logs.borrow()
        );
    }
}
