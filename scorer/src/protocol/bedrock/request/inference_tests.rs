//! What reaches `inferenceConfig` (the output cap, sampling, stop sequences), and refused
//! members sent at the values that ask nothing.

use serde_json::json;

use super::tests::{TO, ok, user};
use super::*;

#[test]
fn defaults_of_refused_members_pass() {
    let body = json!({"messages": [user("u")], "n": 1, "logprobs": false, "logit_bias": {}, "modalities": ["text"],
        "audio": null, "top_logprobs": null, "response_format": {"type": "text"}, "tool_choice": "auto"});
    assert_eq!(ok(body), json!({"messages": [{"role": "user", "content": [{"text": "u"}]}]}));
    // No alternatives asked for (what SDK wrappers send): it was refused as log probabilities.
    let zero = json!({"messages": [user("u")], "top_logprobs": 0});
    assert_eq!(ok(zero), json!({"messages": [{"role": "user", "content": [{"text": "u"}]}]}));
    // No functions declared, or none to call, as the Messages translation takes them.
    let none = json!({"messages": [user("u")], "functions": [], "function_call": "none"});
    assert_eq!(ok(none), json!({"messages": [{"role": "user", "content": [{"text": "u"}]}]}));
    let some = json!({"messages": [user("u")], "functions": [{"name": "f"}]});
    let refused = translate(some.to_string().as_bytes(), &TO).err().map(|e| (e.code, e.param));
    assert_eq!(refused, Some(("unsupported_parameter", Some("functions".into()))));
}

#[test]
fn max_tokens_is_capped_and_the_newer_name_wins() {
    let cases = [
        (json!({"max_tokens": 100}), Some(100)),
        (json!({"max_tokens": 100_000}), Some(8000)),
        (json!({"max_completion_tokens": 50, "max_tokens": 70}), Some(50)),
        (json!({"max_completion_tokens": null, "max_tokens": 70}), Some(70)),
        (json!({}), None),
    ];
    for (extra, want) in cases {
        let mut body = extra.clone();
        body["messages"] = json!([user("u")]);
        let got = ok(body)["inferenceConfig"]["maxTokens"].as_u64();
        assert_eq!(got, want, "{extra}");
    }
}

#[test]
fn sampling_and_stop_map_to_inference_config() {
    let cases = [
        (json!({"temperature": 0.5}), json!({"temperature": 0.5})),
        (json!({"temperature": 2}), json!({"temperature": 1.0})),
        (json!({"temperature": 0}), json!({"temperature": 0.0})),
        (json!({"top_p": 0.25}), json!({"topP": 0.25})),
        (json!({"stop": "x"}), json!({"stopSequences": ["x"]})),
        (json!({"stop": ["a", "", "b"]}), json!({"stopSequences": ["a", "b"]})),
        (json!({"stop": [""]}), Value::Null),
        (json!({"stop": null, "temperature": null}), Value::Null),
    ];
    for (extra, want) in cases {
        let mut body = extra.clone();
        body["messages"] = json!([user("u")]);
        assert_eq!(ok(body)["inferenceConfig"], want, "{extra}");
    }
}

#[test]
fn an_effort_below_a_reasoning_models_own_is_refused_and_the_others_dropped() {
    let refused = |body: Value, to: &Native<'_>| {
        translate(body.to_string().as_bytes(), to).err().map(|e| (e.code, e.param.unwrap_or_default()))
    };
    let unsupported = |param: &str| Some(("unsupported_value", param.to_string()));
    for (asked, param) in [
        (json!({"reasoning_effort": "none"}), "reasoning_effort"),
        (json!({"reasoning_effort": "minimal"}), "reasoning_effort"),
        (json!({"reasoning": {"effort": "none"}}), "reasoning.effort"),
    ] {
        let mut body = json!({"messages": [user("u")]});
        body.as_object_mut().unwrap().extend(asked.as_object().unwrap().clone());
        assert_eq!(refused(body, &TO), unsupported(param), "{asked}");
    }
    // The model reasons at its own depth: a deeper effort is dropped.
    let plain = json!({"messages": [{"role": "user", "content": [{"text": "u"}]}]});
    assert_eq!(ok(json!({"messages": [user("u")], "reasoning_effort": "high"})), plain);
    // A model that does not reason takes `none` as asked.
    let quirks = crate::catalog::Quirks { drops: crate::catalog::DROPS_EFFORT_NONE, ..TO.quirks };
    let plain_model = Native { quirks, ..TO };
    assert_eq!(refused(json!({"messages": [user("u")], "reasoning_effort": "none"}), &plain_model), None);
}

#[test]
fn moderation_is_refused_unless_null() {
    let body = json!({"messages": [user("u")], "moderation": {"model": "omni-moderation-latest"}});
    let refused = translate(body.to_string().as_bytes(), &TO).err().map(|e| (e.code, e.param));
    assert_eq!(refused, Some(("unsupported_parameter", Some("moderation".into()))));
    let plain = json!({"messages": [{"role": "user", "content": [{"text": "u"}]}]});
    assert_eq!(ok(json!({"messages": [user("u")], "moderation": null})), plain);
}
