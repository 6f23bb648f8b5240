//! Reading one JSON object's fields with the path that names them in errors, and the
//! `invalid_request_error`s the real API gives for each kind of mistake.

use serde_json::{Map, Value};

use super::{Checked, Invalid};

pub(super) fn invalid(param: &str, code: &'static str, message: String) -> Invalid {
    Invalid { message, param: Some(param.to_string()), code: Some(code) }
}

pub(super) fn missing(param: &str) -> Invalid {
    invalid(param, "missing_required_parameter", format!("Missing required parameter: '{param}'."))
}

/// JSON's name for the kind of a value, as the API's messages use it.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn wrong_type(param: &str, want: &str, got: &Value) -> Invalid {
    let message = format!("Invalid type for '{param}': expected {want}, but got {} instead.", kind(got));
    invalid(param, "invalid_type", message)
}

pub(super) fn bad_value(param: &str, got: &str, allowed: &[&str]) -> Invalid {
    let list = allowed.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(", ");
    invalid(param, "invalid_value", format!("Invalid value: '{got}'. Supported values are: {list}."))
}

/// An integer, also when written as a whole-number float.
pub(super) fn as_int(v: &Value) -> Option<i128> {
    if let Some(i) = v.as_i64() {
        return Some(i.into());
    }
    if let Some(u) = v.as_u64() {
        return Some(u.into());
    }
    v.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1e30).map(|f| f as i128)
}

/// The fields of one JSON object, read with the path that names them in errors.
pub(super) struct Fields<'a> {
    pub(super) map: &'a Map<String, Value>,
    pub(super) at: String,
}

impl<'a> Fields<'a> {
    /// `v` as an object named `at`.
    pub(super) fn of(v: &'a Value, at: &str) -> Result<Self, Invalid> {
        match v.as_object() {
            Some(map) => Ok(Fields { map, at: at.to_string() }),
            None => Err(wrong_type(at, "an object", v)),
        }
    }

    pub(super) fn name(&self, key: &str) -> String {
        if self.at.is_empty() { key.to_string() } else { format!("{}.{key}", self.at) }
    }

    /// The field unless absent or null (null is "not set" for the optional fields checked).
    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(super) fn required(&self, key: &str) -> Result<&'a Value, Invalid> {
        self.map.get(key).ok_or_else(|| missing(&self.name(key)))
    }

    pub(super) fn string(&self, key: &str) -> Result<Option<&'a str>, Invalid> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(wrong_type(&self.name(key), "a string", v)),
        }
    }

    pub(super) fn required_string(&self, key: &str) -> Result<&'a str, Invalid> {
        match self.required(key)? {
            Value::String(s) => Ok(s),
            v => Err(wrong_type(&self.name(key), "a string", v)),
        }
    }

    pub(super) fn boolean(&self, key: &str) -> Checked {
        match self.get(key) {
            None | Some(Value::Bool(_)) => Ok(()),
            Some(v) => Err(wrong_type(&self.name(key), "a boolean", v)),
        }
    }

    pub(super) fn one_of(&self, key: &str, allowed: &[&str]) -> Checked {
        match self.string(key)? {
            Some(s) if !allowed.contains(&s) => Err(bad_value(&self.name(key), s, allowed)),
            _ => Ok(()),
        }
    }

    pub(super) fn integer(
        &self,
        key: &str,
        min: Option<i128>,
        max: Option<i128>,
    ) -> Result<Option<i128>, Invalid> {
        let Some(v) = self.get(key) else { return Ok(None) };
        let name = self.name(key);
        let i = as_int(v).ok_or_else(|| wrong_type(&name, "an integer", v))?;
        if let Some(m) = min.filter(|m| i < *m) {
            let message = format!(
                "Invalid '{name}': integer below minimum value. Expected a value >= {m}, but got {i} instead."
            );
            return Err(invalid(&name, "integer_below_min_value", message));
        }
        if let Some(m) = max.filter(|m| i > *m) {
            let message = format!(
                "Invalid '{name}': integer above maximum value. Expected a value <= {m}, but got {i} instead."
            );
            return Err(invalid(&name, "integer_above_max_value", message));
        }
        Ok(Some(i))
    }

    pub(super) fn number(&self, key: &str, min: f64, max: f64) -> Checked {
        let Some(v) = self.get(key) else { return Ok(()) };
        let name = self.name(key);
        let x = v.as_f64().ok_or_else(|| wrong_type(&name, "a number", v))?;
        if x < min {
            let message = format!(
                "Invalid '{name}': decimal below minimum value. Expected a value >= {min}, but got {x} instead."
            );
            return Err(invalid(&name, "decimal_below_min_value", message));
        }
        if x > max {
            let message = format!(
                "Invalid '{name}': decimal above maximum value. Expected a value <= {max}, but got {x} instead."
            );
            return Err(invalid(&name, "decimal_above_max_value", message));
        }
        Ok(())
    }

    pub(super) fn object(&self, key: &str) -> Result<Option<Fields<'a>>, Invalid> {
        self.get(key).map(|v| Fields::of(v, &self.name(key))).transpose()
    }

    /// An array, at least `min` long.
    pub(super) fn array(&self, key: &str, min: usize) -> Result<Option<&'a Vec<Value>>, Invalid> {
        let Some(v) = self.get(key) else { return Ok(None) };
        let name = self.name(key);
        let a = v.as_array().ok_or_else(|| wrong_type(&name, "an array", v))?;
        if a.len() < min {
            let message = format!(
                "Invalid '{name}': empty array. Expected an array with minimum length {min}, but got an empty array instead."
            );
            return Err(invalid(&name, "empty_array", message));
        }
        Ok(Some(a))
    }
}
