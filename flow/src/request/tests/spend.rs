//! Budget reservations: made in every scope or none, settled on their own day, given back
//! when never settled, topped up before a dearer fallback is called, and none for a free model.

use super::{HELLO, chat, cluster_of, config, pairs, respond, route};
use crate::io::Event;
use crate::request::Request;

/// A reservation the host fails to make in one scope gives back what the scopes before it
/// hold: before, the error left them reserved, and a day's budget shrank by every such amount.
#[test]
fn a_reservation_that_fails_midway_gives_back_what_it_took() {
    let shared = config(r#","client_header":"x-team","budgets":{"daily_usd":2,"clients":{"team.a":1}}"#);
    let scopes = shared.config.budgets.scopes(Some("team.a"));
    let keys: Vec<String> = scopes.iter().map(|s| s.key.clone()).collect();
    assert_eq!(keys.len(), 2);
    let host = super::Fake { failing_key: keys.get(1).cloned(), ..super::Fake::default() };
    let now = 1_700_000_000;
    let r = crate::spend::reserve(&host, scopes.clone(), 1_000, now);
    assert!(r.is_err());
    let view = crate::spend::view(&host, &scopes[..1], now).ok().flatten();
    assert_eq!(view.map(|v| v.left_usd), Some(2.0), "the global scope still holds the amount");
}

/// Two workers reserving in a scope without a record yet both read it absent; the one that
/// wrote second wrote over the first's reservation (a write with token 0 is unconditional), and
/// the limit let in what the lost hold was keeping out (CI saw 16 clients spend $0.0504 of a
/// $0.05 limit). The absent key's token now only creates: the second write fails and retries
/// on the first's record.
#[test]
fn two_workers_creating_a_scopes_record_keep_both_reservations() {
    use crate::io::Host;
    use model_router_scorer::budget::Spend;
    let shared = config(r#","budgets":{"daily_usd":2}"#);
    let scopes = shared.config.budgets.scopes(None);
    let key = scopes.first().map(|s| s.key.clone()).unwrap_or_default();
    let now = 1_700_000_000;
    let mut other = Spend::default().at(now, 3_600);
    assert!(other.reserve(2_000, 2_000_000_000, now, 3_600).is_some());
    let host = super::Fake {
        racing: Some((key.clone(), other.encode().into_bytes())).into(),
        ..super::Fake::default()
    };
    let mine = crate::spend::reserve(&host, scopes.clone(), 1_000, now).ok().flatten();
    assert!(mine.is_some());
    let (bytes, _) = host.shared_get(&key).unwrap_or_default();
    let record = bytes.as_deref().and_then(Spend::decode).unwrap_or_default();
    assert_eq!(record.reserved(), 3_000, "the other worker's hold is kept beside this one's");
}

/// Past UTC midnight one worker rolls a budget record to the new day; a request whose clock
/// read the old day (before its conversation was analysed) rolled it back, with none of the new
/// day's spend, and its reservation was never found again by settling. It now reserves on the
/// new day's record and settles there.
#[test]
fn a_request_that_read_the_clock_before_midnight_keeps_the_new_days_spend() {
    use crate::io::Host;
    use model_router_scorer::budget::Spend;
    let shared = config(r#","budgets":{"daily_usd":2}"#);
    let scopes = shared.config.budgets.scopes(None);
    let key = scopes.first().map(|s| s.key.clone()).unwrap_or_default();
    let host = super::Fake::default();
    let record = || {
        let (bytes, _) = host.shared_get(&key).unwrap_or_default();
        let s = bytes.as_deref().and_then(Spend::decode).unwrap_or_default();
        (s.day, s.spent, s.reserved())
    };
    let midnight = 19_676 * 86_400;
    let after = crate::spend::reserve(&host, scopes.clone(), 500, midnight + 1).ok().flatten();
    let after = after.unwrap_or_else(|| panic!("no reservation"));
    crate::spend::settle(&host, &after, 700, midnight + 2);
    let before = crate::spend::reserve(&host, scopes.clone(), 1_000, midnight - 1).ok().flatten();
    let before = before.unwrap_or_else(|| panic!("no reservation"));
    assert_eq!(record(), (19_676, 700, 1_000));
    crate::spend::settle(&host, &before, 300, midnight + 2);
    assert_eq!(record(), (19_676, 1_000, 0));
}

/// A request that reserves before UTC midnight and ends after it, with no request rolling its
/// scope's record in between, settled on the old day's record (its reservation's time), and
/// the next read, on the new day, erased that spend. It lands on the new day.
#[test]
fn a_request_ending_past_midnight_spends_on_the_new_day() {
    let shared = config(r#","budgets":{"daily_usd":2}"#);
    let scopes = shared.config.budgets.scopes(None);
    let midnight = 19_676 * 86_400;
    let mut host = chat(HELLO);
    host.now_ns = (midnight - 10) * 1_000_000_000;
    let mut req = Request::new(Some(shared.clone()));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    host.response_body = br#"{"choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":500}}"#.to_vec();
    host.now_ns = (midnight + 10) * 1_000_000_000;
    req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
    req.on(&host, Event::Log);
    let left = crate::spend::view(&host, &scopes, midnight + 20).ok().flatten().map(|v| v.left_usd);
    assert!(left.is_some_and(|l| l < 2.0), "{left:?}");
}

/// At midnight one scope's record may already be on the new day (another worker rolled it)
/// while the next is still on the old one. A reservation took one day for all its scopes, so
/// settling it rolled the old-day scope early and erased what other requests held there.
#[test]
fn a_reservation_across_scopes_on_two_days_settles_each_on_its_own() {
    use crate::io::Host;
    use model_router_scorer::budget::Spend;
    let shared = config(r#","client_header":"x-team","budgets":{"daily_usd":2,"clients":{"a":1}}"#);
    let scopes = shared.config.budgets.scopes(Some("a"));
    let keys: Vec<String> = scopes.iter().map(|s| s.key.clone()).collect();
    let host = super::Fake::default();
    let day = 19_676;
    // The client's record is already the new day's; the global one has not turned yet.
    let client_key = keys.get(1).cloned().unwrap_or_default();
    let new_day = Spend { day: day + 1, spent: 0, held: Vec::new() };
    host.shared.borrow_mut().insert(client_key, (new_day.encode().into_bytes(), 1));
    let record = |i: usize| {
        let (bytes, _) = host.shared_get(keys.get(i).map_or("", String::as_str)).unwrap_or_default();
        let s = bytes.as_deref().and_then(Spend::decode).unwrap_or_default();
        (s.day, s.spent, s.reserved())
    };
    let now = (day + 1) * 86_400 - 1;
    let first = crate::spend::reserve(&host, scopes.clone(), 1_000, now).ok().flatten();
    let first = first.unwrap_or_else(|| panic!("no reservation"));
    let second = crate::spend::reserve(&host, scopes.clone(), 5_000, now).ok().flatten();
    assert!(second.is_some());
    crate::spend::settle(&host, &first, 300, now);
    assert_eq!(record(0), (day, 300, 5_000), "the global scope, on the old day");
    assert_eq!(record(1), (day + 1, 300, 5_000), "the client's, on the new day");
}

/// A reservation its request never settled (the VM crashed mid-request, or the settle lost its
/// compare-and-swap races) held its amount until UTC midnight; the client was told to retry in
/// 5 s all day. It is given back after `budgets.reservation_ttl_secs`.
#[test]
fn a_reservation_never_settled_is_given_back_after_its_lifetime() {
    let shared = config(r#","budgets":{"daily_usd":0.000002,"reservation_ttl_secs":600}"#);
    let scopes = shared.config.budgets.scopes(None);
    let host = super::Fake::default();
    let now = 19_676 * 86_400 + 3_600;
    let held = crate::spend::reserve(&host, scopes.clone(), 2_000, now).ok().flatten();
    assert!(held.is_some());
    let left = |at: u64| crate::spend::view(&host, &scopes, at).ok().flatten().map(|v| (v.left_usd, v.held));
    assert_eq!(left(now + 599), Some((0.0, true)), "held for its lifetime");
    assert_eq!(crate::spend::reserve(&host, scopes.clone(), 1, now + 599).ok().flatten().map(|_| ()), None);
    assert_eq!(left(now + 660), Some((0.000002, false)), "given back after it");
    assert!(crate::spend::reserve(&host, scopes.clone(), 2_000, now + 660).ok().flatten().is_some());
}

/// Records of the form before holds had lifetimes stay where the previous module reads them:
/// its VMs still settle the requests they drain during an upgrade, and would take a record
/// they cannot read for empty and write it back over the day's spend. A new record starts from
/// the previous one.
#[test]
fn a_new_spend_record_starts_from_the_previous_modules() {
    use crate::io::Host;
    let shared = config(r#","budgets":{"daily_usd":0.000003}"#);
    let scopes = shared.config.budgets.scopes(None);
    let scope = scopes.first().cloned().unwrap_or_else(|| panic!("no scope"));
    assert_eq!(
        (scope.key.as_str(), scope.previous_key().as_str()),
        ("model_router.spend2.global", "model_router.spend.global")
    );
    let host = super::Fake::default();
    let day = 19_676;
    host.shared.borrow_mut().insert(scope.previous_key(), (format!("s1 {day} 1000 500").into_bytes(), 1));
    let now = day * 86_400 + 60;
    let left = crate::spend::view(&host, &scopes, now).ok().flatten().map(|v| v.left_usd);
    assert_eq!(left, Some(0.0000015));
    let r = crate::spend::reserve(&host, scopes.clone(), 1_500, now).ok().flatten();
    assert!(r.is_some());
    assert!(crate::spend::reserve(&host, scopes.clone(), 1, now).ok().flatten().is_none());
    // The previous record is left as it was, for the previous module.
    let (old, _) = host.shared_get(&scope.previous_key()).unwrap_or_default();
    assert_eq!(old.as_deref(), Some(format!("s1 {day} 1000 500").as_bytes()));
}

/// A request the spend limits refuse is logged with what they did, as its header says it.
#[test]
fn a_refusal_by_the_limits_is_logged_as_its_header_says() {
    let mut host = chat(HELLO);
    host.request_headers.push(("x-team".into(), "team-a".into()));
    let mut req =
        Request::new(Some(config(r#","client_header":"x-team","budgets":{"daily_usd":0.000000001}"#)));
    let step = route(&mut req, &host);
    let (status, _, headers) = respond(&step).unwrap_or_else(|| panic!("refused: {step:?}"));
    let header = headers.iter().find(|(k, _)| k == "x-model-router-budget").map(|(_, v)| v.clone());
    assert_eq!((status, header.as_deref()), (400, Some("over_limit")), "{step:?}");
    assert_eq!(host.notes.borrow().get("budget"), header.as_ref());
    // And whose request it was: the client was logged only on a routed request.
    assert_eq!(host.notes.borrow().get("client").map(String::as_str), Some("team-a"));
}

/// A catalog whose economy model `m` is served by provider `a` at $1/$2 per million and by
/// `b` at ten times that (the dearer fallback), with models of `window` tokens and `max_output`.
fn dearer_fallback_catalog(window: u64, max_output: u64) -> String {
    let model = |p: &str, tier: &str, id: &str, price: u64| {
        format!(
            r#"{{"id":"{id}","tier":"{tier}","provider":"{p}","context_window":{window},"max_output":{max_output},"price_in":{price},"price_out":{},"quality":60}}"#,
            2 * price
        )
    };
    format!(
        r#"{{"providers":{{"a":{{}},"b":{{}}}},"models":[{},{},{},{}]}}"#,
        model("a", "economy", "m", 1),
        model("b", "economy", "m", 10),
        model("a", "standard", "s", 1),
        model("a", "premium", "x", 1),
    )
}

/// A fallback dearer than the first attempt was called on the first attempt's reservation
/// alone: the route saw it fit what the budget had left, but requests since could have taken
/// that room, and the limit was passed by the difference. It now reserves what it adds before
/// it is called, and a limit without room for it passes it over.
#[test]
fn a_dearer_fallback_reserves_what_it_adds_or_is_passed_over() {
    use crate::io::Effect;
    let estimate = super::account::estimate_of_hello();
    let catalog = dearer_fallback_catalog(1000, 100);
    // Room for the first attempt and the dearer fallback, as the route sees it.
    let limit = 11 * estimate;
    let json = format!(r#"{{"catalog":{catalog},"budgets":{{"daily_usd":{}}}}}"#, limit as f64 / 1e9);
    let config = model_router_scorer::Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let shared = std::rc::Rc::new(crate::shared::Shared::new(config, std::collections::HashMap::new()));
    let scopes = shared.config.budgets.scopes(None);
    // (what concurrent requests take after routing, whether the fallback is called)
    for (taken, called) in [(0, true), (2 * estimate, false)] {
        let mut host = chat(HELLO);
        let mut req = Request::new(Some(shared.clone()));
        assert_eq!(cluster_of(&route(&mut req, &host)).as_deref(), Some("a"));
        let now = host.now_ns / 1_000_000_000;
        if taken > 0 {
            assert!(crate::spend::reserve(&host, scopes.clone(), taken, now).ok().flatten().is_some());
        }
        host.response_headers = pairs(&[(":status", "503")]);
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        let calls = step.effects.iter().any(|e| matches!(e, Effect::Call { .. }));
        assert_eq!(calls, called, "{taken}: {step:?}");
        let left =
            |host: &super::Fake| crate::spend::view(host, &scopes, now).ok().flatten().map(|v| v.left_usd);
        if called {
            // Held: the first attempt's estimate and what the fallback adds (its estimate, ten
            // times the first's to a few nano-USD of rounding).
            let held = left(&host).map(|l| limit as f64 / 1e9 - l).unwrap_or_default();
            assert!((held - (10 * estimate) as f64 / 1e9).abs() < 1e-7, "{held}");
            req.on(&host, Event::Dispatched { sent: true });
            host.call_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
            host.call_body = br#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5}}"#.to_vec();
            req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
        }
        req.on(&host, Event::Log);
        // Everything it held is given back; only the answer's price (10 in, 5 out at 10 and 20
        // USD per million) is spent.
        let spent_nano = if called { 200_000 } else { 0 };
        assert_eq!(left(&host), Some((limit - taken - spent_nano) as f64 / 1e9), "{taken}");
        host.shared.borrow_mut().clear();
    }
}

/// With `budgets.reserve_max_output`, a request without an output cap holds its model's whole
/// output (2,000 tokens here) in place of `default_output_tokens` (512), and a fallback the
/// whole output of its own model: a limit then holds however long the answer.
#[test]
fn with_reserve_max_output_an_uncapped_request_holds_its_models_whole_output() {
    let catalog = dearer_fallback_catalog(10_000, 2000);
    // What is held after routing, and after the first attempt failed and the fallback was called.
    let held = |reserve: bool| {
        let json = format!(
            r#"{{"catalog":{catalog},"budgets":{{"daily_usd":100,"reserve_max_output":{reserve}}}}}"#
        );
        let config =
            model_router_scorer::Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let shared = std::rc::Rc::new(crate::shared::Shared::new(config, std::collections::HashMap::new()));
        let scopes = shared.config.budgets.scopes(None);
        let mut host = chat(HELLO);
        let mut req = Request::new(Some(shared.clone()));
        assert_eq!(cluster_of(&route(&mut req, &host)).as_deref(), Some("a"));
        let now = host.now_ns / 1_000_000_000;
        let held = |host: &super::Fake| {
            100.0 - crate::spend::view(host, &scopes, now).ok().flatten().map_or(100.0, |v| v.left_usd)
        };
        let first = held(&host);
        host.response_headers = pairs(&[(":status", "503")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        (first, held(&host))
    };
    let ((off, off_fallback), (on, on_fallback)) = (held(false), held(true));
    // The difference is the 1,488 tokens past the default, at each model's output price.
    let more = |price_out: f64| (2000.0 - 512.0) * price_out / 1e6;
    assert!((on - off - more(2.0)).abs() < 1e-8, "{on} against {off}");
    assert!((on_fallback - off_fallback - more(20.0)).abs() < 1e-8, "{on_fallback} against {off_fallback}");
}

/// The first attempt ended by Envoy's timeout is charged its estimate (the provider still
/// bills it), and that charge is no longer room for the fallback: a fallback no dearer than
/// the first reserved nothing, and each request whose first attempt timed out spent twice what
/// it held. It now reserves its own estimate beside the lost charge, or is passed over.
#[test]
fn a_fallback_after_a_lost_attempt_reserves_beside_its_charge() {
    use crate::io::Effect;
    let estimate = super::account::estimate_of_hello();
    let model = |p: &str, tier: &str, id: &str| {
        format!(
            r#"{{"id":"{id}","tier":"{tier}","provider":"{p}","context_window":1000,"max_output":100,"price_in":1,"price_out":2,"quality":60}}"#
        )
    };
    let catalog = format!(
        r#"{{"providers":{{"a":{{}},"b":{{}}}},"models":[{},{},{},{}]}}"#,
        model("a", "economy", "m"),
        model("b", "economy", "m"),
        model("a", "standard", "s"),
        model("a", "premium", "x"),
    );
    let limit = 3 * estimate;
    let json = format!(r#"{{"catalog":{catalog},"budgets":{{"daily_usd":{}}}}}"#, limit as f64 / 1e9);
    let config = model_router_scorer::Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let shared = std::rc::Rc::new(crate::shared::Shared::new(config, std::collections::HashMap::new()));
    let scopes = shared.config.budgets.scopes(None);
    // (what concurrent requests take after routing, whether the fallback is called)
    for (taken, called) in [(estimate, true), (2 * estimate, false)] {
        let mut host = chat(HELLO);
        host.details = Some("upstream_per_try_idle_timeout".into());
        let mut req = Request::new(Some(shared.clone()));
        let first = cluster_of(&route(&mut req, &host));
        let now = host.now_ns / 1_000_000_000;
        assert!(crate::spend::reserve(&host, scopes.clone(), taken, now).ok().flatten().is_some());
        host.response_headers = pairs(&[(":status", "504")]);
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        let calls = step.effects.iter().any(|e| matches!(e, Effect::Call { .. }));
        assert_eq!(calls, called, "{first:?} {taken}: {step:?}");
        let mut spent_nano = estimate;
        if called {
            req.on(&host, Event::Dispatched { sent: true });
            host.call_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
            host.call_body = br#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5}}"#.to_vec();
            req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
            // 10 in and 5 out at 1 and 2 USD per million.
            spent_nano += 20_000;
        }
        req.on(&host, Event::Log);
        let left = crate::spend::view(&host, &scopes, now).ok().flatten().map(|v| v.left_usd);
        assert_eq!(left, Some((limit - taken - spent_nano) as f64 / 1e9), "{taken}");
        host.shared.borrow_mut().clear();
    }
}

/// A free embedding model under a limit of $0 (or one spent) costs nothing, as a free chat
/// model does: it was refused with a 429 to retry at midnight, and refused again then.
#[test]
fn a_free_embedding_passes_a_spent_limit_and_a_priced_one_is_refused() {
    for (price, want) in [(0, None), (1, Some(400))] {
        let catalog = format!(
            r#"{{"providers":{{"a":{{}}}},"models":[{{"id":"m","tier":"economy","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2,"quality":60}},{{"id":"s","tier":"standard","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2,"quality":70}},{{"id":"x","tier":"premium","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2,"quality":80}},{{"id":"emb","tier":"embedding","provider":"a","api":"embeddings","context_window":100,"dimensions":8,"price_in":{price},"price_out":0,"alias":"embed-small"}}]}}"#
        );
        let config = model_router_scorer::Config::from_json(
            format!(r#"{{"catalog":{catalog},"budgets":{{"daily_usd":0}}}}"#).as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let shared = std::rc::Rc::new(crate::shared::Shared::new(config, std::collections::HashMap::new()));
        let mut host = chat(r#"{"model":"embed-small","input":["a","b"]}"#);
        host.request_headers =
            pairs(&[(":method", "POST"), (":path", "/v1/embeddings"), ("content-type", "application/json")]);
        let mut req = Request::new(Some(shared));
        let step = route(&mut req, &host);
        assert_eq!(respond(&step).map(|a| a.0), want, "price {price}: {step:?}");
        assert_eq!(cluster_of(&step).is_some(), want.is_none(), "price {price}: {step:?}");
    }
}

/// What a request in flight at midnight holds still counts on the new day, where it settles:
/// the holds dropped at midnight let a client spend its new day's whole limit on top of what
/// it had in flight (44% over, measured). Settled there, it gives back the rest.
#[test]
fn what_requests_in_flight_hold_crosses_midnight() {
    let shared = config(r#","budgets":{"daily_usd":0.000002}"#);
    let scopes = shared.config.budgets.scopes(None);
    let host = super::Fake::default();
    let midnight = 19_676 * 86_400;
    let held = crate::spend::reserve(&host, scopes.clone(), 2_000, midnight - 10).ok().flatten();
    let held = held.unwrap_or_else(|| panic!("no reservation"));
    let after = crate::spend::reserve(&host, scopes.clone(), 1, midnight + 10).ok().flatten();
    assert!(after.is_none(), "held across midnight");
    crate::spend::settle(&host, &held, 500, midnight + 20);
    let left = crate::spend::view(&host, &scopes, midnight + 30).ok().flatten().map(|v| v.left_usd);
    assert!(left.is_some_and(|l| (l - 0.0000015).abs() < 1e-12), "{left:?}");
}

/// A probe slot claimed before a reservation the host fails to make is given back: the breaker
/// held it half-open, unanswered, until the next cooldown.
#[test]
fn a_reservation_that_fails_gives_back_its_probe_slot() {
    use model_router_scorer::health::{Breaker, Health, provider_key};
    let shared = config(r#","budgets":{"daily_usd":2}"#);
    let mut host = chat(HELLO);
    let p = super::breaker::first_attempt(&shared, &mut host, 200);
    let now = host.now_ns / 1_000_000_000;
    let cooldown = shared.config.resilience.cooldown_secs;
    let cooled = Health { breaker: Breaker::Open { since: now - 1 - cooldown }, ..Health::default() };
    host.shared.borrow_mut().insert(provider_key(&p), (cooled.encode().into_bytes(), 1));
    host.failing_key = shared.config.budgets.scopes(None).first().map(|s| s.key.clone());
    let mut req = Request::new(Some(shared.clone()));
    route(&mut req, &host);
    let stored = host.shared.borrow().get(&provider_key(&p)).and_then(|(v, _)| Health::decode(v));
    let held = stored
        .map(|h| h.breaker)
        .is_some_and(|b| matches!(b, Breaker::HalfOpen { started, .. } if started > 0));
    assert!(!held, "{stored:?}");
}
