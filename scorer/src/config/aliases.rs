//! `model_aliases`: names a client sends that the catalog does not have, routed as a tier,
//! `auto` or a catalog model. A client whose model names are its own (Claude Code's
//! `claude-opus-…`, an SDK's default) is served without being reconfigured; what ran is in the
//! answer's headers, and the alias it came by in `x-model-router-alias`.

use std::collections::BTreeMap;

use crate::catalog::{Catalog, Tier};

/// Longest alias or pattern (bytes): a model name is an identifier.
const MAX_NAME: usize = 128;

/// The aliases, validated: exact names, then prefix patterns (`claude-opus-*`), longest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelAliases {
    exact: BTreeMap<String, String>,
    prefixes: Vec<(String, String)>,
}

impl ModelAliases {
    /// The target of `model`: its exact alias, else the longest pattern it starts with. A tier,
    /// `auto` or a catalog model is never looked up here (validation keeps exact aliases off
    /// them; a pattern matching one does not hide it).
    /// A name a pattern matches is one an alias could be (it is echoed in a header).
    pub fn resolve(&self, model: &str) -> Option<&str> {
        if let Some(target) = self.exact.get(model) {
            return Some(target);
        }
        if !is_name(model) {
            return None;
        }
        self.prefixes.iter().find(|(prefix, _)| model.starts_with(prefix.as_str())).map(|(_, t)| t.as_str())
    }

    /// The exact aliases and their targets, in name order (`GET /v1/models` lists them).
    pub fn exact(&self) -> impl Iterator<Item = (&str, &str)> {
        self.exact.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The aliases as configured, checked against `catalog`: a name of 1-128 printable ASCII
    /// characters, `*` only at its end (a prefix pattern, not `*` alone); an exact name that is
    /// not `auto`, a tier, or a model or embedding name of the catalog (it would hide it); a
    /// target that is `auto`, a tier or a chat model of the catalog (never another alias).
    pub(super) fn from_raw(raw: BTreeMap<String, String>, catalog: &Catalog) -> Result<Self, String> {
        let mut out = ModelAliases::default();
        for (name, target) in raw {
            let pattern = name.strip_suffix('*');
            let stem = pattern.unwrap_or(&name);
            let name_ok = is_name(stem) && name.len() <= MAX_NAME && !stem.contains('*');
            if !name_ok {
                return Err(format!(
                    "model_aliases: {name:?} is not a model name: use 1-{MAX_NAME} printable characters, with * only at the end for a prefix"
                ));
            }
            if pattern.is_none() && catalog.serves(&name) {
                return Err(format!(
                    "model_aliases: {name:?} is a name the router already serves: an alias would hide it"
                ));
            }
            if !(target == "auto" || Tier::parse(&target).is_some() || catalog.has_model(&target)) {
                return Err(format!(
                    "model_aliases: {name:?} names {target:?}, which is not auto, a tier or a chat model of the catalog"
                ));
            }
            match pattern {
                Some(prefix) => out.prefixes.push((prefix.to_string(), target)),
                None => {
                    out.exact.insert(name, target);
                }
            }
        }
        // Longest first: `claude-opus-4-*` before `claude-*`.
        out.prefixes.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Ok(out)
    }
}

/// 1-[`MAX_NAME`] printable ASCII characters other than a quote or a backslash.
fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_NAME && s.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn config(aliases: &str) -> Result<Config, String> {
        Config::from_json(format!(r#"{{"model_aliases":{aliases}}}"#).as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn exact_names_win_then_the_longest_prefix() {
        let c = config(
            r#"{"claude-*":"standard","claude-opus-*":"premium","claude-opus-5-5":"claude-opus-4-7","gpt-4o":"auto"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let a = &c.model_aliases;
        assert_eq!(a.resolve("claude-opus-5-5"), Some("claude-opus-4-7"));
        assert_eq!(a.resolve("claude-opus-6"), Some("premium"));
        assert_eq!(a.resolve("claude-haiku-5-5"), Some("standard"));
        assert_eq!(a.resolve("gpt-4o"), Some("auto"));
        assert_eq!(a.resolve("gpt-4o-mini"), None);
        assert_eq!(a.resolve("claude"), None);
        // What a pattern matches is echoed in a header: a name with a line break is no name.
        assert_eq!(a.resolve("claude-x\r\nset-cookie: a"), None);
        assert_eq!(a.resolve(&format!("claude-{}", "x".repeat(200))), None);
        assert_eq!(
            a.exact().collect::<Vec<_>>(),
            [("claude-opus-5-5", "claude-opus-4-7"), ("gpt-4o", "auto")]
        );
    }

    #[test]
    fn names_that_would_hide_or_chain_or_mean_nothing_are_refused() {
        for (aliases, says) in [
            (r#"{"economy":"premium"}"#, "already serves"),
            (r#"{"auto":"premium"}"#, "already serves"),
            (r#"{"gpt-4.1":"premium"}"#, "already serves"),
            (r#"{"embed-small":"premium"}"#, "already serves"),
            (r#"{"a":"b","b":"premium"}"#, "not auto, a tier"),
            (r#"{"a":"text-embedding-3-small"}"#, "not auto, a tier"),
            (r#"{"*":"premium"}"#, "not a model name"),
            (r#"{"a*b":"premium"}"#, "not a model name"),
            (r#"{"a b":"premium"}"#, "not a model name"),
            (r#"{"":"premium"}"#, "not a model name"),
        ] {
            let e = config(aliases).err().unwrap_or_default();
            assert!(e.contains(says), "{aliases}: {e}");
        }
        // A pattern over catalog names is fine: the catalog's own names are served as they are.
        assert!(config(r#"{"gpt-*":"economy"}"#).is_ok());
    }
}
