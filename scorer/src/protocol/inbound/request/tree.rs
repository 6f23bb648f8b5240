//! The body as a tree of JSON values whose objects keep the client's member order and name
//! each member once. serde_json's `Value` (no `preserve_order` here) would sort members, and a
//! JSON Schema's `properties` are the order a model writes an answer's members in ("reasoning"
//! before "answer"); it would also keep the last of a member named twice, where which one the
//! client meant is not ours to guess.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::ApiError;
use crate::parse::fields::{duplicate_error, open_object};

/// A JSON value, objects in the client's member order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// `null`, a boolean, a number or a string.
    Leaf(Value),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

/// `null`.
pub(crate) const NULL: Node = Node::Leaf(Value::Null);

impl Node {
    /// The member `key` of an object.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The member `key` of an object, to change in place.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match self {
            Node::Object(members) => members.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The member `key` of an object, moved out (`null` left in its place); `None` when it is
    /// absent or `null`.
    pub(crate) fn take(&mut self, key: &str) -> Option<Node> {
        let Node::Object(members) = self else { return None };
        let (_, v) = members.iter_mut().find(|(k, _)| k == key)?;
        Some(std::mem::replace(v, NULL)).filter(|v| !v.is_null())
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Leaf(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Node::Leaf(Value::Null))
    }

    pub(crate) fn is_object(&self) -> bool {
        matches!(self, Node::Object(_))
    }
}

impl From<&str> for Node {
    fn from(s: &str) -> Node {
        Node::Leaf(Value::String(s.to_string()))
    }
}

impl From<String> for Node {
    fn from(s: String) -> Node {
        Node::Leaf(Value::String(s))
    }
}

impl From<bool> for Node {
    fn from(b: bool) -> Node {
        Node::Leaf(Value::Bool(b))
    }
}

impl From<u64> for Node {
    fn from(n: u64) -> Node {
        Node::Leaf(Value::from(n))
    }
}

/// An object of `members`, in this order.
pub(crate) fn object<const N: usize>(members: [(&str, Node); N]) -> Node {
    Node::Object(members.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Leaf(v) => v.serialize(s),
            Node::Array(items) => s.collect_seq(items),
            Node::Object(members) => s.collect_map(members.iter().map(|(k, v)| (k, v))),
        }
    }
}

/// The most values (scalars, arrays and objects) a body read as a tree may hold. A tree costs
/// the VM some 24 bytes a value beside the body's own bytes, so an 8 MB body of numbers (a
/// tool schema of millions) took 94 MB, and a few dozen at once ran a worker's VM out of
/// memory, failing every request it held. Agents' bodies hold tens of thousands (text, however
/// long, is one value each).
pub(crate) const MAX_VALUES: usize = 250_000;

/// The body as a tree: the router's parser's 400s for a body that is empty, not UTF-8 or not
/// an object, an `invalid_json` for one that is not JSON, a `duplicate_key` naming a member
/// named twice, a 413 for one of more than [`MAX_VALUES`] values.
pub(crate) fn parse(body: &[u8]) -> Result<Node, ApiError> {
    open_object(body)?;
    let mut fault = Fault::default();
    let mut de = serde_json::Deserializer::from_slice(body);
    let tree = Seed(&mut fault).deserialize(&mut de).and_then(|tree| de.end().map(|()| tree));
    tree.map_err(|e| match fault.repeated.take() {
        Some(key) => duplicate_error(&key, &fault.at()),
        None if fault.values > MAX_VALUES => ApiError::invalid(
            "request_too_large",
            None,
            format!("the request holds more than {MAX_VALUES} JSON values: send a smaller one"),
        )
        .with_status(413),
        // Valid JSON past the depth serde_json reads, as the chat parser says it.
        None if e.to_string().starts_with("recursion limit exceeded") => ApiError::invalid(
            "json_too_deep",
            None,
            format!("request body nests objects and arrays deeper than the router reads ({e})"),
        ),
        None => ApiError::invalid("invalid_json", None, format!("request body is not valid JSON: {e}")),
    })
}

/// What failed while reading: the member named twice, and the way to the object naming it,
/// innermost step first (filled in as the error unwinds, so a body that reads builds none).
#[derive(Default)]
struct Fault {
    repeated: Option<String>,
    path: Vec<Step>,
    /// Values read so far (past [`MAX_VALUES`], reading stops).
    values: usize,
}

enum Step {
    Key(String),
    Index(usize),
}

impl Fault {
    /// The param path of the object naming a member twice (`input[3]`; `""`: the body).
    fn at(&self) -> String {
        let mut at = String::new();
        for step in self.path.iter().rev() {
            match step {
                Step::Key(k) if at.is_empty() => at.push_str(k),
                Step::Key(k) => {
                    at.push('.');
                    at.push_str(k);
                }
                Step::Index(i) => at.push_str(&format!("[{i}]")),
            }
        }
        at
    }
}

/// Reads one value into a [`Node`].
struct Seed<'f>(&'f mut Fault);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Node;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        self.0.values += 1;
        if self.0.values > MAX_VALUES {
            return Err(de::Error::custom("too many values"));
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(NULL)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Node, E> {
        Ok(Node::Leaf(Value::Bool(b)))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Node, E> {
        Ok(Node::Leaf(Value::from(n)))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Node, E> {
        Ok(Node::Leaf(Value::from(n)))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Node, E> {
        Ok(Node::Leaf(Value::from(n)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Node, E> {
        Ok(Node::from(s))
    }

    fn visit_string<E>(self, s: String) -> Result<Node, E> {
        Ok(Node::from(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        loop {
            match seq.next_element_seed(Seed(&mut *self.0)) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Node::Array(items)),
                Err(e) => {
                    self.0.path.push(Step::Index(items.len()));
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut members: Vec<(String, Node)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match map.next_value_seed(Seed(&mut *self.0)) {
                Ok(v) => members.push((key, v)),
                Err(e) => {
                    self.0.path.push(Step::Key(key));
                    return Err(e);
                }
            }
        }
        if let Some(key) = repeated(&members) {
            self.0.repeated = Some(key);
            return Err(de::Error::custom("a member named twice"));
        }
        Ok(Node::Object(members))
    }
}

/// A member named twice, if any. A few members are compared pairwise; more are sorted (an
/// object's members are the client's to multiply).
fn repeated(members: &[(String, Node)]) -> Option<String> {
    if members.len() <= 8 {
        return members.iter().enumerate().find_map(|(i, (k, _))| {
            members.iter().skip(i + 1).any(|(other, _)| other == k).then(|| k.clone())
        });
    }
    let mut names: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    names.windows(2).find_map(|w| match w {
        [a, b] if a == b => Some(a.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::{MAX_VALUES, parse};

    /// Valid JSON nested past serde_json's depth is said so, as the chat parser says it: it was
    /// "not valid JSON".
    #[test]
    fn json_nested_too_deep_is_named() {
        let deep = format!(r#"{{"metadata":{}{}}}"#, "[".repeat(200), "]".repeat(200));
        assert_eq!(parse(deep.as_bytes()).err().map(|e| e.code), Some("json_too_deep"));
        assert_eq!(parse(b"{").err().map(|e| e.code), Some("invalid_json"));
    }

    /// A body of numbers (a tool schema of millions, as an attacker sends it) is refused before
    /// its tree outgrows the VM; one of as many values as the bound takes reads, at any depth.
    #[test]
    fn a_body_of_more_values_than_the_bound_is_refused_with_a_413() {
        // The body, `tools`' array, the tool and `x`'s array: four values beside the numbers.
        let body = |numbers: usize| {
            let zeros = vec!["0"; numbers].join(",");
            format!(r#"{{"tools":[{{"x":[{zeros}]}}]}}"#)
        };
        let over = parse(body(MAX_VALUES - 3).as_bytes()).expect_err("over the bound");
        assert_eq!((over.status, over.code), (413, "request_too_large"), "{over:?}");
        assert!(parse(body(MAX_VALUES - 4).as_bytes()).is_ok());
        for messages in ["/v1/messages", "/v1/responses"] {
            let big = format!(
                r#"{{"model":"auto","input":"hi","max_tokens":5,"messages":[{{"role":"user","content":"hi"}}],"tools":[{{"x":[{}]}}]}}"#,
                vec!["0"; MAX_VALUES].join(",")
            );
            let refused = if messages == "/v1/messages" {
                crate::protocol::inbound_messages::request::to_chat(big.as_bytes()).err()
            } else {
                crate::protocol::inbound::request::to_chat(big.as_bytes(), &[]).err()
            };
            assert_eq!(refused.map(|e| e.status), Some(413), "{messages}");
        }
    }
}
