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
];
