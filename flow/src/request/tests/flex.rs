//! Flex capacity (`service_tier: "flex"`) used up: the provider's spare capacity, not its
//! health.

use model_router_scorer::route::Upstream;

use super::breaker::first_attempt;
use super::{Fake, HELLO, chat, config};

/// Flex capacity used up (Groq's 498, OpenAI's 429 to a flex request) opened the provider's
/// breaker, and every client's other requests went elsewhere: it says nothing of the provider's
/// health now, while the same 429 to a request without flex still counts.
#[test]
fn flex_capacity_used_up_opens_no_breaker() {
    let shared = config(r#","resilience":{"failures":2,"cooldown_secs":10,"probes":1}"#);
    let mut host = chat(&HELLO.replacen('{', r#"{"service_tier":"flex","#, 1));
    let first = first_attempt(&shared, &mut host, 498);
    for status in [498, 429, 498, 429] {
        assert_eq!(first_attempt(&shared, &mut host, status), first, "{status}");
    }
    let opened =
        |host: &Fake| host.counters.borrow().get(&format!("breaker_state.provider.{first}")).copied();
    assert_ne!(opened(&host), Some(1));
    let mut host = chat(HELLO);
    for _ in 0..2 {
        assert_eq!(first_attempt(&shared, &mut host, 429), first);
    }
    assert_eq!(opened(&host), Some(1));
}

/// Only a chat or Responses body carries the client's `service_tier` on: the Messages and
/// Converse translations send none, so a 429 to them is the provider's own (a flex request's
/// exempted Anthropic's rate limits).
#[test]
fn flex_is_sent_only_in_a_chat_body() {
    use model_router_scorer::catalog::Api;

    use crate::request::flight::Flight;
    let config = model_router_scorer::Config::from_json(b"").unwrap_or_else(|e| panic!("{e}"));
    let body = br#"{"model":"economy","service_tier":"flex","messages":[{"role":"user","content":"hi"}]}"#;
    let parsed = model_router_scorer::request::parse_chat(body).map(|r| r.layout().clone());
    let layout = parsed.unwrap_or_else(|e| panic!("{e}"));
    let to = |api| Upstream { api, ..Upstream::new(&config, "m", "p", "p", "m", "/chat/completions") };
    let flex = |api| Flight { layout: layout.clone(), ..Flight::new(to(api), 0) }.flex_sent();
    assert!(flex(Api::Chat) && flex(Api::Responses));
    assert!(!flex(Api::Messages) && !flex(Api::BedrockConverse));
}
