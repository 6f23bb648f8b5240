//! Clients' metric labels: each client the configuration names has its own, and `other` is
//! every client it does not name (an id is the caller's to choose, and each would be a metric
//! Envoy keeps for good).

use std::collections::BTreeMap;

/// A value as one segment of a metric name: dots (the separator) and anything outside
/// `[A-Za-z0-9_-]` become `_`, so tag extraction sees whole values.
pub fn metric_segment(v: &str) -> String {
    v.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// The first client whose label is not its own: another's (`Some`, their spend drawn as one,
/// the limit flipping) or `other` (`None`: a client so named was summed with every stranger).
pub(super) fn clash<'a>(ids: impl Iterator<Item = &'a String>) -> Option<(Option<String>, String)> {
    let mut labels: BTreeMap<String, &String> = BTreeMap::new();
    for id in ids {
        let label = metric_segment(id);
        if label == "other" {
            return Some((None, id.clone()));
        }
        match labels.insert(label, id) {
            Some(other) if other != id => return Some((Some(other.clone()), id.clone())),
            _ => {}
        }
    }
    None
}
