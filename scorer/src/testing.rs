//! Test helpers shared by the property tests: a small seeded generator, so a failing case is
//! the same case on every machine.

/// A linear congruential generator (Knuth's MMIX constants).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }

    /// `min` to `min + spread - 1` pieces, each picked from `pieces`, joined.
    pub(crate) fn pieces(&mut self, pieces: &[&str], min: usize, spread: usize) -> String {
        (0..min + self.below(spread)).map(|_| pieces[self.below(pieces.len())]).collect()
    }

    /// A random JSON text with random whitespace, members out of name order and sometimes
    /// named twice, escapes, and numbers serde_json reads as integers and as floats.
    pub(crate) fn json(&mut self, depth: usize) -> String {
        let rng = self;
        let ws = |rng: &mut Rng| [" ", "", "\n  ", "\t"][rng.below(4)].to_string();
        match if depth > 4 { 2 + rng.below(4) } else { rng.below(6) } {
            0 => {
                let n = rng.below(5);
                let members: Vec<String> = (0..n)
                    .map(|_| {
                        let key = KEYS[rng.below(KEYS.len())];
                        format!("{}\"{key}\"{}:{}{}", ws(rng), ws(rng), ws(rng), rng.json(depth + 1))
                    })
                    .collect();
                format!("{{{}{}}}", members.join(","), ws(rng))
            }
            1 => {
                let n = rng.below(4);
                let items: Vec<String> =
                    (0..n).map(|_| format!("{}{}", ws(rng), rng.json(depth + 1))).collect();
                format!("[{}{}]", items.join(","), ws(rng))
            }
            2 => format!("\"{}\"", STRINGS[rng.below(STRINGS.len())]),
            3 => NUMBERS[rng.below(NUMBERS.len())].to_string(),
            4 => ["true", "false"][rng.below(2)].to_string(),
            _ => "null".to_string(),
        }
    }

    /// `items` joined in a random rotation (member order is the client's).
    pub(crate) fn rotated(&mut self, mut items: Vec<String>) -> String {
        let by = self.below(items.len().max(1));
        items.rotate_left(by);
        items.join(", ")
    }

    /// A random `tools` member: function tools and others, with names, descriptions,
    /// parameters, `strict` and `cache_control` of every kind, members in any order and
    /// sometimes named twice.
    pub(crate) fn tools(&mut self) -> String {
        let rng = self;
        let tools: Vec<String> = (0..rng.below(4))
            .map(|_| {
                let mut function = Vec::new();
                match rng.below(6) {
                    0 => {}
                    1 => function.push(r#""name": 3"#.to_string()),
                    2 => function.push(r#""name": """#.to_string()),
                    _ => function.push(format!(r#""name": "t{}""#, rng.below(9))),
                }
                match rng.below(6) {
                    0 => {}
                    1 => function.push(r#""description": null"#.to_string()),
                    5 => function.push(r#""description": 3"#.to_string()),
                    2 => function.push(r#""description": """#.to_string()),
                    _ => function.push(r#""description": "Reads \"a\" file.\n\u00e9""#.to_string()),
                }
                match rng.below(7) {
                    0 => {}
                    1 => function.push(r#""parameters": null"#.to_string()),
                    2 => function.push(r#""parameters": "x""#.to_string()),
                    6 => function.push(r#""parameters": { }"#.to_string()),
                    3 => function.push(format!(
                        r#""parameters": {{"type": "object", "properties": {{"p": {}, "a": {}}}, "required": ["p"]}}"#,
                        rng.json(2),
                        rng.json(2)
                    )),
                    _ => function.push(format!(
                        r#""parameters": {{"properties": {{"path": {{"type": "string", "description": "{}"}}}}, "type": "object", "additionalProperties": false, "required": ["path"], "maxItems": {}}}"#,
                        [r"The file\n", "", r#"caf\u00e9 \"x\""#][rng.below(3)],
                        rng.below(1000)
                    )),
                }
                match rng.below(5) {
                    0 => function.push(r#""strict": true"#.to_string()),
                    1 => function.push(r#""strict": false"#.to_string()),
                    2 => function.push(r#""strict": "yes""#.to_string()),
                    _ => {}
                }
                if rng.below(10) == 0 {
                    function.push(r#""name": "again""#.to_string());
                }
                if rng.below(4) == 0 {
                    // A member no translator reads: dropped, unless it holds what serde refuses.
                    function.push(format!(r#""x": {}"#, rng.json(3)));
                }
                let mut tool = match rng.below(12) {
                    0 => Vec::new(),
                    1 => vec![r#""function": "f""#.to_string()],
                    _ => vec![format!(r#""function": {{{}}}"#, rng.rotated(function))],
                };
                match rng.below(12) {
                    0 => tool.push(r#""type": "function""#.to_string()),
                    1 => tool.push(format!(r#""y": {}"#, rng.json(3))),
                    _ => {}
                }
                match rng.below(6) {
                    0 => {}
                    1 => tool.push(r#""type": "web_search""#.to_string()),
                    _ => tool.push(r#""type": "function""#.to_string()),
                }
                match rng.below(4) {
                    0 => tool.push(format!(r#""cache_control": {}"#, rng.json(3))),
                    1 => tool.push(r#""cache_control": {"type": "ephemeral"}"#.to_string()),
                    _ => {}
                }
                match rng.below(40) {
                    0 => "\"f\"".to_string(),
                    1 => "[1]".to_string(),
                    _ => format!("{{{}}}", rng.rotated(tool)),
                }
            })
            .collect();
        match rng.below(40) {
            0 => r#"{"type": "function"}"#.to_string(),
            _ => format!("[{}]", tools.join(", ")),
        }
    }
}

const KEYS: &[&str] = &["type", "properties", "a", "b", "required", "é", "A", "\\u00e9", "a\\nb", "", "ab"];
const STRINGS: &[&str] = &[
    "plain",
    "",
    "with \\\"quotes\\\" and \\\\ and \\/",
    "line\\nbreak\\ttab\\r\\b\\f",
    "\\u0001\\u001f\\u007f control",
    "caf\\u00e9 and café, \\ud83d\\ude00 and 😀",
    "\\u2028\\u2029",
];
const NUMBERS: &[&str] = &[
    "0",
    "7",
    "-3",
    "-0",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "1.5",
    "1e3",
    "2E-2",
    "-0.0",
    // Beyond f64: serde_json refuses these, the router's reader carries them.
    "1e400",
    "-2E+999",
    "1e-400",
];
