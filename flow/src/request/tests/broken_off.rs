//! A stream that breaks off after its last event (its provider resetting the connection, or
//! its client leaving then) is whole: priced by its usage, counted ok.

use super::{Fake, chat, config, pairs, route};
use crate::io::Event;
use crate::request::Request;

/// A routed stream's 200 headers, then `stream` (not its end), then the request ended with
/// Envoy's `details`.
pub(super) fn streamed_then_ended(host: &mut Fake, req: &mut Request, stream: &str, details: &str) {
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
    req.on(host, Event::ResponseHeaders { end_of_stream: false });
    host.response_body = stream.as_bytes().to_vec();
    req.on(host, Event::ResponseBody { size: stream.len(), end_of_stream: false });
    host.details = Some(details.into());
    req.on(host, Event::Log);
}

/// A stream whose provider said its answer ended before it broke off (its provider reset the
/// connection, or its client left) is charged the usage it reported, not its estimate; it
/// counts ok only when its client got its end (`[DONE]`), else it is cut as before: by the
/// provider, `upstream_error`, or by the client, `client_closed`. One cut before its end is
/// charged its estimate.
#[test]
fn a_stream_that_breaks_off_after_its_last_event_is_charged_its_usage() {
    let whole = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":100}}\n\n";
    let cut = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n";
    // (name, stream, charged its usage, its client got its end)
    for (name, stream, priced, delivered) in [
        ("done", format!("{whole}data: [DONE]\n\n"), true, true),
        ("usage after finish", whole.to_string(), true, false),
        ("cut", cut.to_string(), false, false),
    ] {
        for (details, cut_by) in [
            ("upstream_reset_after_response_started{remote_reset}", "outcome.upstream_error"),
            ("downstream_remote_disconnect", "outcome.client_closed"),
        ] {
            let body = r#"{"model":"economy","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello"}]}"#;
            let mut host = chat(body);
            let mut req = Request::new(Some(config("")));
            route(&mut req, &host);
            streamed_then_ended(&mut host, &mut req, &stream, details);
            let counters = host.counters.borrow();
            let cost: u64 =
                counters.iter().filter(|(k, _)| k.starts_with("cost_nanousd")).map(|(_, v)| *v).sum();
            let ended = |o: &str| counters.keys().any(|k| k.starts_with("requests.") && k.ends_with(o));
            // 10 in at 1 USD and 100 out at 2 USD per million, not the estimate (512 out).
            assert_eq!(cost == 210_000, priced, "{name} {details}: {counters:?}");
            let outcome = if delivered { "outcome.ok" } else { cut_by };
            assert!(ended(outcome), "{name} {details}: {counters:?}");
            assert_eq!(
                counters.contains_key("stream_failed"),
                !delivered && cut_by.ends_with("upstream_error")
            );
        }
    }
}

/// A stream whose provider sent no usage, broken off past its `[DONE]` (its provider reset the
/// connection, or its client left), is charged no less than what it passed on, as one whose
/// end the router saw: it was charged its bare estimate (here 20 tokens out for 80 events, of
/// a model that writes up to 100).
#[test]
fn a_stream_without_usage_broken_off_past_its_end_is_charged_what_it_passed() {
    let events = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n".repeat(80);
    let stream = format!(
        "{events}data: {{\"choices\":[{{\"delta\":{{}},\"finish_reason\":\"length\"}}]}}\n\ndata: [DONE]\n\n"
    );
    for details in ["upstream_reset_after_response_started{remote_reset}", "downstream_remote_disconnect"] {
        let body = r#"{"model":"economy","stream":true,"max_tokens":20,"messages":[{"role":"user","content":"hello"}]}"#;
        let mut host = chat(body);
        let mut req = Request::new(Some(config("")));
        route(&mut req, &host);
        streamed_then_ended(&mut host, &mut req, &stream, details);
        let counters = host.counters.borrow();
        let cost: u64 = counters.iter().filter(|(k, _)| k.starts_with("cost_nanousd")).map(|(_, v)| *v).sum();
        // 81 events at $2 per million out.
        assert!(cost >= 81 * 2_000, "{details}: {counters:?}");
        assert!(
            counters.keys().any(|k| k.starts_with("requests.") && k.ends_with("outcome.ok")),
            "{counters:?}"
        );
    }
}

/// An Anthropic stream broken off after `message_delta` said why it stopped and what it used,
/// before `message_stop` (which adds nothing): charged that usage, though cut (its client
/// never got its end). Before it said so: its estimate.
#[test]
fn an_anthropic_stream_broken_off_after_its_stop_reason_is_charged_its_usage() {
    use super::native::{ANTHROPIC_DELTA, ANTHROPIC_START, anthropic_stream, config};
    let delta = "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":20}}\n\n";
    for (name, stream, priced) in [
        ("after message_delta", format!("{ANTHROPIC_START}{ANTHROPIC_DELTA}{delta}"), true),
        ("before it", format!("{ANTHROPIC_START}{ANTHROPIC_DELTA}"), false),
    ] {
        let (mut host, mut req) = anthropic_stream(config());
        host.response_body = stream.clone().into_bytes();
        req.on(&host, Event::ResponseBody { size: stream.len(), end_of_stream: false });
        host.details = Some("upstream_reset_after_response_started{remote_reset}".into());
        req.on(&host, Event::Log);
        let counters = host.counters.borrow();
        let cost: u64 = counters.iter().filter(|(k, _)| k.starts_with("cost_nanousd")).map(|(_, v)| *v).sum();
        let cut =
            counters.keys().any(|k| k.starts_with("requests.") && k.ends_with("outcome.upstream_error"));
        // 10 in and 20 out at 3 USD per million.
        assert_eq!((cut, cost == 90_000), (true, priced), "{name}: {counters:?}");
    }
}

/// A stream its client left after its provider counted the input (an Anthropic
/// `message_start`) is charged that count no further than its model's window holds, as a
/// whole answer's usage is: one that said 10^12 input tokens was charged $3,000,000, and every
/// request after it refused for the day.
#[test]
fn a_left_streams_reported_input_is_charged_within_its_models_window() {
    let (mut host, mut req) =
        super::native::anthropic_stream(super::native::config_with(r#","budgets":{"daily_usd":100}"#));
    let delta = r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#;
    let start = super::native::message_start(1_000_000_000_000);
    host.response_body = format!("{start}event: content_block_delta\ndata: {delta}\n\n").into_bytes();
    req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: false });
    req.on(&host, Event::Log);
    let spent = host.counters.borrow().get("budget_spent_nanousd.scope.global").copied().unwrap_or(0);
    // Twice its 100,000-token window at 3 USD per million, and its estimate's 512 tokens out.
    assert_eq!(spent, 600_000_000 + 512 * 3_000);
}
