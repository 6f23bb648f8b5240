//! The words the feature scanner recognises (reasoning, small talk, stack traces, languages,
//! programming words), as a sorted table compiled into a perfect-enough hash at build time, so
//! a word is classified with one probe and no allocation.

/// Number of entries in [`KEYWORDS`].
pub(crate) const KEYWORD_COUNT: usize = 112;

/// Word classes, as bit flags in [`KEYWORDS`].
pub(crate) const REASONING: u8 = 1;
pub(crate) const SMALL_TALK: u8 = 2;
pub(crate) const TRACE: u8 = 4;
pub(crate) const LANG: u8 = 8;
pub(crate) const CODE: u8 = 16;

/// Whole words (lower-case ASCII) the scanner recognises, sorted (to keep them unique):
/// reasoning requests (prove, derive, analyse, trade-off...), small talk, crash words,
/// programming languages and tools, and programming nouns and verbs.
pub(crate) const KEYWORDS: [(&[u8], u8); KEYWORD_COUNT] = [
    (b"algorithm", REASONING),
    (b"analyse", REASONING),
    (b"analysis", REASONING),
    (b"analyze", REASONING),
    (b"api", LANG),
    (b"architect", REASONING),
    (b"architecture", REASONING),
    (b"array", CODE),
    (b"bash", LANG),
    (b"bug", CODE),
    (b"bye", SMALL_TALK),
    (b"cheers", SMALL_TALK),
    (b"class", CODE),
    (b"code", CODE),
    (b"compare", REASONING),
    (b"compile", CODE),
    (b"compiler", CODE),
    (b"complexity", REASONING),
    (b"concurrency", REASONING),
    (b"contrast", REASONING),
    (b"counterexample", REASONING),
    (b"cpp", LANG),
    (b"critique", REASONING),
    (b"css", LANG),
    (b"debug", REASONING | CODE),
    (b"deduce", REASONING),
    (b"derivation", REASONING),
    (b"derivative", REASONING),
    (b"derive", REASONING),
    (b"django", LANG),
    (b"docker", LANG),
    (b"dockerfile", LANG),
    (b"eigenvalue", REASONING),
    (b"endpoint", CODE),
    (b"equation", REASONING),
    (b"error", CODE),
    (b"evaluate", REASONING),
    (b"excel", LANG),
    (b"function", CODE),
    (b"functions", CODE),
    (b"git", LANG),
    (b"golang", LANG),
    (b"haskell", LANG),
    (b"hello", SMALL_TALK),
    (b"hey", SMALL_TALK),
    (b"hi", SMALL_TALK),
    (b"html", LANG),
    (b"hypothesis", REASONING),
    (b"implement", REASONING | CODE),
    (b"induction", REASONING),
    (b"infer", REASONING),
    (b"integral", REASONING),
    (b"invariant", REASONING),
    (b"java", LANG),
    (b"javascript", LANG),
    (b"json", LANG),
    (b"justify", REASONING),
    (b"kotlin", LANG),
    (b"kubernetes", LANG),
    (b"lemma", REASONING),
    (b"library", CODE),
    (b"linux", LANG),
    (b"loop", CODE),
    (b"matlab", LANG),
    (b"method", CODE),
    (b"module", CODE),
    (b"morning", SMALL_TALK),
    (b"node", LANG),
    (b"nodejs", LANG),
    (b"numpy", LANG),
    (b"optimal", REASONING),
    (b"optimise", REASONING),
    (b"optimize", REASONING),
    (b"pandas", LANG),
    (b"panicked", TRACE),
    (b"php", LANG),
    (b"powershell", LANG),
    (b"probability", REASONING),
    (b"program", CODE),
    (b"proof", REASONING),
    (b"prove", REASONING),
    (b"python", LANG),
    (b"query", CODE),
    (b"react", LANG),
    (b"refactor", REASONING | CODE),
    (b"regex", LANG),
    (b"rigorous", REASONING),
    (b"rigorously", REASONING),
    (b"ruby", LANG),
    (b"rust", LANG),
    (b"scala", LANG),
    (b"script", CODE),
    (b"segfault", TRACE),
    (b"shell", LANG),
    (b"simulate", REASONING),
    (b"snippet", CODE),
    (b"sql", LANG),
    (b"stacktrace", TRACE),
    (b"strategy", REASONING),
    (b"swift", LANG),
    (b"syntax", CODE),
    (b"thank", SMALL_TALK),
    (b"thanks", SMALL_TALK),
    (b"theorem", REASONING),
    (b"thx", SMALL_TALK),
    (b"traceback", TRACE),
    (b"tradeoff", REASONING),
    (b"tradeoffs", REASONING),
    (b"typescript", LANG),
    (b"variable", CODE),
    (b"vba", LANG),
    (b"yaml", LANG),
];

/// Slots of the keyword hash table (a power of two, about 5x the keywords).
const SLOTS: usize = 512;

// Indexing in const evaluation fails the build, never a running filter.
#[allow(clippy::indexing_slicing)]
const fn word_hash(w: &[u8]) -> usize {
    let mut h: u32 = 0;
    let mut i = 0;
    while i < w.len() {
        h = h.wrapping_mul(31).wrapping_add(w[i] as u32);
        i += 1;
    }
    (h ^ (h >> 9)) as usize & (SLOTS - 1)
}

// Indices fit the table's u8 entries and the table stays sparse.
const _: () = assert!(KEYWORD_COUNT < 255 && KEYWORD_COUNT * 4 < SLOTS);

/// Open-addressing table built at compile time: slot -> index + 1 into [`KEYWORDS`].
#[allow(clippy::indexing_slicing)] // const evaluation: an out-of-range index fails the build
const TABLE: [u8; SLOTS] = {
    let mut t = [0u8; SLOTS];
    let mut k = 0;
    while k < KEYWORD_COUNT {
        let mut slot = word_hash(KEYWORDS[k].0);
        while t[slot] != 0 {
            slot = (slot + 1) & (SLOTS - 1);
        }
        t[slot] = (k + 1) as u8;
        k += 1;
    }
    t
};

/// The classes of a lower-cased word (0 for most words).
pub(crate) fn classify(word: &[u8]) -> u8 {
    if word.len() < 2 || word.len() > 14 {
        return 0;
    }
    let mut slot = word_hash(word);
    loop {
        let entry = usize::from(TABLE.get(slot).copied().unwrap_or(0));
        let Some((key, class)) = entry.checked_sub(1).and_then(|i| KEYWORDS.get(i)) else {
            return 0;
        };
        if *key == word {
            return *class;
        }
        slot = (slot + 1) & (SLOTS - 1);
    }
}
