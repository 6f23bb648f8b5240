//! Tool calls and results as the Responses API takes them back.

use super::{out, with_messages};

/// A call id over the Responses API's 64 characters (a client's own, another provider's) went
/// as it was, OpenAI's 400 ending the request: it is hashed, the same for the call and its
/// output, so they still pair; one of 64 stays.
#[test]
fn call_ids_over_64_characters_are_hashed_in_pairs() {
    let long = "x".repeat(65);
    let messages = format!(
        r#"[{{"role":"user","content":"go"}},{{"role":"assistant","content":null,"tool_calls":[{{"id":"{long}","type":"function","function":{{"name":"f","arguments":"{{}}"}}}}]}},{{"role":"tool","tool_call_id":"{long}","content":"ok"}}]"#
    );
    let input = out(&with_messages(&messages))["input"].clone();
    let (call, output) = (&input[1]["call_id"], &input[2]["call_id"]);
    assert_eq!(call, output, "{input}");
    assert!(call.as_str().is_some_and(|c| c.starts_with("call_") && c.len() <= 64), "{input}");
    let kept = "y".repeat(64);
    let messages = format!(r#"[{{"role":"tool","tool_call_id":"{kept}","content":"ok"}}]"#);
    assert_eq!(out(&with_messages(&messages))["input"][0]["call_id"], kept.as_str());
}

/// A tool result of several text parts went joined with nothing between them (two parts'
/// words ran together): each is an `input_text` of the output; one part stays a string.
#[test]
fn a_tool_results_text_parts_are_its_outputs_parts() {
    let messages = r#"[{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"line one"},{"type":"text","text":"line two"}]}]"#;
    let output = out(&with_messages(messages))["input"][0]["output"].clone();
    let want = serde_json::json!([{"type": "input_text", "text": "line one"}, {"type": "input_text", "text": "line two"}]);
    assert_eq!(output, want);
    let one = r#"[{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"only"}]}]"#;
    assert_eq!(out(&with_messages(one))["input"][0]["output"], "only");
}
