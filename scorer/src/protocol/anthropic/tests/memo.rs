//! The memo of translated conversations: a turn translated from a remembered prefix is the
//! whole translation, byte for byte and error for error.

use std::cell::RefCell;

use serde_json::{Value, json};

use super::TO;
use crate::protocol::anthropic::Translations;
use crate::protocol::anthropic::request::{translate, translate_with};
use crate::testing::Rng;

/// One message of a random role and shape: every way a message joins, starts or leaves a
/// turn (same roles in a row, tool results before user text, system text anywhere, empty
/// content, prefills with trailing spaces), and now and then one the translator refuses.
fn message(rng: &mut Rng, i: usize) -> Value {
    let text = |rng: &mut Rng| ["", "hi", "look at this  ", "  ", "a\nb \"q\" é"][rng.below(5)].to_string();
    if rng.below(60) == 0 {
        return match rng.below(4) {
            0 => json!({"role": "wizard", "content": "x"}),
            1 => json!({"role": "user", "content": 5}),
            2 => json!({"role": "tool", "content": "no id"}),
            _ => json!({"role": "assistant", "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": "[1]"}}]}),
        };
    }
    match rng.below(12) {
        0 => json!({"role": "system", "content": text(rng)}),
        1 => json!({"role": "developer", "content": [{"type": "text", "text": text(rng)}]}),
        2 => json!({"role": "system", "content": [
            {"type": "text", "text": "cached", "cache_control": {"type": "ephemeral"}}]}),
        3 | 4 => json!({"role": "user", "content": text(rng)}),
        5 => json!({"role": "user", "content": [
            {"type": "text", "text": text(rng)},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            {"type": "text", "text": text(rng), "cache_control": {"type": "ephemeral"}},
        ]}),
        6 | 7 => json!({"role": "assistant", "content": text(rng)}),
        8 => {
            let calls: Vec<Value> = (0..1 + rng.below(2))
                .map(|j| {
                    let arguments = ["{}", "", "{\"path\":\"a.py\",\"n\":2}"][rng.below(3)];
                    json!({"id": format!("c{i}_{j}"), "type": "function",
                        "function": {"name": "read", "arguments": arguments}})
                })
                .collect();
            let content = if rng.below(2) == 0 { Value::Null } else { json!(text(rng)) };
            json!({"role": "assistant", "content": content, "tool_calls": calls})
        }
        9 | 10 => json!({"role": "tool", "tool_call_id": format!("c{i}"), "content": text(rng)}),
        _ => json!({"role": "tool", "tool_call_id": format!("c{i}"),
            "content": [{"type": "text", "text": text(rng)}]}),
    }
}

/// A body declaring a tool (an agent's): without tools the history's tool blocks are told as
/// text, a translation that is never remembered (`no_tools`).
fn body(messages: &[Value], effort: Option<&str>) -> Vec<u8> {
    let mut b = json!({"model": "auto", "max_tokens": 30_000, "messages": messages,
        "tools": [{"type": "function", "function": {"name": "read"}}]});
    if let Some(e) = effort {
        b["reasoning_effort"] = json!(e);
    }
    b.to_string().into_bytes()
}

fn no_tools(messages: &[Value]) -> Vec<u8> {
    json!({"model": "auto", "max_tokens": 30_000, "messages": messages}).to_string().into_bytes()
}

/// The property: an agent loop of random conversations, each turn resending the last with a
/// few messages more (now and then with an earlier message edited), translates every turn
/// with the memo exactly as without it, and resumes often enough for that to mean something.
#[test]
fn a_turn_resumed_from_the_memo_is_the_whole_translation() {
    let mut rng = Rng(41);
    let (mut turns, mut hits) = (0u64, 0u64);
    for case in 0..400u64 {
        let memo = RefCell::new(Translations::new(1 << 20));
        let effort = [None, Some("low"), Some("high")][rng.below(3)];
        let n = 2 + rng.below(24);
        let mut messages: Vec<Value> = (0..n).map(|i| message(&mut rng, i)).collect();
        let mut k = 1 + rng.below(3);
        let mut edits = 0;
        while k <= n {
            // An edit anywhere, or a retry that rewrites the last messages (which a
            // remembered prefix may end just before).
            if rng.below(8) == 0 {
                let j = if rng.below(3) == 0 { rng.below(k) } else { k - 1 - rng.below(k.min(3)) };
                messages[j] = message(&mut rng, j);
                edits += 1;
            }
            // Now and then a turn without tools (a summary): told as text, translated whole.
            let b = if rng.below(10) == 0 { no_tools(&messages[..k]) } else { body(&messages[..k], effort) };
            let with = translate_with(&b, &TO, Some(&memo));
            assert_eq!(with, translate(&b, &TO), "case {case}: {k} of {n} messages");
            turns += 1;
            k += 1 + rng.below(3);
        }
        hits += memo.borrow().counts().0;
        // A turn's entry replaces the one it resumed from; an edit starts another conversation.
        assert!(memo.borrow().counts().1 <= 1 + edits, "case {case}");
    }
    assert!(hits * 5 > turns, "{hits} of {turns} turns resumed");
}

/// Many conversations through one worker's memo: bounded in entries, and each still
/// translated exactly.
#[test]
fn the_memo_is_bounded_and_conversations_do_not_mix() {
    let mut rng = Rng(5);
    let memo = RefCell::new(Translations::new(1 << 20));
    let talks: Vec<Vec<Value>> = (0..40)
        .map(|c| {
            let mut m = vec![json!({"role": "user", "content": format!("conversation {c}")})];
            m.extend((1..12).map(|i| message(&mut rng, i)));
            m
        })
        .collect();
    for k in 2..12 {
        for talk in &talks {
            let b = body(&talk[..k], None);
            assert_eq!(translate_with(&b, &TO, Some(&memo)), translate(&b, &TO));
        }
        assert!(memo.borrow().counts().1 <= 16);
    }
    // Forty conversations take turns on sixteen entries: evicted ones translate whole.
    assert!(memo.borrow().counts().0 > 0);
}

/// A retried turn whose first message joins the remembered last turn (same role, or a tool
/// result into a user turn) is translated whole, not written after it.
#[test]
fn a_message_that_joins_the_remembered_turn_is_translated_whole() {
    let say = |role: &str, text: &str| json!({"role": role, "content": text});
    let result = json!({"role": "tool", "tool_call_id": "c1", "content": "42"});
    let cases = [
        // Remembered: user, assistant; the retry's message 2 is an assistant's too.
        (
            vec![say("user", "q"), say("assistant", "a"), say("user", "more")],
            vec![say("user", "q"), say("assistant", "a"), say("assistant", "and"), say("user", "ok")],
        ),
        // Remembered: user, assistant, user; the retry's message 3 is a tool result.
        (
            vec![say("user", "q"), say("assistant", "a"), say("user", "b"), say("assistant", "c")],
            vec![say("user", "q"), say("assistant", "a"), say("user", "b"), result, say("user", "d")],
        ),
    ];
    for (first, retry) in cases {
        let memo = RefCell::new(Translations::new(1 << 20));
        let b = body(&first, None);
        assert_eq!(translate_with(&b, &TO, Some(&memo)), translate(&b, &TO));
        assert_eq!(memo.borrow().counts().1, 1);
        let b = body(&retry, None);
        assert_eq!(translate_with(&b, &TO, Some(&memo)), translate(&b, &TO));
        assert_eq!(memo.borrow().counts().0, 0);
    }
}

/// An earlier message edited in place (a short text, not stood in for, same length): the
/// remembered turns are of other bytes, so the body is translated whole (a digest of the
/// messages could be made to collide; the bytes are compared).
#[test]
fn a_message_edited_in_place_is_translated_again() {
    let text = |a: char| format!("{}{a}{}", "y".repeat(13), "y".repeat(46));
    let talk = |t: String| {
        vec![
            json!({"role": "user", "content": t}),
            json!({"role": "assistant", "content": "ok"}),
            json!({"role": "user", "content": "z".repeat(300)}),
        ]
    };
    let memo = RefCell::new(Translations::new(1 << 20));
    let b = body(&talk(text('a')), None);
    assert_eq!(translate_with(&b, &TO, Some(&memo)), translate(&b, &TO));
    let b = body(&talk(text('!')), None);
    let with = translate_with(&b, &TO, Some(&memo));
    assert_eq!(with, translate(&b, &TO));
    assert!(with.is_ok_and(|w| String::from_utf8_lossy(&w).contains("yyyyyyyyyyyyy!")));
    assert_eq!(memo.borrow().counts().0, 0);
}
