//! The words the feature scanner recognises (reasoning, small talk, stack traces, languages,
//! programming words), as a sorted table compiled into a perfect-enough hash at build time, so
//! a word is classified with one probe and no allocation.

/// Number of entries in [`KEYWORDS`].
pub(crate) const KEYWORD_COUNT: usize = 254;

/// Word classes, as bit flags in [`KEYWORDS`].
pub(crate) const REASONING: u8 = 1;
pub(crate) const SMALL_TALK: u8 = 2;
pub(crate) const TRACE: u8 = 4;
pub(crate) const LANG: u8 = 8;
pub(crate) const CODE: u8 = 16;
pub(crate) const VERB: u8 = 32;
/// A verb that asks for code by itself, whatever follows ("Implement Bellman-Ford"): on the
/// training rows "implement" is in 92 code asks and no other row.
pub(crate) const ASK: u8 = 64;

/// Whole words (lower-case ASCII) the scanner recognises, sorted (to keep them unique):
/// reasoning requests (prove, derive, analyse, trade-off...), small talk, crash words,
/// programming languages and tools, programming nouns, and the build/fix/write verbs that turn
/// a named language or programming noun after them into a code ask.
pub(crate) const KEYWORDS: [(&[u8], u8); KEYWORD_COUNT] = [
    (b"add", VERB),
    (b"algorithm", REASONING | CODE),
    (b"allocator", CODE),
    (b"analyse", REASONING),
    (b"analysis", REASONING),
    (b"analyze", REASONING),
    (b"android", LANG),
    (b"angular", LANG),
    (b"ansible", LANG),
    (b"api", LANG),
    (b"architect", REASONING),
    (b"architecture", REASONING),
    (b"arduino", LANG),
    (b"array", CODE),
    (b"arrays", CODE),
    (b"awk", LANG),
    (b"bash", LANG),
    (b"boilerplate", CODE),
    (b"bug", CODE),
    (b"bugs", CODE),
    (b"build", VERB),
    (b"bye", SMALL_TALK),
    (b"cache", CODE),
    (b"callback", CODE),
    (b"check", VERB),
    (b"checker", CODE),
    (b"cheers", SMALL_TALK),
    (b"class", CODE),
    (b"classes", CODE),
    (b"cli", LANG),
    (b"clojure", LANG),
    (b"cmake", LANG),
    (b"cobol", LANG),
    (b"code", CODE | VERB),
    (b"coding", CODE),
    (b"collector", CODE),
    (b"compare", REASONING),
    (b"compile", CODE | VERB),
    (b"compiler", CODE),
    (b"complexity", REASONING),
    (b"component", CODE),
    (b"concurrency", REASONING),
    (b"constructor", CODE),
    (b"contrast", REASONING),
    (b"convert", VERB),
    (b"counterexample", REASONING),
    (b"cpp", LANG),
    (b"crawler", CODE),
    (b"create", VERB),
    (b"critique", REASONING),
    (b"csharp", LANG),
    (b"css", LANG),
    (b"csv", LANG),
    (b"cuda", LANG),
    (b"curl", LANG),
    (b"dart", LANG),
    (b"dataframe", CODE),
    (b"debug", REASONING | CODE | VERB),
    (b"decorator", CODE),
    (b"deduce", REASONING),
    (b"derivation", REASONING),
    (b"derivative", REASONING),
    (b"derive", REASONING),
    (b"django", LANG),
    (b"docker", LANG),
    (b"dockerfile", LANG),
    (b"dotnet", LANG),
    (b"eigenvalue", REASONING),
    (b"emacs", LANG),
    (b"endpoint", CODE),
    (b"endpoints", CODE),
    (b"enum", CODE),
    (b"equation", REASONING),
    (b"erlang", LANG),
    (b"error", CODE),
    (b"evaluate", REASONING),
    (b"excel", LANG),
    (b"extend", VERB),
    (b"fastapi", LANG),
    (b"fix", VERB),
    (b"flask", LANG),
    (b"flutter", LANG),
    (b"fortran", LANG),
    (b"function", CODE),
    (b"functions", CODE),
    (b"gcc", LANG),
    (b"generate", VERB),
    (b"git", LANG),
    (b"github", LANG),
    (b"gitlab", LANG),
    (b"golang", LANG),
    (b"graphql", LANG),
    (b"grpc", LANG),
    (b"hadoop", LANG),
    (b"haskell", LANG),
    (b"hello", SMALL_TALK),
    (b"helm", LANG),
    (b"hey", SMALL_TALK),
    (b"hi", SMALL_TALK),
    (b"html", LANG),
    (b"hypothesis", REASONING),
    (b"implement", REASONING | CODE | VERB | ASK),
    (b"implementation", CODE),
    (b"induction", REASONING),
    (b"infer", REASONING),
    (b"integral", REASONING),
    (b"invariant", REASONING),
    (b"iterator", CODE),
    (b"java", LANG),
    (b"javascript", LANG),
    (b"jest", LANG),
    (b"jquery", LANG),
    (b"js", LANG),
    (b"json", LANG),
    (b"jsx", LANG),
    (b"junit", LANG),
    (b"jupyter", LANG),
    (b"justify", REASONING),
    (b"k8s", LANG),
    (b"kafka", LANG),
    (b"keras", LANG),
    (b"kotlin", LANG),
    (b"kubernetes", LANG),
    (b"lambda", CODE),
    (b"lemma", REASONING),
    (b"lexer", CODE),
    (b"libraries", CODE),
    (b"library", CODE),
    (b"linux", LANG),
    (b"lisp", LANG),
    (b"llvm", LANG),
    (b"logic", CODE),
    (b"loop", CODE),
    (b"loops", CODE),
    (b"lua", LANG),
    (b"make", VERB),
    (b"makefile", LANG),
    (b"matlab", LANG),
    (b"matplotlib", LANG),
    (b"method", CODE),
    (b"methods", CODE),
    (b"middleware", CODE),
    (b"modify", VERB),
    (b"module", CODE),
    (b"modules", CODE),
    (b"mongodb", LANG),
    (b"morning", SMALL_TALK),
    (b"mysql", LANG),
    (b"nextjs", LANG),
    (b"nginx", LANG),
    (b"node", LANG),
    (b"nodejs", LANG),
    (b"npm", LANG),
    (b"numpy", LANG),
    (b"ocaml", LANG),
    (b"oneliner", CODE),
    (b"optimal", REASONING),
    (b"optimise", REASONING | VERB),
    (b"optimize", REASONING | VERB),
    (b"pandas", LANG),
    (b"panicked", TRACE),
    (b"parse", VERB),
    (b"parser", CODE),
    (b"perl", LANG),
    (b"php", LANG),
    (b"pointer", CODE),
    (b"port", VERB),
    (b"postgres", LANG),
    (b"postgresql", LANG),
    (b"powershell", LANG),
    (b"probability", REASONING),
    (b"program", CODE),
    (b"programming", CODE),
    (b"programs", CODE),
    (b"prolog", LANG),
    (b"prometheus", LANG),
    (b"proof", REASONING),
    (b"prove", REASONING),
    (b"pyspark", LANG),
    (b"pytest", LANG),
    (b"python", LANG),
    (b"pytorch", LANG),
    (b"queries", CODE),
    (b"query", CODE),
    (b"react", LANG),
    (b"recursion", CODE),
    (b"recursive", CODE),
    (b"redis", LANG),
    (b"refactor", REASONING | CODE | VERB),
    (b"regex", LANG),
    (b"review", VERB),
    (b"rewrite", VERB),
    (b"rigorous", REASONING),
    (b"rigorously", REASONING),
    (b"ruby", LANG),
    (b"run", VERB),
    (b"runtime", CODE),
    (b"rust", LANG),
    (b"scala", LANG),
    (b"scheduler", CODE),
    (b"scikit", LANG),
    (b"script", CODE),
    (b"scripts", CODE),
    (b"sdk", LANG),
    (b"segfault", TRACE),
    (b"selenium", LANG),
    (b"semaphore", CODE),
    (b"server", CODE),
    (b"shell", LANG),
    (b"simulate", REASONING),
    (b"sklearn", LANG),
    (b"snippet", CODE),
    (b"solidity", LANG),
    (b"sql", LANG),
    (b"sqlalchemy", LANG),
    (b"sqlite", LANG),
    (b"stacktrace", TRACE),
    (b"strategy", REASONING),
    (b"struct", CODE),
    (b"subroutine", CODE),
    (b"svelte", LANG),
    (b"swift", LANG),
    (b"syntax", CODE),
    (b"tensorflow", LANG),
    (b"terraform", LANG),
    (b"tests", CODE),
    (b"thank", SMALL_TALK),
    (b"thanks", SMALL_TALK),
    (b"theorem", REASONING),
    (b"thx", SMALL_TALK),
    (b"tokenizer", CODE),
    (b"traceback", TRACE),
    (b"tradeoff", REASONING),
    (b"tradeoffs", REASONING),
    (b"typescript", LANG),
    (b"unix", LANG),
    (b"update", VERB),
    (b"validator", CODE),
    (b"variable", CODE),
    (b"variables", CODE),
    (b"vba", LANG),
    (b"verilog", LANG),
    (b"vhdl", LANG),
    (b"vim", LANG),
    (b"vscode", LANG),
    (b"vue", LANG),
    (b"vuejs", LANG),
    (b"webassembly", LANG),
    (b"webpack", LANG),
    (b"websocket", LANG),
    (b"write", VERB),
    (b"xml", LANG),
    (b"yaml", LANG),
    (b"zsh", LANG),
];

/// Words that steer the windows around keywords without a class of their own.
pub(crate) const TAG_COUNT: usize = 9;

/// "step" (of "step by step").
pub(crate) const STEP: u8 = 1;
/// "by" (of "step by step").
pub(crate) const BY: u8 = 2;
/// "how", which the next word may turn into an ask ("how to", "how do").
pub(crate) const HOW: u8 = 3;
/// A word that makes a "how" before it an ask: to, do, can, should, would.
pub(crate) const HOW_ASK: u8 = 4;
/// "about": after it comes a topic ("write a poem about recursion" is not code).
pub(crate) const ABOUT: u8 = 5;

/// The tag words, none of them a keyword.
pub(crate) const TAGS: [(&[u8], u8); TAG_COUNT] = [
    (b"step", STEP),
    (b"by", BY),
    (b"how", HOW),
    (b"to", HOW_ASK),
    (b"do", HOW_ASK),
    (b"can", HOW_ASK),
    (b"should", HOW_ASK),
    (b"would", HOW_ASK),
    (b"about", ABOUT),
];

/// Slots of the keyword hash table (a power of two, about 4x the words: probes stay short).
const SLOTS: usize = 1024;

/// Longest word the table can hold.
pub(crate) const MAX_WORD: usize = 14;

/// A word's first 16 bytes as one integer, byte 0 lowest: compared in one instruction.
// `get` is not const; the loop bound keeps the index inside the word.
#[allow(clippy::indexing_slicing)]
pub(crate) const fn pack(w: &[u8]) -> u128 {
    let mut x = 0u128;
    let mut i = 0;
    while i < w.len() && i < 16 {
        x |= (w[i] as u128) << (8 * i);
        i += 1;
    }
    x
}

/// The table's hash of a word of `len` (2 to 14) bytes, given packed (`pack`) with its last
/// byte: its first two bytes, its last byte and its length, so a word that is no keyword (most
/// of them) costs one multiply, one probe and, rarely, one compare, whatever its length.
const fn word_hash(packed: u128, last: u8, len: usize) -> usize {
    let x = (packed as u32 & 0xFFFF) | ((last as u32) << 16) | ((len as u32) << 24);
    (x.wrapping_mul(0x9E37_79B1) >> 22) as usize & (SLOTS - 1)
}

/// One word the table knows: its bytes packed, length, classes and tag.
struct Entry {
    key: u128,
    len: u8,
    class: u8,
    tag: u8,
}

const ENTRY_COUNT: usize = KEYWORD_COUNT + TAG_COUNT;

// The table stays sparse (its entries are u16: any count fits).
const _: () = assert!(ENTRY_COUNT * 3 < SLOTS);

/// [`KEYWORDS`] then [`TAGS`], packed.
#[allow(clippy::indexing_slicing)] // const evaluation: an out-of-range index fails the build
const ENTRIES: [Entry; ENTRY_COUNT] = {
    let mut e = [const { Entry { key: 0, len: 0, class: 0, tag: 0 } }; ENTRY_COUNT];
    let mut k = 0;
    while k < ENTRY_COUNT {
        let (word, class, tag) = if k < KEYWORD_COUNT {
            (KEYWORDS[k].0, KEYWORDS[k].1, 0)
        } else {
            (TAGS[k - KEYWORD_COUNT].0, 0, TAGS[k - KEYWORD_COUNT].1)
        };
        assert!(word.len() >= 2 && word.len() <= MAX_WORD);
        e[k] = Entry { key: pack(word), len: word.len() as u8, class, tag };
        k += 1;
    }
    e
};

/// Open-addressing table built at compile time: slot -> index + 1 into [`ENTRIES`].
#[allow(clippy::indexing_slicing)] // const evaluation: an out-of-range index fails the build
const TABLE: [u16; SLOTS] = {
    let mut t = [0u16; SLOTS];
    let mut k = 0;
    while k < ENTRY_COUNT {
        let e = &ENTRIES[k];
        let last = (e.key >> (8 * (e.len as u32 - 1))) as u8;
        let mut slot = word_hash(e.key, last, e.len as usize);
        while t[slot] != 0 {
            // A word twice (a tag that is also a keyword) would shadow itself.
            assert!(ENTRIES[t[slot] as usize - 1].key != e.key);
            slot = (slot + 1) & (SLOTS - 1);
        }
        t[slot] = (k + 1) as u16;
        k += 1;
    }
    t
};

/// Classes and tag of a word given packed (`pack`, lower-cased, bytes past `len` zero) with its
/// last byte; `(0, 0)` for most words.
#[inline]
pub(crate) fn lookup(packed: u128, last: u8, len: usize) -> (u8, u8) {
    if !(2..=MAX_WORD).contains(&len) {
        return (0, 0);
    }
    let mut slot = word_hash(packed, last, len);
    loop {
        let index = usize::from(TABLE.get(slot).copied().unwrap_or(0));
        let Some(e) = index.checked_sub(1).and_then(|i| ENTRIES.get(i)) else {
            return (0, 0);
        };
        if e.key == packed && usize::from(e.len) == len {
            return (e.class, e.tag);
        }
        slot = (slot + 1) & (SLOTS - 1);
    }
}

/// The classes of a lower-cased word (0 for most words): the scanner looks words up packed
/// (`lookup`); tests and the reference scanner by their bytes.
#[cfg(test)]
pub(crate) fn classify(word: &[u8]) -> u8 {
    let last = word.last().copied().unwrap_or(0);
    if word.len() > 16 {
        return 0;
    }
    lookup(pack(word), last, word.len()).0
}

/// The tag of a lower-cased word (0 for most words).
#[cfg(test)]
pub(crate) fn tag(word: &[u8]) -> u8 {
    let last = word.last().copied().unwrap_or(0);
    if word.len() > 16 {
        return 0;
    }
    lookup(pack(word), last, word.len()).1
}
