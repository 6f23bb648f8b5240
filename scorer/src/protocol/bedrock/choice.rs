//! A chat request's `tool_choice` as Converse's `toolChoice`, and which models take a forced one.

use serde_json::{Value, json};

use super::messages::{invalid_type, str_field};
use crate::error::{ApiError, echo};

/// Whether the model takes a forced `toolChoice` (`any`, `tool`): Bedrock documents it for
/// Anthropic's and Amazon Nova's models only, and answers the others with a
/// `ValidationException` (the open-weight models the catalog routes through Converse).
pub(super) fn takes_forced_choice(upstream_model: &str) -> bool {
    upstream_model.contains("anthropic.") || upstream_model.contains("amazon.nova")
}

/// `tool_choice` as `toolChoice`: `None` when unset, `Some(Null)` for `none`; a forced choice is refused (`unsupported_for_provider`, so
/// a tier moves on to a model that takes it) unless `forced` says the model takes it.
pub(super) fn tool_choice(
    choice: Option<&Value>,
    names: &[&str],
    forced: bool,
) -> Result<Option<Value>, ApiError> {
    let unforced = |what: &str| {
        ApiError::invalid(
            "unsupported_for_provider",
            Some("tool_choice"),
            format!(
                "this model cannot be made to call a tool ({what}): send tool_choice auto, or choose a model that can"
            ),
        )
    };
    let needs_tools = |what: &str| {
        ApiError::invalid(
            "invalid_value",
            Some("tool_choice"),
            format!("tool_choice {what} needs tools: send tools"),
        )
    };
    match choice {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => match s.as_str() {
            "none" => Ok(Some(Value::Null)),
            "auto" => Ok((!names.is_empty()).then(|| json!({ "auto": {} }))),
            "required" if names.is_empty() => Err(needs_tools("'required'")),
            "required" if !forced => Err(unforced("'required'")),
            "required" => Ok(Some(json!({ "any": {} }))),
            other => Err(ApiError::invalid(
                "invalid_value",
                Some("tool_choice"),
                format!(
                    "tool_choice {} is not valid: use none, auto, required or a named function",
                    echo(other)
                ),
            )),
        },
        Some(obj @ Value::Object(_)) => {
            if obj.get("type").and_then(Value::as_str) != Some("function") {
                return Err(ApiError::invalid(
                    "unsupported_value",
                    Some("tool_choice.type"),
                    "tool_choice objects other than {\"type\":\"function\"} are not supported by this model's API",
                ));
            }
            let f = obj.get("function").unwrap_or(&Value::Null);
            let name = str_field(f, "name", "tool_choice.function")?;
            if !names.contains(&name) {
                return Err(if names.is_empty() {
                    needs_tools("naming a function")
                } else {
                    ApiError::invalid(
                        "invalid_value",
                        Some("tool_choice.function.name"),
                        format!("tool_choice names {} which is not in tools", echo(name)),
                    )
                });
            }
            if !forced {
                return Err(unforced("a named function"));
            }
            Ok(Some(json!({ "tool": { "name": name } })))
        }
        Some(_) => Err(invalid_type("tool_choice", "a string or an object")),
    }
}
