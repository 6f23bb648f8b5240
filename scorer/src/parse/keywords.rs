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

/// Slots of the keyword hash table (a power of two, about 5x the keywords).
const SLOTS: usize = 1024;

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
