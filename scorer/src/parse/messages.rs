//! `messages`: each message's role, content (string or parts), tool calls and names, fed to the
//! conversation features as the text is validated.

use std::borrow::Cow;
use std::cell::RefCell;

use crate::catalog::{
    ASKS_AUDIO, ASKS_FILE, ASKS_NAME, ASKS_PART_LISTS, DROPS_CACHE_MARKS, DROPS_ECHOES, DROPS_NULLS,
    DROPS_OPENAI_ONLY, DROPS_THINKING, OPENAI_CACHE_MARK,
};
use crate::error::{ApiError, echo};
use crate::parse::chat::{
    AUDIO_BYTES_PER_TOKEN, BYTES_PER_TOKEN, ChatRequest, FILE_BYTES_PER_TOKEN, PDF_PAGE_TOKENS, ROLES,
};
use crate::parse::features::Role;
use crate::parse::fields::{
    MESSAGE_MEMBERS, PART_MEMBERS, case_variant_of, duplicate_error, first_duplicate, skip_unique,
    string_field_named, syntax, wrong_type,
};
use crate::parse::json::{ArrayIter, Kind, Reader};
use crate::parse::layout::{Field, MIN_TEXT, Span};
use crate::parse::memo::{Claim, Parses};

/// Reads `messages`; with `memo`, from the longest prefix of the array it remembers, and
/// remembering this one's (`parse::memo`).
pub(crate) fn parse_messages<'a>(
    r: &mut Reader<'a>,
    req: &mut ChatRequest<'a>,
    memo: Option<&RefCell<Parses>>,
    claim: Option<Claim>,
) -> Result<(), ApiError> {
    let kind = r.peek_kind().map_err(syntax)?;
    if kind != Kind::Array {
        return Err(wrong_type("messages", "an array", kind));
    }
    let mut keys: Vec<Cow<'a, str>> = Vec::with_capacity(8);
    let mut fields: Fields = (Vec::with_capacity(8), Vec::with_capacity(4));
    let mut it = r.array().map_err(syntax)?;
    let mut index = 0usize;
    // Long texts are carried up to the end of the last message a translator keeps as a user
    // or tool turn ([`asks`]): it may trim what follows it (an assistant prefill).
    let mut carried = 0;
    // Only the first `messages` member is remembered (a second is refused later anyway).
    let memo = memo.filter(|_| req.spans.is_empty() && req.layout.texts.is_empty());
    let at = r.pos();
    let before = (req.text_bytes, req.features.images);
    let mut resumed = None;
    if let Some(found) = memo.and_then(|m| m.borrow_mut().restore(r.text(), at, req, claim)) {
        r.skip_to(found.end);
        it = ArrayIter::after_element();
        index = found.messages;
        carried = found.carried;
        resumed = Some(found);
    }
    while it.next(r).map_err(syntax)? {
        let start = r.pos();
        parse_message(r, req, index, &mut keys, &mut fields)?;
        req.spans.push((start, r.pos()));
        if asks(req) {
            carried = req.layout.texts.len();
        }
        index += 1;
    }
    if let Some(memo) = memo {
        let shares = (req.text_bytes - before.0, req.features.images - before.1, carried);
        let text = r.text();
        memo.borrow_mut().remember(text, at, req, shares, resumed);
    }
    req.layout.texts.truncate(carried);
    if index == 0 {
        return Err(ApiError::invalid(
            "invalid_value",
            Some("messages"),
            "'messages' is empty: send at least one message",
        ));
    }
    req.messages = index;
    Ok(())
}

/// Whether the message just read is one every translator keeps as a turn of the user's
/// side: a tool result, or a user message with some text. A user message with none (`""`,
/// parts empty or only whitespace; `[]` is refused) is dropped, so an assistant message before it would end the
/// conversation as a prefill, whose text a translator trims: it must be read, not carried.
/// (One with only an image counts as none here: its texts are then read, which is never
/// wrong.)
fn asks(req: &ChatRequest<'_>) -> bool {
    match req.texts.last() {
        Some((Role::Tool, ..)) => true,
        Some((Role::User, count, _)) => req.parts.iter().rev().take(*count).any(|p| !maybe_blank(p)),
        _ => false,
    }
}

/// Whether a raw (still escaped) text may be only whitespace, which translators drop: every
/// character is whitespace or may belong to an escape of it (`\n`, `\t`, `\u3000`). It stops
/// at the first other character, and errs only towards "maybe": such a text is read by the
/// translator, never wrongly carried unread.
pub(crate) fn maybe_blank(raw: &str) -> bool {
    // Whitespace beyond ASCII too (an ideographic space, a no-break space): see `raw::blank`.
    raw.chars()
        .all(|c| matches!(c, '\\' | 'n' | 't' | 'r' | 'u') || c.is_whitespace() || c.is_ascii_hexdigit())
}

/// The chat member carrying reasoning a provider signed or encrypted (an assistant message's,
/// an answer's and a stream delta's). Claude's: its `thinking` blocks (`thinking` text and
/// `signature`) and `redacted_thinking` blocks (`data`), as Anthropic wrote them. Anthropic
/// takes a turn that continues tool calls with thinking on only when that turn starts with its
/// signed thinking, so a client that sends them back keeps Claude thinking through its tool
/// loop (and the prompt cache, which a change of thinking restarts). An OpenAI model's on the
/// Responses API: `reasoning` entries (`id`, `summary`, `encrypted_content`), which with
/// nothing stored are the only way its reasoning reaches a loop's next step. Each signature,
/// redacted block's data and encrypted content is tagged with the model that wrote it
/// (`protocol::signed`), and an OpenAI entry names the item it led to (`before`: `message` or
/// `call:<call_id>`), which it goes back directly before. A stream sends each entry whole,
/// with its `index` in the list: Claude's as the block ends (its text having come as
/// `reasoning_content` too, when reasoning shows), a redacted block as it starts, an OpenAI
/// entry as the item it led to starts.
pub const THINKING_BLOCKS: &str = "thinking_blocks";

/// A message's members and a tool call's, reused from one to the next (see [`Field`]).
type Fields = (Vec<Field>, Vec<Field>);

/// An answer's own members that a client sends back in the conversation (an OpenAI SDK client
/// appends the answer's message as it came: the SDK's `parse()` and `stream()` add `parsed`),
/// which providers of [`crate::catalog::DROPS_ECHOES`] refuse.
const ECHOES: [&str; 5] = ["refusal", "annotations", "audio", "reasoning_content", "parsed"];

/// A tool call's members an answer carries and a request does not (a streamed call's `index`),
/// and its function's (`parsed_arguments`, which the OpenAI SDK's `parse()` and `stream()`
/// add): echoes, which Groq and Cerebras answer with a 400 ("property 'index' is unsupported").
const CALL_ECHOES: [&str; 2] = ["index", "parsed_arguments"];

/// The [`crate::catalog::DROPPABLE`] bits of a message's member `key`, its value `value`. A
/// refusal stated (a string) is what that turn said: it stays (the provider says if it
/// refuses it), where dropping it would leave an assistant turn with nothing.
fn droppable(key: &str, value: &str) -> u8 {
    let stated_refusal = key == "refusal" && value.starts_with('"');
    let echo = if ECHOES.contains(&key) && !stated_refusal { DROPS_ECHOES } else { 0 };
    let null = if value == "null" && key != "content" { DROPS_NULLS } else { 0 };
    let thinking = if key == THINKING_BLOCKS { DROPS_THINKING } else { 0 };
    echo | null | thinking
}

fn parse_message<'a>(
    r: &mut Reader<'a>,
    req: &mut ChatRequest<'a>,
    index: usize,
    keys: &mut Vec<Cow<'a, str>>,
    (fields, call_fields): &mut Fields,
) -> Result<(), ApiError> {
    let at = || format!("messages[{index}]");
    let kind = r.peek_kind().map_err(syntax)?;
    if kind != Kind::Object {
        return Err(wrong_type(&at(), "an object", kind));
    }
    keys.clear();
    let mut role: Option<Cow<'a, str>> = None;
    let mut has_content = false;
    let mut content_key = false;
    let mut has_tool_calls = false;
    let mut has_refusal = false;
    // Its content as a list of parts, and whether they are all texts.
    let mut listed: Option<(Span, bool)> = None;
    let mut tool_calls = 0u32;
    // Raw texts, scanned once the role is known (it may come after the content): the message's
    // are `req.parts` from here on.
    let first_part = req.parts.len();
    // Tool calls are an assistant's: another role's are no calls to sign.
    let first_call = req.layout.unsigned_calls.len();
    fields.clear();
    let mut obj = r.object().map_err(syntax)?;
    while let Some((key_at, key)) = obj.next_key_at(r).map_err(syntax)? {
        let mut drops = 0;
        match key.as_ref() {
            "role" => {
                let value = string_field_named(r, || format!("{}.role", at()))?;
                if !ROLES.contains(&value.as_ref()) {
                    return Err(ApiError::invalid(
                        "invalid_role",
                        Some(&format!("{}.role", at())),
                        format!("role {} is not valid: use one of {}", echo(&value), ROLES.join(", ")),
                    ));
                }
                role = Some(value);
            }
            "content" => {
                content_key = true;
                let (start, array) = (r.pos(), r.peek_kind().map_err(syntax)? == Kind::Array);
                let mut texts_only = true;
                has_content = parse_content(r, req, &at, &mut texts_only)?;
                listed = array.then(|| (Span { start, end: r.pos() }, texts_only));
            }
            "tool_calls" if r.peek_kind().map_err(syntax)? == Kind::Array => {
                has_tool_calls = true;
                let mark = r.mark();
                let mut it = r.array().map_err(syntax)?;
                while it.next(r).map_err(syntax)? {
                    read_call(r, req, call_fields, &|| format!("{}.tool_calls[{tool_calls}]", at()))?;
                    tool_calls += 1;
                }
                req.text_bytes += r.unescaped_since(mark);
            }
            other => {
                // Read by a provider as a member the router reads (`"Role"`, `"toolCalls"`):
                // another turn, calls unsigned, unseen.
                case_variant_of(other, &MESSAGE_MEMBERS, &at())?;
                has_tool_calls |= other == "tool_calls" || other == "function_call";
                has_refusal |= other == "refusal" && r.peek_kind().map_err(syntax)? == Kind::String;
                if other == "name" && r.peek_kind().map_err(syntax)? != Kind::Null {
                    req.layout.asks |= ASKS_NAME;
                }
                let start = r.pos();
                let mark = r.mark();
                r.skip_value().map_err(syntax)?;
                // Carried thinking goes only to the API of the model that wrote it (Anthropic's,
                // OpenAI's Responses): its signatures and encrypted reasoning, kilobytes a turn,
                // no other provider sees, and they would count as input for every one.
                if other != THINKING_BLOCKS {
                    req.text_bytes += r.unescaped_since(mark);
                }
                drops = droppable(other, r.text().get(start..r.pos()).unwrap_or_default().trim_start());
            }
        }
        fields.push((key_at, r.pos(), drops));
        keys.push(key);
    }
    req.layout.drop_fields(fields);
    if let Some(dup) = first_duplicate(keys) {
        return Err(duplicate_error(&dup, &at()));
    }
    let Some(role) = role else {
        return Err(ApiError::invalid(
            "missing_required_parameter",
            Some(&format!("{}.role", at())),
            format!("{}.role is required: use one of {}", at(), ROLES.join(", ")),
        ));
    };
    // An assistant turn may carry only tool calls, or only a refusal (how an OpenAI answer
    // states one, `content: null` beside it: a client appending the answer to its
    // conversation sends it back so); a function result may be null (the spec types it
    // `string | null`, still required).
    let content_optional =
        (role == "assistant" && (has_tool_calls || has_refusal)) || (role == "function" && content_key);
    if !has_content && !content_optional {
        return Err(ApiError::invalid(
            "missing_required_parameter",
            Some(&format!("{}.content", at())),
            format!("{}.content is required for role '{role}'", at()),
        ));
    }
    if role != "assistant" {
        req.layout.unsigned_calls.truncate(first_call);
    }
    if let Some((span, texts_only)) =
        listed.filter(|_| matches!(role.as_ref(), "system" | "developer" | "tool"))
    {
        match texts_only {
            true => req.layout.joins.push(span),
            false => req.layout.asks |= ASKS_PART_LISTS,
        }
    }
    req.texts.push((Role::from_name(&role), req.parts.len() - first_part, tool_calls));
    Ok(())
}

/// Reads one tool call, noting where it ends when it carries no `extra_content` (no thought
/// signature) and has members to follow ([`crate::parse::layout::Layout::unsigned_calls`]).
/// A null `extra_content` is none: the call is unsigned, and the null member goes where the
/// stand-in is added (Gemini refuses nulls). Its `extra_content` is an echo for other providers.
fn read_call(
    r: &mut Reader<'_>,
    req: &mut ChatRequest<'_>,
    fields: &mut Vec<Field>,
    at: &dyn Fn() -> String,
) -> Result<(), ApiError> {
    if r.peek_kind().map_err(syntax)? != Kind::Object {
        return r.skip_value().map_err(syntax);
    }
    fields.clear();
    let mut signed = false;
    let mut keys = Vec::new();
    let mut obj = r.object().map_err(syntax)?;
    while let Some((key_at, key)) = obj.next_key_at(r).map_err(syntax)? {
        let start = r.pos();
        skip_unique(r, &|| format!("{}.{key}", at()))?;
        let null = r.text().get(start..r.pos()).map(str::trim_start) == Some("null");
        let extra = key == "extra_content";
        if key == "function" {
            function_echoes(r, start, req)?;
        }
        let echo = extra || CALL_ECHOES.contains(&key.as_ref());
        keys.push(key);
        signed |= extra && !null;
        let drops = if echo { DROPS_ECHOES } else { 0 } | if null { DROPS_NULLS } else { 0 };
        fields.push((key_at, r.pos(), drops));
    }
    if let Some(dup) = first_duplicate(&mut keys) {
        return Err(duplicate_error(&dup, &at()));
    }
    // Signed, or nothing but a null signature: left as it is.
    if !signed && fields.iter().any(|f| f.2 & DROPS_NULLS == 0) {
        req.layout.unsigned_calls.push(r.pos().saturating_sub(1));
    }
    req.layout.drop_fields(fields);
    Ok(())
}

/// Notes the echoes ([`CALL_ECHOES`]) of the tool call's `function` object that begins at
/// `start` (already read, its keys checked unique) to be taken out with the call's.
fn function_echoes(r: &Reader<'_>, start: usize, req: &mut ChatRequest<'_>) -> Result<(), ApiError> {
    let text = r.text().get(start..r.pos()).unwrap_or_default();
    if !text.contains("parsed_arguments") {
        return Ok(());
    }
    let mut inner = Reader::new(text);
    let mut fields: Vec<Field> = Vec::new();
    let mut obj = match inner.object() {
        Ok(obj) => obj,
        Err(_) => return Ok(()),
    };
    while let Some((key_at, key)) = obj.next_key_at(&mut inner).map_err(syntax)? {
        inner.skip_value().map_err(syntax)?;
        let drops = if CALL_ECHOES.contains(&key.as_ref()) { DROPS_ECHOES } else { 0 };
        fields.push((start + key_at, start + inner.pos(), drops));
    }
    req.layout.drop_fields(&fields);
    Ok(())
}

/// The 400 for a `file` part naming a file stored with the provider (`file_id`): the router's
/// key is every client's, so the file is the operator's account's, which a client could read
/// by its id; nor is it priced (its pages are not in the request). The Responses API and the
/// translations refuse it too.
fn stored_file(param: &dyn Fn() -> String) -> ApiError {
    ApiError::invalid(
        "unsupported_value",
        Some(&format!("{}.file.file_id", param())),
        "a file_id names a file stored with the provider's account, which the router's key is for every client: send the file's content as file_data",
    )
}

/// Records where a long text just read sits (between its quotes), for a translation to carry.
fn carry(r: &Reader<'_>, req: &mut ChatRequest<'_>, text: &str) {
    // A text of only whitespace is dropped by the translators (the providers refuse such
    // blocks): they must see it to drop it.
    if text.len() >= MIN_TEXT && !maybe_blank(text) {
        let end = r.pos().saturating_sub(1);
        req.layout.texts.push(Span { start: end.saturating_sub(text.len()), end });
    }
}

/// Reads `content`: a string, an array of parts, or null. Returns whether content is present.
/// `texts_only` is cleared by a part of another type than `text`.
fn parse_content<'a>(
    r: &mut Reader<'a>,
    req: &mut ChatRequest<'a>,
    at: &dyn Fn() -> String,
    texts_only: &mut bool,
) -> Result<bool, ApiError> {
    match r.peek_kind().map_err(syntax)? {
        Kind::String => {
            let (text, bytes) = r.raw_string_sized().map_err(syntax)?;
            req.text_bytes += bytes;
            carry(r, req, text);
            req.parts.push(text);
            Ok(true)
        }
        Kind::Null => r.null().map(|()| false).map_err(syntax),
        Kind::Array => {
            let mut it = r.array().map_err(syntax)?;
            let mut part = 0usize;
            let mut keys: Vec<Cow<'a, str>> = Vec::with_capacity(4);
            let mut fields: Vec<Field> = Vec::new();
            while it.next(r).map_err(syntax)? {
                let param = || format!("{}.content[{part}]", at());
                let kind = r.peek_kind().map_err(syntax)?;
                if kind != Kind::Object {
                    return Err(wrong_type(&param(), "an object", kind));
                }
                keys.clear();
                fields.clear();
                let mut obj = r.object().map_err(syntax)?;
                while let Some((key_at, key)) = obj.next_key_at(r).map_err(syntax)? {
                    match key.as_ref() {
                        "text" => {
                            if r.peek_kind().map_err(syntax)? != Kind::String {
                                let kind = r.peek_kind().map_err(syntax)?;
                                return Err(wrong_type(&format!("{}.text", param()), "a string", kind));
                            }
                            let (text, bytes) = r.raw_string_sized().map_err(syntax)?;
                            req.text_bytes += bytes;
                            carry(r, req, text);
                            req.parts.push(text);
                        }
                        "image_url" => {
                            req.features.images += 1;
                            let start = r.pos();
                            skip_unique(r, &|| format!("{}.image_url", param()))?;
                            let raw = r.text().get(start..r.pos()).unwrap_or_default();
                            let side = super::picture::data_url_side(raw).unwrap_or(0);
                            req.image_side = req.image_side.max(side);
                        }
                        // A file's or a recording's base64 is not text: counted at its own rate
                        // (as text, an 800 KB PDF passed every model's window).
                        "file" | "input_audio" => {
                            let start = r.pos();
                            skip_unique(r, &|| format!("{}.{key}", param()))?;
                            let raw = r.text().get(start..r.pos()).unwrap_or_default();
                            let (rate, asks) = if key == "file" {
                                (FILE_BYTES_PER_TOKEN, ASKS_FILE)
                            } else {
                                (AUDIO_BYTES_PER_TOKEN, ASKS_AUDIO)
                            };
                            // Some providers refuse the part (`refuses`: a tier moves on).
                            req.layout.asks |= asks;
                            let mut tokens = (raw.len() as u64).div_ceil(rate);
                            if key == "file" {
                                // One read of its members: a stored file is refused, a PDF's
                                // pages counted.
                                let file = super::pdf::file_members(raw);
                                if file.stored {
                                    return Err(stored_file(&param));
                                }
                                let pages = super::pdf::pages(&file.data, &mut req.pdf);
                                tokens = tokens.max(pages.saturating_mul(PDF_PAGE_TOKENS));
                            }
                            // Saturating: a crafted file's count must not wrap a 32-bit size.
                            let bytes = usize::try_from(tokens.saturating_mul(BYTES_PER_TOKEN));
                            req.text_bytes = req.text_bytes.saturating_add(bytes.unwrap_or(usize::MAX));
                        }
                        "type" => {
                            let (start, mark) = (r.pos(), r.mark());
                            r.skip_value().map_err(syntax)?;
                            let value = r.text().get(start..r.pos()).unwrap_or_default();
                            *texts_only &= value.trim() == "\"text\"";
                            req.text_bytes += r.unescaped_since(mark);
                        }
                        other => {
                            // `"imageUrl"`, `"Text"`: an image or a text the router would not
                            // count or guard.
                            case_variant_of(other, &PART_MEMBERS, &param())?;
                            let mark = r.mark();
                            r.skip_value().map_err(syntax)?;
                            req.text_bytes += r.unescaped_since(mark);
                        }
                    }
                    // An Anthropic client's cache breakpoint, which chat providers do not read,
                    // and OpenAI's, which only OpenAI does.
                    let drops = match key.as_ref() {
                        "cache_control" => DROPS_CACHE_MARKS,
                        OPENAI_CACHE_MARK => DROPS_OPENAI_ONLY,
                        _ => 0,
                    };
                    fields.push((key_at, r.pos(), drops));
                    keys.push(key);
                }
                if let Some(dup) = first_duplicate(&mut keys) {
                    return Err(duplicate_error(&dup, &param()));
                }
                if fields.iter().any(|f| f.2 != 0) {
                    req.layout.drop_fields(&fields);
                }
                part += 1;
            }
            if part == 0 {
                // As OpenAI refuses it (the spec's minItems): no provider is sent it.
                let param = format!("{}.content", at());
                let message = format!(
                    "Invalid '{param}': empty array. Expected an array with minimum length 1, but got an empty array instead."
                );
                return Err(ApiError::invalid("empty_array", Some(&param), message));
            }
            Ok(true)
        }
        k => Err(wrong_type(&format!("{}.content", at()), "a string, an array of parts or null", k)),
    }
}
