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
    let text = "word ".repeat(800);
    let answer = format!(
        r#"{{"choices":[{{"index":0,"message":{{"role":"assistant","content":"{text}"}},"finish_reason":"stop"}}]}}"#
    );
    // Metered: passed on in two chunks, past a 16-byte hold limit.
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(
        r#","budgets":{"daily_usd":2},"resilience":{"max_held_response_bytes":16}"#,
    )));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "200")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    let (head, tail) = answer.split_at(40);
    host.response_body = head.as_bytes().to_vec();
    req.on(&host, Event::ResponseBody { size: 40, end_of_stream: false });
    host.response_body = tail.as_bytes().to_vec();
    req.on(&host, Event::ResponseBody { size: tail.len(), end_of_stream: true });
    req.on(&host, Event::Log);
    // Its bytes at a token per four, $2 per million out, and the input's estimate.
    let floor = answer.len().div_ceil(4) as u64 * 2_000;
    let spent = host.counters.borrow().get("budget_spent_nanousd.scope.global").copied().unwrap_or(0);
    assert!((floor..floor + 10_000).contains(&spent), "{spent} for {floor}");
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
