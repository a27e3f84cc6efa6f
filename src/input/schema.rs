//! The customization JSON Schema (draft 2020-12), generated from the manifest so the schema,
//! the code and `runbook.json` cannot drift apart. `customization.schema.json` is this
//! schema written out; a test keeps the file equal to what the code generates.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::problem;
use super::rules::allowed_text;
use super::suggest::did_you_mean;
use super::value::{display_key, json_kind};
use crate::job::Problem;
use crate::manifest::{Format, Manifest, ParamType, ParameterSpec};

/// The shipped schema file.
pub const SCHEMA_JSON: &str = include_str!("../../customization.schema.json");

/// The customization modifiers a parameter entry may carry.
pub const MODIFIERS: &[&str] = &[
    "Default",
    "DefaultValue",
    "Hide",
    "ReadOnly",
    "Mandatory",
    "DisplayName",
    "Description",
    "SelectSimple",
    "Select",
    "GraphFilter",
    "AllowEdit",
    "DisplayBefore",
    "DisplayAfter",
];

/// The keys of the RealmJoin `Settings.RJReport` block this runbook reads.
pub const RJREPORT_KEYS: &[&str] = &[
    "EmailSender",
    "ServiceDesk_DisplayName",
    "ServiceDesk_EMail",
    "ServiceDesk_Phone",
    "ServiceDesk_PortalUrl",
    "Branding",
];

/// The keys of `Settings.RJReport.Branding`.
pub const BRANDING_KEYS: &[&str] = &[
    "HeaderImageUrl",
    "FooterImageUrl",
    "FooterLink",
    "AccentColor",
    "TextColor",
];

/// A regular expression matching `key` in any letter case. JSON Schema's ECMA-262 dialect has
/// no case-insensitive flag, so each letter becomes a class: editors then accept
/// `parameters` as well as `Parameters`, as the runbook does.
pub fn any_case(key: &str) -> String {
    let mut out = String::from("^");
    for c in key.chars() {
        if c.is_ascii_alphabetic() {
            out.push('[');
            out.push(c.to_ascii_uppercase());
            out.push(c.to_ascii_lowercase());
            out.push(']');
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out.push('$');
    out
}

/// An object schema whose known keys match in any case and whose other keys are refused.
fn strict_object(properties: Vec<(String, Value)>, description: &str) -> Value {
    let mut props = Map::new();
    let mut patterns = Map::new();
    for (k, v) in properties {
        patterns.insert(any_case(&k), v.clone());
        props.insert(k, v);
    }
    json!({
        "type": "object",
        "description": description,
        "properties": props,
        "patternProperties": patterns,
        "additionalProperties": false
    })
}

fn value_schema(spec: &ParameterSpec) -> Value {
    match spec.kind {
        ParamType::String => {
            let mut s = json!({ "type": ["string", "null"] });
            if let Some(allowed) = &spec.allowed {
                s["enum"] = json!(
                    allowed
                        .iter()
                        .map(|a| json!(a))
                        .chain([Value::Null])
                        .collect::<Vec<_>>()
                );
            }
            if spec.format == Some(Format::HttpsUrl) {
                s["pattern"] = json!("^(|[Hh][Tt][Tt][Pp][Ss]://.+)$");
            }
            s
        }
        ParamType::Int32 => {
            let mut s =
                json!({ "type": ["integer", "string", "null"], "pattern": "^-?[0-9]{1,10}$" });
            if let Some(lo) = spec.minimum {
                s["minimum"] = json!(lo);
            }
            if let Some(hi) = spec.maximum {
                s["maximum"] = json!(hi);
            }
            s
        }
        ParamType::Boolean => json!({
            "type": ["boolean", "string", "null"],
            "pattern": "^\\$?([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"
        }),
    }
}

fn modifiers_schema(spec: &ParameterSpec) -> Value {
    let value = json!({ "$ref": format!("#/$defs/value_{}", spec.name) });
    let props = MODIFIERS
        .iter()
        .map(|m| {
            let schema = match *m {
                "Default" | "DefaultValue" => value.clone(),
                "Hide" | "ReadOnly" | "Mandatory" | "AllowEdit" => json!({ "type": "boolean" }),
                "SelectSimple" => {
                    json!({ "type": "object", "additionalProperties": value.clone() })
                }
                "Select" => json!({ "$ref": format!("#/$defs/select_{}", spec.name) }),
                _ => json!({ "type": "string" }),
            };
            ((*m).to_owned(), schema)
        })
        .collect();
    strict_object(
        props,
        &format!(
            "{} ({}): {}",
            spec.name,
            spec.kind.as_str(),
            spec.description
        ),
    )
}

fn select_schema(spec: &ParameterSpec) -> Value {
    let option = strict_object(
        vec![
            ("Display".into(), json!({ "type": "string" })),
            (
                "Value".into(),
                json!({ "$ref": format!("#/$defs/value_{}", spec.name) }),
            ),
            ("Customization".into(), json!({ "type": "object" })),
        ],
        "One choice of a Select.",
    );
    strict_object(
        vec![
            (
                "Options".into(),
                json!({ "type": "array", "items": option }),
            ),
            ("ShowValue".into(), json!({ "type": "boolean" })),
        ],
        "A list of choices, each with a display text and a value.",
    )
}

fn entry_schema(m: &Manifest) -> Value {
    let params: Vec<(String, Value)> = m
        .parameters
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                json!({ "$ref": format!("#/$defs/parameter_{}", p.name) }),
            )
        })
        .collect();
    let names: Vec<String> = m.parameters.iter().map(|p| any_case(&p.name)).collect();
    let list_item = json!({
        "type": "object",
        "description": "A parameter entry (with Name) or a UI-only entry (without Name).",
        "if": { "required": ["Name"] },
        "then": {
            "properties": { "Name": { "type": "string", "pattern": format!("({})", names.join("|")) } }
        }
    });
    strict_object(
        vec![
            (
                "Parameters".into(),
                strict_object(params, "Parameter customizations keyed by parameter name."),
            ),
            (
                "ParameterList".into(),
                json!({ "type": "array", "items": list_item }),
            ),
            ("$schema".into(), json!({ "type": "string" })),
        ],
        &format!("Customization of the runbook {}.", m.name),
    )
}

fn settings_schema() -> Value {
    let text = json!({ "type": ["string", "null"] });
    let branding: Vec<(String, Value)> = BRANDING_KEYS
        .iter()
        .map(|k| ((*k).to_owned(), text.clone()))
        .collect();
    let rjreport = RJREPORT_KEYS
        .iter()
        .map(|k| {
            let schema = if *k == "Branding" {
                strict_object(branding.clone(), "Branding of the emails.")
            } else {
                text.clone()
            };
            ((*k).to_owned(), schema)
        })
        .collect::<Vec<_>>();
    let mut rj = strict_object(rjreport, "Reporting and email settings.");
    // Other runbooks read more RJReport keys; only ours are typed.
    rj["additionalProperties"] = json!(true);
    json!({
        "type": "object",
        "properties": { "RJReport": rj.clone() },
        "patternProperties": { any_case("RJReport"): rj },
        "additionalProperties": true
    })
}

/// Generates the customization schema from the manifest.
pub fn generate(m: &Manifest) -> Value {
    let mut defs = Map::new();
    let entry = entry_schema(m);
    let any_entry = json!({ "type": "object", "description": "Another runbook's customization (not checked here)." });
    let mut runbooks_props = Map::new();
    runbooks_props.insert(m.name.clone(), json!({ "$ref": "#/$defs/runbookEntry" }));
    let mut runbooks_patterns = Map::new();
    runbooks_patterns.insert(any_case(&m.name), json!({ "$ref": "#/$defs/runbookEntry" }));
    let schema_key = json!({ "type": "string" });
    defs.insert(
        "tenantDocument".into(),
        json!({
            "type": "object",
            "description": "The tenant's whole customization document.",
            "properties": {
                "$schema": schema_key,
                "Settings": { "$ref": "#/$defs/settings" },
                "Templates": { "type": "object" },
                "GraphFilters": { "type": "object" },
                "Runbooks": {
                    "type": "object",
                    "properties": runbooks_props.clone(),
                    "patternProperties": runbooks_patterns.clone(),
                    "additionalProperties": any_entry
                }
            },
            "patternProperties": {
                any_case("Settings"): { "$ref": "#/$defs/settings" },
                any_case("Runbooks"): { "type": "object", "patternProperties": runbooks_patterns.clone() }
            },
            "additionalProperties": true
        }),
    );
    let mut fragment_props = runbooks_props;
    fragment_props.insert("$schema".into(), schema_key);
    defs.insert(
        "runbookFragment".into(),
        json!({
            "type": "object",
            "description": "A snippet keyed by runbook name, as the runbook's documentation shows it.",
            "properties": fragment_props,
            "patternProperties": runbooks_patterns,
            "additionalProperties": any_entry
        }),
    );
    defs.insert("runbookEntry".into(), entry);
    defs.insert("settings".into(), settings_schema());
    for p in &m.parameters {
        defs.insert(format!("parameter_{}", p.name), modifiers_schema(p));
        defs.insert(format!("select_{}", p.name), select_schema(p));
        defs.insert(format!("value_{}", p.name), value_schema(p));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:tap-runbook:customization",
        "title": format!("Customization for {}", m.name),
        "description": "A RealmJoin-style customization: the whole tenant document, a fragment keyed by the runbook name, or the runbook entry alone. Keys match in any letter case.",
        "anyOf": [
            { "$ref": "#/$defs/tenantDocument" },
            { "$ref": "#/$defs/runbookFragment" },
            { "$ref": "#/$defs/runbookEntry" }
        ],
        "$defs": defs
    })
}

/// Which top-level shape to validate against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeDef {
    TenantDocument,
    RunbookFragment,
    RunbookEntry,
}

/// The shipped schema, parsed once.
pub fn shipped() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::from_str(SCHEMA_JSON).expect("embedded schema is JSON"))
}

/// A validator of one shape, built once from the shipped schema (no remote references: the
/// crate is built without its HTTP resolver).
pub fn validator(shape: ShapeDef) -> &'static jsonschema::Validator {
    static VALIDATORS: OnceLock<[jsonschema::Validator; 3]> = OnceLock::new();
    let all = VALIDATORS.get_or_init(|| {
        let build = |def: &str| {
            let mut root = shipped().clone();
            root.as_object_mut()
                .expect("schema is an object")
                .remove("anyOf");
            root["$ref"] = json!(format!("#/$defs/{def}"));
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&root)
                .expect("embedded schema compiles")
        };
        [
            build("tenantDocument"),
            build("runbookFragment"),
            build("runbookEntry"),
        ]
    });
    match shape {
        ShapeDef::TenantDocument => &all[0],
        ShapeDef::RunbookFragment => &all[1],
        ShapeDef::RunbookEntry => &all[2],
    }
}

/// The names declared under `properties` of the schema node that holds `schema_path`'s
/// keyword, for "did you mean" hints on unknown keys.
pub fn known_keys_at(schema_path: &str) -> Vec<String> {
    let parent = schema_path.rsplit_once('/').map_or("", |(p, _)| p);
    shipped()
        .pointer(parent)
        .and_then(|node| node.get("properties"))
        .and_then(Value::as_object)
        .map(|props| {
            props
                .keys()
                .filter(|k| !k.starts_with('$'))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// A JSON pointer as a dotted field path under `customization`.
pub(super) fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::from("customization");
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.bytes().all(|b| b.is_ascii_digit()) && !seg.is_empty() {
            out.push_str(&format!("[{seg}]"));
        } else {
            out.push('.');
            out.push_str(&display_key(&seg));
        }
    }
    out
}

/// The schema's complaints about a normalised document, as problems a person can act on:
/// unknown keys with a hint, wrong types in words, each problem once.
pub(super) fn schema_problems(shape: ShapeDef, root: &Value) -> Vec<Problem> {
    let m = Manifest::get();
    let mut out = Vec::new();
    for e in validator(shape).iter_errors(root) {
        let pointer = e.instance_path().as_str().to_owned();
        let path = pointer_to_path(&pointer);
        match e.kind() {
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                let known = known_keys_at(e.schema_path().as_str());
                let known_refs: Vec<&str> = known.iter().map(String::as_str).collect();
                let what = if known.iter().any(|k| k == "UserName") {
                    "parameter of this runbook"
                } else if known.iter().any(|k| k == "Hide") {
                    "modifier"
                } else {
                    "key"
                };
                for key in unexpected {
                    out.push(problem(
                        &format!("{path}.{}", display_key(key)),
                        format!("is not a known {what}{}", did_you_mean(key, &known_refs)),
                        Some(known.join(", ")),
                    ));
                }
            }
            jsonschema::error::ValidationErrorKind::Type {
                kind: jsonschema::error::TypeKind::Single(expected),
            } => {
                let expected = match expected.to_string().as_str() {
                    t @ ("object" | "array" | "integer") => format!("an {t}"),
                    t => format!("a {t}"),
                };
                let allowed = parameter_at(&pointer).map(|name| {
                    allowed_text(
                        m.parameter(&name)
                            .expect("schema names manifest parameters"),
                    )
                });
                out.push(problem(
                    &path,
                    format!("is {}, not {expected}", json_kind(e.instance())),
                    allowed,
                ));
            }
            _ => {
                let allowed = parameter_at(&pointer).map(|name| {
                    allowed_text(
                        m.parameter(&name)
                            .expect("schema names manifest parameters"),
                    )
                });
                out.push(problem(&path, e.masked().to_string(), allowed));
            }
        }
    }
    // A canonical key matches both `properties` and its any-case pattern, so nested errors
    // arrive twice.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert((p.field.clone(), p.problem.clone())));
    out
}

/// The parameter a value-level schema error is about, from its pointer.
fn parameter_at(pointer: &str) -> Option<String> {
    let segs: Vec<&str> = pointer.split('/').collect();
    let i = segs.iter().position(|s| *s == "Parameters")?;
    let name = segs.get(i + 1)?;
    let rest = &segs[i + 2..];
    let about_value = matches!(
        rest.first(),
        Some(&"Default" | &"DefaultValue" | &"SelectSimple")
    ) || rest.last() == Some(&"Value");
    about_value.then(|| (*name).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_schema_is_the_generated_one() {
        let generated = generate(Manifest::get());
        let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
        if text != SCHEMA_JSON {
            if std::env::var_os("TAP_RUNBOOK_WRITE_SCHEMA").is_some() {
                std::fs::write(
                    concat!(env!("CARGO_MANIFEST_DIR"), "/customization.schema.json"),
                    &text,
                )
                .unwrap();
            }
            panic!(
                "customization.schema.json is stale: run `TAP_RUNBOOK_WRITE_SCHEMA=1 cargo test --lib schema` and commit it"
            );
        }
    }

    #[test]
    fn schema_is_valid_draft_2020_12_and_compiles() {
        assert!(jsonschema::meta::is_valid(shipped()));
        for shape in [
            ShapeDef::TenantDocument,
            ShapeDef::RunbookFragment,
            ShapeDef::RunbookEntry,
        ] {
            let _ = validator(shape);
        }
    }

    #[test]
    fn any_case_patterns() {
        assert_eq!(any_case("Hide"), "^[Hh][Ii][Dd][Ee]$");
        assert_eq!(any_case("a-b_c.1"), "^[Aa]-[Bb]_[Cc]\\.1$");
    }
}
