//! Parameter values and strict coercion by declared type.

use std::fmt;

use serde_json::Value;

use crate::manifest::{ParamType, ParameterSpec};
use crate::text::escape_unsafe;

/// A parameter value of its declared type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    String(String),
    Int32(i32),
    Boolean(bool),
}

impl ParamValue {
    /// The value as JSON.
    pub fn to_json(&self) -> Value {
        match self {
            Self::String(s) => Value::String(s.clone()),
            Self::Int32(i) => Value::from(*i),
            Self::Boolean(b) => Value::Bool(*b),
        }
    }

    /// The string, for String parameters.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(s) => write!(f, "{s:?}"),
            Self::Int32(i) => write!(f, "{i}"),
            Self::Boolean(b) => write!(f, "{b}"),
        }
    }
}

/// Converts a raw JSON value to the parameter's type. JSON of the right type is taken as is;
/// strings are parsed strictly (`"240"`, `"True"`, `"$false"`); anything else is refused —
/// no PowerShell-style "any non-empty string is true". `null` means "not given".
pub fn coerce(spec: &ParameterSpec, raw: &Value) -> Result<Option<ParamValue>, String> {
    let value = match (spec.kind, raw) {
        (_, Value::Null) => return Ok(None),
        (ParamType::String, Value::String(s)) => ParamValue::String(s.clone()),
        (ParamType::Int32, Value::Number(n)) => match n.as_i64() {
            Some(i) => ParamValue::Int32(
                i32::try_from(i).map_err(|_| format!("{i} is outside the Int32 range"))?,
            ),
            None => return Err(not_an_int32(n)),
        },
        (ParamType::Int32, Value::String(s)) => ParamValue::Int32(parse_int32(s)?),
        (ParamType::Boolean, Value::Bool(b)) => ParamValue::Boolean(*b),
        (ParamType::Boolean, Value::String(s)) => ParamValue::Boolean(parse_boolean(s)?),
        (kind, other) => {
            return Err(format!(
                "{} is a JSON {}, not a {}",
                short(other),
                json_type(other),
                kind.as_str()
            ));
        }
    };
    Ok(Some(value))
}

/// Why a JSON number that is not an integer is refused. `2.4e2` and `240.0` reach here as the
/// float 240.0: say that the notation is the problem, not the value.
fn not_an_int32(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!(
            "{n} is written with a decimal point or an exponent (such as 2.4e2); write the whole number {f:.0} without them"
        ),
        Some(f) if f.fract() == 0.0 => format!("{n} is outside the Int32 range"),
        _ => format!("{n} is not a whole number"),
    }
}

fn parse_int32(s: &str) -> Result<i32, String> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{:?} is not a whole number", short_str(s)));
    }
    s.parse::<i32>()
        .map_err(|_| format!("{} is outside the Int32 range", short_str(s)))
}

fn parse_boolean(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "$true" => Ok(true),
        "false" | "$false" => Ok(false),
        _ => Err(format!("{:?} is not a Boolean", short_str(s))),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A value shortened for a message, so a huge input cannot flood the log.
pub fn short(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{:?}", short_str(s)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        other => other.to_string(),
    }
}

/// A name taken from a document (a key, a template id), made safe to put in a field path or a
/// message: at most 64 characters, and control, line-separator and text-direction characters
/// written as `\u{…}` escapes so that a key cannot forge a log line or reorder what a person
/// reads.
pub fn display_key(s: &str) -> String {
    escape_unsafe(&short_str(s)).into_owned()
}

/// The JSON type of `v`, as a message says it ("an array", "null").
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a Boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// At most 64 characters of `s`.
pub fn short_str(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;
    use proptest::prelude::*;
    use serde_json::json;

    fn spec(name: &str) -> &'static ParameterSpec {
        Manifest::get().parameter(name).unwrap()
    }

    #[test]
    fn coerces_strictly() {
        let lifetime = spec("LifetimeInMinutes");
        assert_eq!(
            coerce(lifetime, &json!(240)).unwrap(),
            Some(ParamValue::Int32(240))
        );
        assert_eq!(
            coerce(lifetime, &json!("240")).unwrap(),
            Some(ParamValue::Int32(240))
        );
        assert_eq!(coerce(lifetime, &json!(null)).unwrap(), None);
        for bad in [
            json!("240 "),
            json!("2.5e2"),
            json!(240.5),
            json!(true),
            json!("0x10"),
            json!(""),
            json!(3_000_000_000_i64),
        ] {
            assert!(coerce(lifetime, &bad).is_err(), "{bad} must be refused");
        }
        let once = spec("OneTimeUseOnly");
        for (raw, want) in [
            (json!(true), true),
            (json!("True"), true),
            (json!("$false"), false),
            (json!("FALSE"), false),
        ] {
            assert_eq!(coerce(once, &raw).unwrap(), Some(ParamValue::Boolean(want)));
        }
        for bad in [
            json!("yes"),
            json!("1"),
            json!(1),
            json!("no"),
            json!(" true"),
        ] {
            assert!(coerce(once, &bad).is_err(), "{bad} must be refused");
        }
        let user = spec("UserName");
        assert!(
            coerce(user, &json!(42))
                .unwrap_err()
                .contains("not a String")
        );
    }

    #[test]
    fn notation_not_value_is_named_for_float_integers() {
        let lifetime = spec("LifetimeInMinutes");
        let raw: Value = serde_json::from_str("2.4e2").unwrap();
        let err = coerce(lifetime, &raw).unwrap_err();
        assert!(
            err.contains("decimal point or an exponent") && err.contains("240"),
            "{err}"
        );
        assert!(
            coerce(lifetime, &json!(240.5))
                .unwrap_err()
                .contains("not a whole number")
        );
        assert!(
            coerce(lifetime, &json!(1e300))
                .unwrap_err()
                .contains("Int32 range")
        );
        let digits = "9".repeat(5_000);
        assert!(coerce(lifetime, &json!(digits)).unwrap_err().len() < 200);
    }

    #[test]
    fn display_key_escapes_what_could_forge_or_reorder_a_line() {
        assert_eq!(display_key("Lifetime"), "Lifetime");
        assert_eq!(display_key("a\r\nb"), "a\\u{d}\\u{a}b");
        assert_eq!(display_key("x\u{202e}y\u{2028}"), "x\\u{202e}y\\u{2028}");
        assert!(display_key(&"k".repeat(1000)).chars().count() <= 65);
    }

    proptest! {
        #[test]
        fn every_int32_round_trips_from_json_and_string(i in any::<i32>()) {
            let lifetime = spec("LifetimeInMinutes");
            prop_assert_eq!(coerce(lifetime, &json!(i)).unwrap(), Some(ParamValue::Int32(i)));
            prop_assert_eq!(coerce(lifetime, &json!(i.to_string())).unwrap(), Some(ParamValue::Int32(i)));
        }

        #[test]
        fn a_boolean_string_is_only_ever_true_or_false_words(s in ".{0,12}") {
            let once = spec("OneTimeUseOnly");
            let lower = s.to_ascii_lowercase();
            let known = ["true", "$true", "false", "$false"].contains(&lower.as_str());
            prop_assert_eq!(coerce(once, &json!(s)).is_ok(), known);
        }
    }
}
