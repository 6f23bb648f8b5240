//! The walk over a JSON Schema that Claude's constrained decoding is to follow (a structured
//! output's, a strict tool's): it writes the schema from the body's text, closed as Claude
//! requires, and refuses what Claude cannot decode, naming where it stands.
//!
//! What it keeps of each schema is bounded by the schema's own bytes: a schema stands in the
//! one above it under a keyword and a name (`properties` `a`, `anyOf` `1`), each held once, and
//! where a refusal stands is spelled from that chain only when there is one (a long property
//! name above thousands of schemas was copied into each: 400 KB of name ran the VM out of
//! memory).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::content::refuse;
use crate::error::ApiError;
use crate::protocol::canonical::minified;
use crate::protocol::raw::{Json, Raw, elements, members};
use crate::protocol::tools::pattern_refused;

/// The keywords Claude's structured outputs take (Anthropic's documented subset, and the
/// annotations that ask nothing of the answer).
const TAKEN: [&str; 23] = [
    "type",
    "enum",
    "const",
    "anyOf",
    "allOf",
    "oneOf",
    "$ref",
    "$defs",
    "definitions",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "format",
    "pattern",
    "title",
    "description",
    "default",
    "examples",
    "$schema",
    "$id",
    "$comment",
];

/// The string formats Claude's structured outputs take.
const FORMATS: [&str; 10] =
    ["date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"];

/// Annotations that ask nothing of the answer and Claude's subset does not name: left out
/// (pydantic writes `discriminator` beside every tagged union's `oneOf`).
const LEFT_OUT: [&str; 7] = [
    "discriminator",
    "deprecated",
    "readOnly",
    "writeOnly",
    "contentMediaType",
    "contentEncoding",
    "nullable",
];

/// What Anthropic's limits on strict schemas count in one: properties their object does not
/// require, and schemas of union types (`anyOf`, a list of types).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tally {
    pub(super) optional: usize,
    pub(super) unions: usize,
}

impl Tally {
    #[cfg(test)]
    pub(super) fn with(optional: usize, unions: usize) -> Tally {
        Tally { optional, unions }
    }

    pub(super) fn add(self, other: Tally) -> Tally {
        Tally { optional: self.optional + other.optional, unions: self.unions + other.unions }
    }
}

/// A schema the walk saw: the one it stands in, and the keyword and name it stands under
/// there (`properties` and the property's name, `anyOf` and its index, `items` and nothing).
struct Node {
    parent: usize,
    keyword: &'static str,
    name: String,
}

/// The walk over one schema.
pub(super) struct Walk {
    /// Where the schema stands in the request: the param path refusals start from.
    root: String,
    /// Every schema walked; the root is the first, standing in itself.
    nodes: Vec<Node>,
    /// Each schema by the one it stands in, its keyword and its name: what a `$ref` names.
    under: HashMap<(usize, &'static str, String), usize>,
    /// Each local `$ref`: the schema holding it, and the JSON pointer it names.
    refs: Vec<(usize, String)>,
    /// The schema being walked.
    current: usize,
    pub(super) tally: Tally,
}

impl Walk {
    /// A walk over the schema standing at `root` (a param path).
    pub(super) fn new(root: String) -> Walk {
        Walk {
            root,
            nodes: Vec::new(),
            under: HashMap::new(),
            refs: Vec::new(),
            current: 0,
            tally: Tally::default(),
        }
    }

    /// The bytes the walk keeps of what it saw (names, and the references' pointers).
    #[cfg(test)]
    pub(super) fn held(&self) -> usize {
        let names: usize = self.nodes.iter().map(|n| n.name.len()).sum();
        2 * names + self.refs.iter().map(|(_, p)| p.len()).sum::<usize>()
    }

    /// Where schema `node` stands, as a param path (`….properties.a.anyOf[1]`).
    fn path(&self, node: usize) -> String {
        let mut chain = Vec::new();
        let mut at = node;
        while let Some(n) = self.nodes.get(at).filter(|_| at != 0) {
            chain.push(n);
            at = n.parent;
        }
        let mut out = self.root.clone();
        for n in chain.iter().rev() {
            out.push('.');
            out.push_str(n.keyword);
            match n.keyword {
                "anyOf" | "oneOf" | "allOf" => {
                    out.push('[');
                    out.push_str(&n.name);
                    out.push(']');
                }
                "items" => {}
                _ => {
                    out.push('.');
                    out.push_str(&n.name);
                }
            }
        }
        out
    }

    /// Where member `key` of the schema being walked stands.
    fn here(&self, key: &str) -> String {
        format!("{}.{key}", self.path(self.current))
    }

    /// Writes the schema `raw` to `out`, closed, refusing what Claude cannot decode: the root,
    /// or the one standing under `keyword` and `name` in the schema being walked.
    pub(super) fn close(&mut self, raw: Json<'_>, out: &mut String) -> Result<(), ApiError> {
        self.enter(raw, "", String::new(), out)
    }

    fn enter(
        &mut self,
        raw: Json<'_>,
        keyword: &'static str,
        name: String,
        out: &mut String,
    ) -> Result<(), ApiError> {
        let parent = self.current;
        let node = self.nodes.len();
        if node > 0 {
            self.under.insert((parent, keyword, name.clone()), node);
        }
        self.nodes.push(Node { parent, keyword, name });
        self.current = node;
        let closed = self.close_node(raw, out);
        self.current = parent;
        closed
    }

    /// [`Walk::close`] for the schema the walk stands in.
    fn close_node(&mut self, raw: Json<'_>, out: &mut String) -> Result<(), ApiError> {
        let text = raw.get().trim();
        if matches!(text, "true" | "false") {
            // A schema of anything or of nothing.
            out.push_str(text);
            return Ok(());
        }
        if !text.starts_with('{') {
            return Err(refuse(&self.path(self.current), "a schema must be an object, true or false"));
        }
        let m = members(raw)?;
        if let Some(twice) = m.repeated() {
            return Err(refuse(&self.here(&twice), "a schema names this member twice"));
        }
        let cannot = |walk: &Walk, key: &str, why: &str| {
            refuse(
                &walk.here(key),
                format!("this model's structured output {why}: leave {key} out, or use a tier"),
            )
        };
        if m.get("oneOf").is_some() && m.get("anyOf").is_some() {
            return Err(cannot(self, "oneOf", "takes anyOf, and oneOf beside it"));
        }
        // The types, decoded (`"obj\u0065ct"` is an object).
        let types = m.get("type").and_then(|t| serde_json::from_str::<Value>(t.get()).ok());
        let named = |t: &str| match &types {
            Some(Value::String(s)) => s == t,
            Some(Value::Array(list)) => list.iter().any(|s| s == t),
            _ => false,
        };
        let object = named("object") || m.get("properties").is_some();
        if matches!(types, Some(Value::Array(_))) || m.get("anyOf").is_some() || m.get("oneOf").is_some() {
            self.tally.unions += 1;
        }
        let mut closed = false;
        out.push('{');
        let mut first = true;
        for (key, v) in m.iter() {
            if LEFT_OUT.contains(&key) {
                continue;
            }
            let Some(&keyword) = TAKEN.iter().find(|k| **k == key) else {
                return Err(cannot(
                    self,
                    key,
                    "takes no such keyword (numeric bounds, string lengths and most array and object constraints are beyond it)",
                ));
            };
            if !first {
                out.push(',');
            }
            first = false;
            let written = if keyword == "oneOf" { "anyOf" } else { keyword };
            out.push_str(&Value::from(written).to_string());
            out.push(':');
            match keyword {
                "properties" => self.map(v, keyword, Some(&required_names(m.get("required"))), out)?,
                "$defs" | "definitions" => self.map(v, keyword, None, out)?,
                "allOf"
                    if elements(v)?
                        .unwrap_or_default()
                        .iter()
                        .any(|b| members(*b).is_ok_and(|b| b.get("$ref").is_some())) =>
                {
                    return Err(cannot(self, key, "takes no $ref inside allOf"));
                }
                "anyOf" | "oneOf" | "allOf" => self.list(v, keyword, out)?,
                "items" if v.get().trim_start().starts_with('[') => {
                    return Err(cannot(self, key, "takes items as one schema, not a tuple"));
                }
                "items" => self.enter(v, keyword, String::new(), out)?,
                "additionalProperties" if minified(v.get()) == "false" => {
                    closed = true;
                    out.push_str("false");
                }
                "additionalProperties" => {
                    return Err(cannot(self, key, "takes only objects closed to unnamed members (false)"));
                }
                "minItems" => match serde_json::from_str::<f64>(v.get()) {
                    Ok(n) if n == 0.0 || n == 1.0 => out.push_str(if n == 0.0 { "0" } else { "1" }),
                    _ => return Err(cannot(self, key, "bounds an array only by minItems 0 or 1")),
                },
                "format" => {
                    let said = serde_json::from_str::<String>(v.get()).unwrap_or_default();
                    if !FORMATS.contains(&said.as_str()) {
                        return Err(cannot(
                            self,
                            key,
                            "takes only the string formats date-time, time, date, duration, email, hostname, uri, ipv4, ipv6 and uuid",
                        ));
                    }
                    out.push_str(&minified(v.get()));
                }
                "pattern" => {
                    let said = serde_json::from_str::<String>(v.get()).unwrap_or_default();
                    if pattern_refused(&said) {
                        return Err(cannot(
                            self,
                            key,
                            "takes a pattern without lookaround, backreferences or word boundaries",
                        ));
                    }
                    out.push_str(&minified(v.get()));
                }
                "enum" => {
                    let scalar = |e: &Json<'_>| !e.get().trim_start().starts_with(['{', '[']);
                    if !elements(v)?.is_some_and(|list| list.iter().all(scalar)) {
                        return Err(cannot(
                            self,
                            key,
                            "takes an enum as a list of strings, numbers, booleans and null",
                        ));
                    }
                    out.push_str(&minified(v.get()));
                }
                "const" if v.get().trim_start().starts_with(['{', '[']) => {
                    return Err(cannot(self, key, "takes a const string, number, boolean or null"));
                }
                "$ref" => {
                    let target = serde_json::from_str::<String>(v.get()).unwrap_or_default();
                    self.reference(target)?;
                    out.push_str(&minified(v.get()));
                }
                _ => out.push_str(&minified(v.get())),
            }
        }
        if object && !closed {
            if !first {
                out.push(',');
            }
            out.push_str(r#""additionalProperties":false"#);
        }
        out.push('}');
        Ok(())
    }

    /// A map of names to schemas (`properties`, `$defs`, `definitions`) under `keyword`; for
    /// `properties`, each one its object does not `required` is counted as it is walked.
    fn map(
        &mut self,
        raw: Json<'_>,
        keyword: &'static str,
        required: Option<&HashSet<String>>,
        out: &mut String,
    ) -> Result<(), ApiError> {
        let m = members(raw)?;
        if !m.object {
            return Err(refuse(&self.here(keyword), "must map names to schemas"));
        }
        if let Some(twice) = m.repeated() {
            return Err(refuse(
                &format!("{}.{twice}", self.here(keyword)),
                "a schema names this member twice",
            ));
        }
        out.push('{');
        for (n, (name, s)) in m.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(&Value::from(name).to_string());
            out.push(':');
            if required.is_some_and(|r| !r.contains(name)) {
                self.tally.optional += 1;
            }
            self.enter(s, keyword, name.to_string(), out)?;
        }
        out.push('}');
        Ok(())
    }

    /// A list of schemas under `keyword`.
    fn list(&mut self, raw: Json<'_>, keyword: &'static str, out: &mut String) -> Result<(), ApiError> {
        let Some(list) = elements(raw)? else {
            return Err(refuse(&self.here(keyword), "must be a list of schemas"));
        };
        out.push('[');
        for (n, one) in list.into_iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            self.enter(one, keyword, n.to_string(), out)?;
        }
        out.push(']');
        Ok(())
    }

    /// A `$ref` in the schema being walked: a local one (`#`, `#/$defs/a`, `#/properties/t`) is
    /// noted for [`Walk::resolve`]; any other is external. A pointer percent-encoded
    /// (`#/%24defs/a`) is refused: whether Claude's decoding reads it as the schema it names is
    /// not known here.
    fn reference(&mut self, target: String) -> Result<(), ApiError> {
        let Some(pointer) = target.strip_prefix('#') else {
            return Err(refuse(
                &self.here("$ref"),
                "this model's structured output takes no external $ref: use a tier",
            ));
        };
        if !(pointer.is_empty() || pointer.starts_with('/')) {
            // `#x`: a plain-name fragment, which names an `$anchor`, not a place.
            return Err(refuse(
                &self.here("$ref"),
                "this model's structured output takes a $ref as a JSON pointer (#/$defs/name): use a tier",
            ));
        }
        if pointer.contains('%') {
            return Err(refuse(
                &self.here("$ref"),
                "this model's structured output takes a $ref as a plain JSON pointer: use a tier",
            ));
        }
        let pointer = pointer.to_string();
        self.refs.push((self.current, pointer));
        Ok(())
    }

    /// The schema a JSON pointer names (`/$defs/a`: keyword and name, `items` alone), if any;
    /// `Err` for one through a `oneOf`, which is written as `anyOf`.
    fn target(&self, pointer: &str) -> Result<Option<usize>, ()> {
        let mut segments = pointer.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~"));
        let mut at = 0;
        if self.nodes.is_empty() {
            return Ok(None);
        }
        while let Some(keyword) = segments.next() {
            let Some(&keyword) = ["properties", "$defs", "definitions", "anyOf", "oneOf", "allOf", "items"]
                .iter()
                .find(|k| **k == keyword)
            else {
                return Ok(None);
            };
            if keyword == "oneOf" {
                return Err(());
            }
            // `items` names its one schema; another keyword names a map or list of them, and
            // `#/$defs` alone the map, not a schema in it.
            let name = match keyword {
                "items" => String::new(),
                _ => match segments.next() {
                    Some(name) => name,
                    None => return Ok(None),
                },
            };
            match self.under.get(&(at, keyword, name)) {
                Some(&node) => at = node,
                None => return Ok(None),
            }
        }
        Ok(Some(at))
    }

    /// Refuses a `$ref` naming no schema of this one, and a recursive schema: a `$ref` inside
    /// the schema it names, directly or through the references inside that one (`#`, a
    /// definition naming itself or another that names it, a property referring to one of its
    /// ancestors). That is a cycle in the graph whose edges lead from each schema to those
    /// standing in it and from each `$ref` to the schema it names: one depth-first search,
    /// linear in the schemas and references.
    pub(super) fn resolve(&self) -> Result<(), ApiError> {
        let nodes = self.nodes.len();
        // Each schema's edges: (the schema it leads to, the reference it is, if one).
        let mut edges: Vec<Vec<(usize, Option<usize>)>> = vec![Vec::new(); nodes];
        for (child, n) in self.nodes.iter().enumerate().skip(1) {
            if let Some(list) = edges.get_mut(n.parent) {
                list.push((child, None));
            }
        }
        let at = |holder: usize| format!("{}.$ref", self.path(holder));
        for (r, (holder, pointer)) in self.refs.iter().enumerate() {
            let target = match self.target(pointer) {
                Ok(Some(t)) => t,
                Ok(None) => {
                    return Err(refuse(
                        &at(*holder),
                        "this model's structured output takes a $ref only to a schema inside this one",
                    ));
                }
                Err(()) => {
                    return Err(refuse(
                        &at(*holder),
                        "this model's structured output takes no $ref into a oneOf (it is sent as anyOf): name an anyOf, or use a tier",
                    ));
                }
            };
            if let Some(list) = edges.get_mut(*holder) {
                list.push((target, Some(r)));
            }
        }
        let recursive = |r: Option<usize>| {
            let holder = r.and_then(|r| self.refs.get(r)).map_or(0, |(h, _)| *h);
            refuse(&at(holder), "this model's structured output takes no recursive schema: use a tier")
        };
        // 0: not reached; 1: on the search's path; 2: done.
        let mut state = vec![0_u8; nodes];
        for start in 0..nodes {
            if state.get(start) != Some(&0) {
                continue;
            }
            // The path: each schema, the next of its edges to follow, the edge it came by.
            let mut path: Vec<(usize, usize, Option<usize>)> = vec![(start, 0, None)];
            if let Some(s) = state.get_mut(start) {
                *s = 1;
            }
            while let Some(top) = path.last_mut() {
                let (node, next) = (top.0, top.1);
                let Some(&(to, by)) = edges.get(node).and_then(|e| e.get(next)) else {
                    if let Some(s) = state.get_mut(node) {
                        *s = 2;
                    }
                    path.pop();
                    continue;
                };
                top.1 += 1;
                match state.get(to) {
                    Some(0) => {
                        if let Some(s) = state.get_mut(to) {
                            *s = 1;
                        }
                        path.push((to, 0, by));
                    }
                    Some(1) => {
                        // Back on the path: the cycle's reference is this edge, or the last
                        // one taken since `to`.
                        let since = path.iter().rev().take_while(|(n, _, _)| *n != to).find_map(|p| p.2);
                        return Err(recursive(by.or(since)));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

/// The names `required` lists (none when it is not a list of names).
fn required_names(required: Raw<'_>) -> HashSet<String> {
    required
        .and_then(|r| elements(r).ok().flatten())
        .map(|list| list.iter().filter_map(|n| serde_json::from_str(n.get()).ok()).collect())
        .unwrap_or_default()
}
