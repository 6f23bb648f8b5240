//! A small validating JSON reader over a UTF-8 request body.
//!
//! It walks the bytes once, hands out borrowed string slices where the JSON has no escapes, and
//! reports byte offsets so the caller can splice the original document instead of re-serialising
//! it. Values the caller does not need are validated and skipped without allocating.

mod string;

use std::borrow::Cow;

/// Nesting deeper than this is refused: it bounds the work and the stack for hostile bodies.
pub const MAX_DEPTH: usize = 128;

/// Why a document is not JSON the router accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// The input ended inside a value.
    UnexpectedEnd,
    /// A byte that cannot start or continue a value here.
    UnexpectedByte(u8),
    /// A backslash escape that JSON does not define, or a malformed `\u` escape.
    BadEscape,
    /// A `\u` escape naming half of a surrogate pair without the other half.
    LoneSurrogate,
    /// A raw control character (below 0x20) inside a string.
    ControlInString,
    /// A number that does not follow the JSON grammar.
    BadNumber,
    /// Objects and arrays nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Non-whitespace bytes after the top-level value.
    TrailingData,
}

/// A JSON syntax error and the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What was wrong.
    pub kind: JsonErrorKind,
    /// Byte offset into the document.
    pub offset: usize,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match &self.kind {
            JsonErrorKind::UnexpectedEnd => "unexpected end of input".to_string(),
            JsonErrorKind::UnexpectedByte(b) if b.is_ascii_graphic() => {
                format!("unexpected character '{}'", *b as char)
            }
            JsonErrorKind::UnexpectedByte(b) => format!("unexpected byte 0x{b:02x}"),
            JsonErrorKind::BadEscape => "invalid escape sequence in string".to_string(),
            JsonErrorKind::LoneSurrogate => "unpaired surrogate in \\u escape".to_string(),
            JsonErrorKind::ControlInString => "unescaped control character in string".to_string(),
            JsonErrorKind::BadNumber => "invalid number".to_string(),
            JsonErrorKind::TooDeep => format!("nesting deeper than {MAX_DEPTH} levels"),
            JsonErrorKind::TrailingData => "data after the JSON value".to_string(),
        };
        write!(f, "{what} at byte {}", self.offset)
    }
}

impl std::error::Error for JsonError {}

/// The kind of the next value, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `{`
    Object,
    /// `[`
    Array,
    /// `"`
    String,
    /// `-` or a digit
    Number,
    /// `true` or `false`
    Bool,
    /// `null`
    Null,
}

impl Kind {
    /// The JSON type name used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Object => "object",
            Kind::Array => "array",
            Kind::String => "string",
            Kind::Number => "number",
            Kind::Bool => "boolean",
            Kind::Null => "null",
        }
    }
}

/// Cursor over a document. Methods consume one syntactic element and leave the cursor after it.
pub struct Reader<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    /// Bytes the escapes of the strings read so far take beyond the UTF-8 they stand for
    /// ([`Reader::unescaped_since`]).
    escaped: usize,
}

/// Iteration state for the members of one object (see [`Reader::object`]).
pub struct ObjectIter {
    first: bool,
}

/// Iteration state for the elements of one array (see [`Reader::array`]).
pub struct ArrayIter {
    first: bool,
}

type Result<T> = std::result::Result<T, JsonError>;

impl<'a> Reader<'a> {
    /// A reader at the start of `src`.
    pub fn new(src: &'a str) -> Self {
        Reader { src, pos: 0, depth: 0, escaped: 0 }
    }

    /// Current byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Where the reader is, for [`Reader::unescaped_since`].
    pub fn mark(&self) -> (usize, usize) {
        (self.pos, self.escaped)
    }

    /// The bytes read since `mark`, each string's escapes counted as the UTF-8 they stand for:
    /// `\u4e2d`, as Python's `json.dumps` writes every non-ASCII character by default, is the
    /// three bytes of 中, not six (the estimate counted twice the tokens of escaped Chinese).
    pub fn unescaped_since(&self, (pos, escaped): (usize, usize)) -> usize {
        (self.pos - pos).saturating_sub(self.escaped - escaped)
    }

    /// The whole document.
    pub(crate) fn text(&self) -> &'a str {
        self.src
    }

    /// Moves the cursor to `pos`, at the same depth: for a caller that knows the bytes up to
    /// `pos` are ones it read before (a remembered prefix of an array's elements).
    pub(crate) fn skip_to(&mut self, pos: usize) {
        self.pos = pos;
    }

    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    fn err<T>(&self, kind: JsonErrorKind) -> Result<T> {
        Err(JsonError { kind, offset: self.pos })
    }

    fn unexpected<T>(&self) -> Result<T> {
        match self.bytes().get(self.pos) {
            Some(b) => self.err(JsonErrorKind::UnexpectedByte(*b)),
            None => self.err(JsonErrorKind::UnexpectedEnd),
        }
    }

    /// Skips whitespace and returns the next byte without consuming it.
    pub fn peek(&mut self) -> Option<u8> {
        let b = self.bytes();
        while let Some(&c) = b.get(self.pos) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                return Some(c);
            }
        }
        None
    }

    /// The kind of the next value, without consuming it.
    pub fn peek_kind(&mut self) -> Result<Kind> {
        match self.peek() {
            Some(b'{') => Ok(Kind::Object),
            Some(b'[') => Ok(Kind::Array),
            Some(b'"') => Ok(Kind::String),
            Some(b'-' | b'0'..=b'9') => Ok(Kind::Number),
            Some(b't' | b'f') => Ok(Kind::Bool),
            Some(b'n') => Ok(Kind::Null),
            _ => self.unexpected(),
        }
    }

    fn eat(&mut self, want: u8) -> Result<()> {
        if self.peek() == Some(want) {
            self.pos += 1;
            Ok(())
        } else {
            self.unexpected()
        }
    }

    /// Succeeds when only whitespace is left.
    pub fn finish(&mut self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => self.err(JsonErrorKind::TrailingData),
        }
    }

    fn enter(&mut self) -> Result<()> {
        if self.depth >= MAX_DEPTH {
            return self.err(JsonErrorKind::TooDeep);
        }
        self.depth += 1;
        Ok(())
    }

    /// Consumes `{` and returns the state for [`ObjectIter::next_key`].
    pub fn object(&mut self) -> Result<ObjectIter> {
        self.eat(b'{')?;
        self.enter()?;
        Ok(ObjectIter { first: true })
    }

    /// Consumes `[` and returns the state for [`ArrayIter::next`].
    pub fn array(&mut self) -> Result<ArrayIter> {
        self.eat(b'[')?;
        self.enter()?;
        Ok(ArrayIter { first: true })
    }

    /// Reads a number and returns its source text, checked against the JSON grammar.
    pub fn number(&mut self) -> Result<&'a str> {
        self.peek();
        let b = self.bytes();
        let start = self.pos;
        let mut i = start;
        let digits = |i: &mut usize| {
            let s = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - s
        };
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            // No digit follows a leading zero (`02` is not JSON): read as `0` and the `2` left
            // over, a member's own check answered first with the wrong error.
            Some(b'0') if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                self.pos = i + 1;
                return self.err(JsonErrorKind::BadNumber);
            }
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                digits(&mut i);
            }
            _ => {
                self.pos = i;
                return self.err(JsonErrorKind::BadNumber);
            }
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if digits(&mut i) == 0 {
                self.pos = i;
                return self.err(JsonErrorKind::BadNumber);
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                self.pos = i;
                return self.err(JsonErrorKind::BadNumber);
            }
        }
        self.pos = i;
        Ok(self.slice(start, i))
    }

    /// Reads `true` or `false`.
    pub fn boolean(&mut self) -> Result<bool> {
        self.peek();
        let rest = self.bytes().get(self.pos..).unwrap_or_default();
        if rest.starts_with(b"true") {
            self.pos += 4;
            Ok(true)
        } else if rest.starts_with(b"false") {
            self.pos += 5;
            Ok(false)
        } else {
            self.unexpected()
        }
    }

    /// Reads `null`.
    pub fn null(&mut self) -> Result<()> {
        self.peek();
        if self.bytes().get(self.pos..).unwrap_or_default().starts_with(b"null") {
            self.pos += 4;
            Ok(())
        } else {
            self.unexpected()
        }
    }

    /// Validates and skips one value of any kind.
    pub fn skip_value(&mut self) -> Result<()> {
        match self.peek_kind()? {
            Kind::Object => {
                let mut it = self.object()?;
                while it.next_key_raw(self)? {
                    self.skip_value()?;
                }
            }
            Kind::Array => {
                let mut it = self.array()?;
                while it.next(self)? {
                    self.skip_value()?;
                }
            }
            Kind::String => {
                self.skip_string()?;
            }
            Kind::Number => {
                self.number()?;
            }
            Kind::Bool => {
                self.boolean()?;
            }
            Kind::Null => self.null()?,
        }
        Ok(())
    }
}

impl ObjectIter {
    /// Moves to the next member: returns its key with the cursor on the value, or `None` after
    /// the closing brace.
    pub fn next_key<'a>(&mut self, r: &mut Reader<'a>) -> Result<Option<Cow<'a, str>>> {
        if !self.step(r)? {
            return Ok(None);
        }
        let key = r.string()?;
        r.eat(b':')?;
        Ok(Some(key))
    }

    /// Like [`ObjectIter::next_key`], also returning the offset of the key's opening quote.
    pub fn next_key_at<'a>(&mut self, r: &mut Reader<'a>) -> Result<Option<(usize, Cow<'a, str>)>> {
        if !self.step(r)? {
            return Ok(None);
        }
        let at = r.pos;
        let key = r.string()?;
        r.eat(b':')?;
        Ok(Some((at, key)))
    }

    /// Like [`ObjectIter::next_key`] for callers that do not need the key.
    fn next_key_raw(&mut self, r: &mut Reader<'_>) -> Result<bool> {
        if !self.step(r)? {
            return Ok(false);
        }
        r.skip_string()?;
        r.eat(b':')?;
        Ok(true)
    }

    /// Handles the separator: true when a member follows, false after `}`.
    fn step(&mut self, r: &mut Reader<'_>) -> Result<bool> {
        match r.peek() {
            Some(b'}') => {
                r.pos += 1;
                r.depth -= 1;
                return Ok(false);
            }
            Some(b',') if !self.first => r.pos += 1,
            Some(b'"') if self.first => {}
            _ => return r.unexpected(),
        }
        self.first = false;
        if r.peek() == Some(b'"') { Ok(true) } else { r.unexpected() }
    }
}

impl ArrayIter {
    /// The state after an element, for an iteration resumed with [`Reader::skip_to`].
    pub(crate) fn after_element() -> ArrayIter {
        ArrayIter { first: false }
    }

    /// True with the cursor on the next element; false after the closing bracket.
    pub fn next(&mut self, r: &mut Reader<'_>) -> Result<bool> {
        match r.peek() {
            Some(b']') => {
                r.pos += 1;
                r.depth -= 1;
                return Ok(false);
            }
            Some(b',') if !self.first => {
                r.pos += 1;
                r.peek();
            }
            Some(_) if self.first => {}
            _ => return r.unexpected(),
        }
        self.first = false;
        Ok(true)
    }
}

/// Writes `s` as a JSON string literal (with quotes) into `out`.
pub fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// The value of a JSON number's text (as [`Reader::number`] returns it) when it is a
/// non-negative whole number: `16`, `16.0`, `1e3` and `1600e-2` all are, as JSON Schema's
/// `integer` (and so the OpenAI spec) counts them. Fractions, negatives and values past `u64`
/// are `None`. Exact decimal arithmetic: no float rounding decides.
pub fn whole_number(text: &str) -> Option<u64> {
    if text.starts_with('-') {
        return None;
    }
    let (mantissa, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().ok()?),
        None => (text, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    // Digits left of this index are the integer part, the rest must all be zero.
    let point = i64::try_from(int.len()).ok()?.checked_add(exp)?;
    let mut value: u64 = 0;
    let mut count: i64 = 0;
    for d in int.bytes().chain(frac.bytes()) {
        let d = u64::from(d.checked_sub(b'0').filter(|d| *d <= 9)?);
        if count < point {
            value = value.checked_mul(10)?.checked_add(d)?;
        } else if d != 0 {
            return None;
        }
        count += 1;
    }
    // Trailing zeros the exponent adds; at most 20 before a non-zero value overflows.
    while value != 0 && count < point {
        value = value.checked_mul(10)?;
        count += 1;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip_all(s: &str) -> std::result::Result<(), JsonErrorKind> {
        let mut r = Reader::new(s);
        r.skip_value().and_then(|()| r.finish()).map_err(|e| e.kind)
    }

    #[test]
    fn accepts_valid_documents() {
        for doc in [
            r#"{}"#,
            r#"[]"#,
            r#" {"a" : [1, -2.5e+3, 0, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"]} "#,
            r#"{"a":{"b":{"c":[[[]]]}}}"#,
            "\"plain\"",
            "-0.0E1",
        ] {
            assert_eq!(skip_all(doc), Ok(()), "{doc}");
        }
    }

    #[test]
    fn rejects_invalid_documents() {
        use JsonErrorKind::*;
        let cases: &[(&str, JsonErrorKind)] = &[
            ("", UnexpectedEnd),
            ("{", UnexpectedEnd),
            (r#"{"a":1,}"#, UnexpectedByte(b'}')),
            (r#"{"a" 1}"#, UnexpectedByte(b'1')),
            (r#"[1,]"#, UnexpectedByte(b']')),
            (r#"[1 2]"#, UnexpectedByte(b'2')),
            (r#"{a:1}"#, UnexpectedByte(b'a')),
            ("01", BadNumber),
            ("-007", BadNumber),
            ("[00.5]", BadNumber),
            ("1.", BadNumber),
            ("-", BadNumber),
            ("1e", BadNumber),
            ("NaN", UnexpectedByte(b'N')),
            ("tru", UnexpectedByte(b't')),
            (r#""a\x""#, BadEscape),
            (r#""\u12""#, BadEscape),
            (r#""\ud83d""#, LoneSurrogate),
            (r#""\ude00""#, LoneSurrogate),
            ("\"a\nb\"", ControlInString),
            (r#"{"a":1} x"#, TrailingData),
            (r#""open"#, UnexpectedEnd),
        ];
        for (doc, want) in cases {
            assert_eq!(skip_all(doc), Err(want.clone()), "{doc:?}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert_eq!(skip_all(&ok), Ok(()));
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(skip_all(&deep), Err(JsonErrorKind::TooDeep));
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        let mut r = Reader::new(r#""plain""#);
        assert!(matches!(r.string(), Ok(Cow::Borrowed("plain"))));
        let mut r = Reader::new(r#""a\nb\u0041""#);
        assert_eq!(r.string().ok().as_deref(), Some("a\nbA"));
    }

    #[test]
    fn write_string_round_trips() {
        for s in ["plain", "quote\" back\\ nl\n ctl\u{1} é 😀"] {
            let mut out = Vec::new();
            write_string(&mut out, s);
            let text = String::from_utf8(out).unwrap_or_default();
            let mut r = Reader::new(&text);
            assert_eq!(r.string().ok().as_deref(), Some(s));
        }
    }

    #[test]
    fn whole_numbers_in_any_notation_are_integers() {
        let cases: [(&str, Option<u64>); 16] = [
            ("16", Some(16)),
            ("0", Some(0)),
            ("16.0", Some(16)),
            ("1.000", Some(1)),
            ("1e3", Some(1000)),
            ("1E+3", Some(1000)),
            ("1.5e1", Some(15)),
            ("1600e-2", Some(16)),
            ("0e999999", Some(0)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("1e20", None),
            ("16.5", None),
            ("1e-1", None),
            ("-1", None),
            ("-0.0", None),
        ];
        for (text, want) in cases {
            assert_eq!(whole_number(text), want, "{text}");
        }
    }
}
