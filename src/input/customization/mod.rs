//! The RealmJoin-style customization document: [`load`] parses it, detects its shape
//! ([`shape`]), puts keys into canonical case ([`keys`]), expands `Templates` references
//! ([`templates`]), validates it against the schema and extracts this runbook's parameter
//! modifiers ([`extract`]).

mod extract;
mod keys;
mod shape;
mod templates;

use serde_json::Value;

use extract::extract_entry;
use keys::{canon_keys, normalize_entry, normalize_settings};
use shape::{TENANT_KEYS, detect_shape, misplaced_entry_keys};
use templates::{Resolver, collect_templates};

use super::schema::{ShapeDef, pointer_to_path, schema_problems};
use super::value::json_kind;
use super::{document, problem};
use crate::job::Problem;
use crate::manifest::Manifest;

pub use templates::MAX_TEMPLATE_EXPANSION;

/// Which of the three accepted shapes a document has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// No customization given, or one without an entry for this runbook.
    None,
    /// `{ "Settings": …, "Templates": …, "Runbooks": { "<name>": … } }`.
    TenantDocument,
    /// `{ "<runbook name>": { "Parameters": … } }`.
    RunbookFragment,
    /// `{ "Parameters": … }`.
    RunbookEntry,
}

impl Shape {
    /// How the shape is called in messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::None => "no customization",
            Self::TenantDocument => "the tenant's whole customization document",
            Self::RunbookFragment => "a fragment keyed by the runbook name",
            Self::RunbookEntry => "the runbook entry alone",
        }
    }
}

/// The modifiers a customization sets on one parameter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Modifiers {
    /// `Default` (or `DefaultValue`), raw; coerced by the merge.
    pub default: Option<Value>,
    pub hide: Option<bool>,
    pub read_only: Option<bool>,
    pub mandatory: Option<bool>,
    pub allow_edit: Option<bool>,
    /// The values offered by `SelectSimple` or `Select`, raw.
    pub options: Option<Vec<Value>>,
    /// Where this parameter's entry is, for error paths.
    pub path: String,
}

/// A loaded, validated customization.
#[derive(Debug, Clone)]
pub struct Customization {
    pub shape: Shape,
    /// This runbook's parameter modifiers by canonical parameter name, in document order.
    pub parameters: Vec<(String, Modifiers)>,
    /// The `Settings` block (tenant document only), keys in canonical case.
    pub settings: Option<Value>,
}

impl Customization {
    /// No customization at all.
    pub fn empty() -> Self {
        Self {
            shape: Shape::None,
            parameters: Vec::new(),
            settings: None,
        }
    }

    /// The runbook's own default customization from the manifest.
    pub fn runbook_default() -> Self {
        let m = Manifest::get();
        let mut root = m.default_customization.clone();
        let mut problems = Vec::new();
        normalize_entry(
            &mut root,
            "runbook.json.defaultCustomization",
            &mut problems,
        );
        let parameters = extract_entry(&root, "runbook.json.defaultCustomization", &mut problems);
        debug_assert!(
            problems.is_empty(),
            "the manifest's default customization is valid"
        );
        Self {
            shape: Shape::RunbookEntry,
            parameters,
            settings: None,
        }
    }

    /// The modifiers of `name` (canonical), if the customization sets any.
    pub fn modifiers(&self, name: &str) -> Option<&Modifiers> {
        self.parameters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m)
    }

    /// A setting value by dotted path under `Settings` (e.g. `RJReport.EmailSender`).
    pub fn setting(&self, path: &str) -> Option<&Value> {
        let mut node = self.settings.as_ref()?;
        for segment in path.split('.') {
            node = node.get(segment)?;
        }
        Some(node)
    }
}

/// Loads a customization document: parse (comments, trailing commas), detect the shape,
/// normalise key case, resolve template references and validate against the schema. All
/// problems are returned together.
pub fn load(bytes: &[u8]) -> Result<Customization, Vec<Problem>> {
    let root = document::parse(bytes).map_err(|e| vec![problem("customization", e, None)])?;
    from_value(root)
}

/// Like [`load`], for an already parsed document.
pub fn from_value(mut root: Value) -> Result<Customization, Vec<Problem>> {
    let m = Manifest::get();
    let Some(object) = root.as_object() else {
        return Err(vec![problem(
            "customization",
            format!("the document is {}, not a JSON object", json_kind(&root)),
            Some("the tenant document { \"Settings\", \"Templates\", \"Runbooks\" }, a fragment keyed by the runbook name, or the entry alone { \"Parameters\": { … } }".into()),
        )]);
    };
    let shape = detect_shape(object, &m.name)?;
    let mut problems = Vec::new();
    let (validator_shape, entry_pointer, settings_pointer) = match shape {
        Shape::None => return Ok(Customization::empty()),
        Shape::TenantDocument => {
            let obj = root.as_object_mut().expect("checked above");
            canon_keys(obj, TENANT_KEYS, "customization", &mut problems);
            misplaced_entry_keys(obj, &m.name, &mut problems);
            if let Some(Value::Object(runbooks)) = obj.get_mut("Runbooks") {
                canon_keys(
                    runbooks,
                    &[m.name.as_str()],
                    "customization.Runbooks",
                    &mut problems,
                );
                if let Some(entry) = runbooks.get_mut(&m.name) {
                    normalize_entry(
                        entry,
                        &format!("customization.Runbooks.{}", m.name),
                        &mut problems,
                    );
                }
            }
            if let Some(settings) = obj.get_mut("Settings") {
                normalize_settings(settings, &mut problems);
            }
            let templates_root = obj.get("Templates").cloned();
            let templates = collect_templates(templates_root.as_ref());
            let path = format!("customization.Runbooks.{}", m.name);
            if let Some(entry) = root.pointer_mut(&format!("/Runbooks/{}", m.name)) {
                Resolver::new(&templates).resolve(entry, &path, &mut problems);
            }
            (
                ShapeDef::TenantDocument,
                format!("/Runbooks/{}", m.name),
                Some("/Settings"),
            )
        }
        Shape::RunbookFragment => {
            let obj = root.as_object_mut().expect("checked above");
            canon_keys(obj, &[m.name.as_str()], "customization", &mut problems);
            if let Some(entry) = obj.get_mut(&m.name) {
                normalize_entry(entry, &format!("customization.{}", m.name), &mut problems);
                Resolver::new(&[]).resolve(
                    entry,
                    &format!("customization.{}", m.name),
                    &mut problems,
                );
            }
            (ShapeDef::RunbookFragment, format!("/{}", m.name), None)
        }
        Shape::RunbookEntry => {
            normalize_entry(&mut root, "customization", &mut problems);
            Resolver::new(&[]).resolve(&mut root, "customization", &mut problems);
            (ShapeDef::RunbookEntry, String::new(), None)
        }
    };
    if problems.is_empty() {
        problems.extend(schema_problems(validator_shape, &root));
    }
    let entry_path = pointer_to_path(&entry_pointer);
    let parameters = match root.pointer(&entry_pointer) {
        Some(entry) if problems.is_empty() => extract_entry(entry, &entry_path, &mut problems),
        _ => Vec::new(),
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Customization {
        shape,
        parameters,
        settings: settings_pointer.and_then(|p| root.pointer(p)).cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NAME: &str = "rjgit-user_security_create-temporary-access-pass";

    #[test]
    fn detects_all_three_shapes_in_any_case() {
        let entry =
            json!({ "parameters": { "lifetimeinminutes": { "default": 120, "hide": true } } });
        let fragment = json!({ NAME: entry.clone(), "rjgit-org_general_other": { "Parameters": { "X": {} } } });
        let tenant = json!({ "settings": {}, "runbooks": { NAME.to_uppercase(): entry.clone() } });
        for (doc, shape) in [
            (entry, Shape::RunbookEntry),
            (fragment, Shape::RunbookFragment),
            (tenant, Shape::TenantDocument),
        ] {
            let c = from_value(doc).unwrap();
            assert_eq!(c.shape, shape);
            let m = c.modifiers("LifetimeInMinutes").unwrap();
            assert_eq!(m.default, Some(json!(120)));
            assert_eq!(m.hide, Some(true));
        }
    }

    #[test]
    fn unknown_parameter_gets_a_hint() {
        let err = from_value(json!({ "Parameters": { "LifetimeInMinute": { "Default": 120 } } }))
            .unwrap_err();
        assert_eq!(err.len(), 1, "{err:?}");
        assert_eq!(err[0].field, "customization.Parameters.LifetimeInMinute");
        assert!(
            err[0]
                .problem
                .contains("did you mean \"LifetimeInMinutes\""),
            "{}",
            err[0].problem
        );
    }

    #[test]
    fn templates_are_resolved() {
        let doc = json!({
            "Templates": { "Options": [ { "$id": "Lifetimes", "$values": { "1 hour": 60, "2 hours": 120 } } ] },
            "Runbooks": { NAME: { "Parameters": { "LifetimeInMinutes": { "SelectSimple": { "$ref": "Lifetimes" } } } } }
        });
        let c = from_value(doc).unwrap();
        assert_eq!(
            c.modifiers("LifetimeInMinutes").unwrap().options,
            Some(vec![json!(60), json!(120)])
        );
        let bad = json!({ "Runbooks": { NAME: { "Parameters": { "LifetimeInMinutes": { "SelectSimple": { "$ref": "Nope" } } } } } });
        assert!(from_value(bad).unwrap_err()[0].problem.contains("\"Nope\""));
    }

    #[test]
    fn template_cycles_and_expansion_bombs_are_refused() {
        let cycle = json!({
            "Templates": { "T": [ { "$id": "A", "$values": { "$ref": "B" } }, { "$id": "B", "$values": { "$ref": "A" } } ] },
            "Runbooks": { NAME: { "Parameters": { "LifetimeInMinutes": { "SelectSimple": { "$ref": "A" } } } } }
        });
        let err = from_value(cycle).unwrap_err();
        assert_eq!(err.len(), 1, "{err:?}");
        assert!(
            err[0].problem.contains("\"A\" → \"B\" → \"A\""),
            "{}",
            err[0].problem
        );
        // Each level pulls in the next twenty times: 20^7 values if expanded.
        let mut templates: Vec<Value> = (0..7)
            .map(|i| json!({ "$id": format!("T{i}"), "$values": vec![json!({ "$ref": format!("T{}", i + 1) }); 20] }))
            .collect();
        templates.push(json!({ "$id": "T7", "$values": [1] }));
        let bomb = json!({
            "Templates": { "X": templates },
            "Runbooks": { NAME: { "Parameters": { "LifetimeInMinutes": { "Description": { "$ref": "T0" } } } } }
        });
        let err = from_value(bomb).unwrap_err();
        assert_eq!(err.len(), 1, "{err:?}");
        assert!(err[0].problem.contains("expand to more than"), "{err:?}");
    }

    #[test]
    fn hostile_keys_are_escaped_and_shortened_in_field_paths() {
        let long = "K".repeat(10_000);
        let doc =
            json!({ "Parameters": { "Lifetime\r\nStatus: Completed": {}, long.clone(): {} } });
        let err = from_value(doc).unwrap_err();
        for p in &err {
            assert!(!p.field.contains(['\r', '\n']), "{}", p.field);
            assert!(p.field.len() < 300, "{}", p.field.len());
        }
        assert!(
            err[0]
                .field
                .ends_with("Lifetime\\u{d}\\u{a}Status: Completed"),
            "{}",
            err[0].field
        );
    }

    #[test]
    fn other_runbooks_are_ignored_and_case_duplicates_refused() {
        let other = json!({ "Runbooks": { "rjgit-org_x_y": { "Whatever": [1, 2] } } });
        assert!(from_value(other).unwrap().parameters.is_empty());
        let dup = json!({ "Parameters": {}, "parameters": {} });
        assert!(
            from_value(dup).unwrap_err()[0]
                .problem
                .contains("given twice")
        );
        assert_eq!(from_value(json!({})).unwrap().shape, Shape::None);
        assert!(
            from_value(json!({ "Paramters": {} })).unwrap_err()[0]
                .problem
                .contains("did you mean \"Parameters\"")
        );
    }
}
