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
