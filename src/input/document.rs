//! Reading input documents: size limit, JSON with comments and trailing commas, duplicate keys
//! and nesting depth refused, and case-insensitive key look-up.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::value::display_key;

/// Documents larger than this are refused before parsing.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// Deeper nesting than this is refused; no real document comes close.
pub const MAX_DEPTH: u32 = 64;

/// Parses a document that may contain comments and trailing commas (RealmJoin stores its
/// customization that way). Anything looser (single quotes, hex numbers, missing commas) is
/// refused, as are duplicate keys, which JSON parsers silently resolve in different ways.
pub fn parse(bytes: &[u8]) -> Result<Value, String> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "the document is {} bytes; at most {} bytes are accepted",
            bytes.len(),
            MAX_DOCUMENT_BYTES
        ));
    }
    // Windows PowerShell 5.1 writes UTF-16 with `>` and `Out-File` unless told otherwise.
    if bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff") {
        return Err(
            "the document is UTF-16 text; save it as UTF-8 (in Windows PowerShell: Set-Content -Encoding UTF8)"
                .into(),
        );
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "the document is not UTF-8 text (invalid byte at offset {})",
            e.valid_up_to()
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err("the document is empty".into());
    }
    let options = jsonc_parser::ParseOptions {
        allow_comments: true,
        allow_trailing_commas: true,
        allow_loose_object_property_names: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    DEPTH.with(|d| d.set(0));
    PATH.with(|p| p.borrow_mut().clear());
    jsonc_parser::parse_to_serde_value::<CheckedValue>(text, &options)
        .map(|v| v.0)
        .map_err(|e| format!("the document is not valid JSON: {e}"))
}

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The keys leading to the value being parsed, to say where a duplicate key is.
    static PATH: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// A JSON value whose objects were checked for duplicate keys while parsing.
struct CheckedValue(Value);

impl<'de> Deserialize<'de> for CheckedValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(CheckedVisitor)
            .map(CheckedValue)
    }
}

struct CheckedVisitor;

/// Tracks nesting so that a hostile document cannot exhaust the stack.
struct DepthGuard;

impl DepthGuard {
    fn enter<E: de::Error>() -> Result<Self, E> {
        let depth = DEPTH.with(|d| {
            d.set(d.get() + 1);
            d.get()
        });
        if depth > MAX_DEPTH {
            DEPTH.with(|d| d.set(d.get() - 1));
            return Err(E::custom(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(Self)
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let _guard = DepthGuard::enter()?;
        let mut items = Vec::new();
        while let Some(CheckedValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let _guard = DepthGuard::enter()?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            PATH.with(|p| p.borrow_mut().push(display_key(&key)));
            let CheckedValue(value) = map.next_value()?;
            let path = PATH.with(|p| {
                let mut p = p.borrow_mut();
                let path = p.join(".");
                p.pop();
                path
            });
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "the key \"{}\" appears twice (at {path})",
                    display_key(&key)
                )));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// The entry of `object` whose key equals `key` ignoring ASCII case.
pub fn get_ci<'a>(object: &'a Map<String, Value>, key: &str) -> Option<(&'a String, &'a Value)> {
    object.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_comments_and_trailing_commas() {
        let v = parse(b"// c\n{ /* x */ \"a\": [1, 2,], }").unwrap();
        assert_eq!(v, json!({"a": [1, 2]}));
    }

    #[test]
    fn refuses_duplicates_depth_size_and_loose_syntax() {
        assert!(
            parse(br#"{"a":1,"a":2}"#)
                .unwrap_err()
                .contains("appears twice")
        );
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(deep.as_bytes()).unwrap_err().contains("nesting"));
        let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
        assert!(parse(&big).unwrap_err().contains("at most"));
        assert!(parse(b"{'a': 1}").is_err());
        assert!(parse(b"{\"a\": 0x10}").is_err());
        assert!(parse(b"\xff\xfe").unwrap_err().contains("UTF-8"));
        assert!(parse(b"  ").unwrap_err().contains("empty"));
    }

    #[test]
    fn utf16_is_named_as_such() {
        let utf16le: Vec<u8> = "\u{feff}{\"a\": 1}"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let error = parse(&utf16le).unwrap_err();
        assert!(
            error.contains("UTF-16") && error.contains("UTF-8"),
            "{error}"
        );
        assert!(parse(b"\xfe\xff\0{").unwrap_err().contains("UTF-16"));
        // A UTF-8 byte-order mark is fine.
        assert_eq!(parse(b"\xef\xbb\xbf{}").unwrap(), json!({}));
    }
}
