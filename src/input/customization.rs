//! The RealmJoin-style customization document: shape detection, case-insensitive keys,
//! `Templates` references, schema validation, and this runbook's parameter modifiers.

use serde_json::{Map, Value};

use super::document::{self, get_ci};
use super::rules::allowed_text;
use super::schema::{self, BRANDING_KEYS, MODIFIERS, RJREPORT_KEYS, ShapeDef};
use super::suggest::did_you_mean;
use super::value::{display_key, json_kind};
use crate::job::Problem;
use crate::manifest::Manifest;

const TENANT_KEYS: &[&str] = &["Settings", "Templates", "GraphFilters", "Runbooks"];
const ENTRY_KEYS: &[&str] = &["Parameters", "ParameterList"];

/// How many JSON values `$ref` expansion may add to a document in total. Templates may refer
/// to templates, so without a budget a few kilobytes could expand to billions of values.
pub const MAX_TEMPLATE_EXPANSION: usize = 100_000;

/// How many templates may be pulled in inside one another.
const MAX_TEMPLATE_NESTING: usize = 8;

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

fn problem(field: &str, problem: String, allowed: Option<String>) -> Problem {
    Problem {
        field: field.to_owned(),
        problem,
        allowed,
    }
}

fn detect_shape(object: &Map<String, Value>, runbook: &str) -> Result<Shape, Vec<Problem>> {
    let has = |keys: &[&str]| keys.iter().any(|k| get_ci(object, k).is_some());
    if has(TENANT_KEYS) {
        return Ok(Shape::TenantDocument);
    }
    if has(&[runbook]) {
        return Ok(Shape::RunbookFragment);
    }
    if has(ENTRY_KEYS) {
        return Ok(Shape::RunbookEntry);
    }
    // Fragments of other runbooks only, or an empty document: nothing for this runbook.
    let unexpected: Vec<&String> = object
        .keys()
        .filter(|k| *k != "$schema" && !looks_like_runbook_name(k))
        .collect();
    if unexpected.is_empty() {
        return Ok(Shape::None);
    }
    let mut known: Vec<&str> = TENANT_KEYS.to_vec();
    known.extend(ENTRY_KEYS);
    known.push(runbook);
    Err(unexpected
        .into_iter()
        .map(|k| {
            problem(
                &format!("customization.{}", display_key(k)),
                format!("is not a key of any customization shape{}", did_you_mean(k, &known)),
                Some(format!(
                    "the tenant document (Settings, Templates, GraphFilters, Runbooks), a fragment keyed by \"{runbook}\", or the entry alone (Parameters, ParameterList)"
                )),
            )
        })
        .collect())
}

/// In the whole tenant document a runbook's entry lives under `Runbooks`; the same keys at the
/// top would be silently ignored, so they are refused with where they belong.
fn misplaced_entry_keys(obj: &Map<String, Value>, runbook: &str, problems: &mut Vec<Problem>) {
    for key in obj.keys() {
        let entry_key = ENTRY_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key));
        if entry_key || key.eq_ignore_ascii_case(runbook) {
            problems.push(problem(
                &format!("customization.{key}"),
                format!("is at the top of the tenant document, where it is ignored; it belongs under Runbooks.{runbook}"),
                Some(format!("{{ \"Runbooks\": {{ \"{runbook}\": {{ \"Parameters\": … }} }} }}")),
            ));
        }
    }
}

/// RealmJoin runbook names look like `rjgit-org_general_add-user`.
fn looks_like_runbook_name(key: &str) -> bool {
    key.contains('-') && key.contains('_') && !key.contains(char::is_whitespace)
}

/// Renames keys that match a known name in another letter case to the known name.
fn canon_keys(
    obj: &mut Map<String, Value>,
    known: &[&str],
    path: &str,
    problems: &mut Vec<Problem>,
) {
    if !obj
        .keys()
        .any(|k| known.iter().any(|n| n.eq_ignore_ascii_case(k) && n != k))
    {
        return;
    }
    let old = std::mem::take(obj);
    for (key, value) in old {
        let canonical = known
            .iter()
            .find(|n| n.eq_ignore_ascii_case(&key))
            .map_or(key.clone(), |n| (*n).to_owned());
        if obj.contains_key(&canonical) {
            problems.push(problem(
                &format!("{path}.{canonical}"),
                format!(
                    "is given twice, as \"{canonical}\" and \"{}\" (keys match in any letter case)",
                    display_key(&key)
                ),
                None,
            ));
            continue;
        }
        obj.insert(canonical, value);
    }
}

fn normalize_entry(entry: &mut Value, path: &str, problems: &mut Vec<Problem>) {
    let names: Vec<&str> = Manifest::get()
        .parameters
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let Some(obj) = entry.as_object_mut() else {
        return;
    };
    canon_keys(obj, ENTRY_KEYS, path, problems);
    if let Some(Value::Object(params)) = obj.get_mut("Parameters") {
        canon_keys(params, &names, &format!("{path}.Parameters"), problems);
        for (name, modifiers) in params.iter_mut() {
            normalize_modifiers(
                modifiers,
                &format!("{path}.Parameters.{}", display_key(name)),
                problems,
            );
        }
    }
    if let Some(Value::Array(list)) = obj.get_mut("ParameterList") {
        for (i, item) in list.iter_mut().enumerate() {
            let item_path = format!("{path}.ParameterList[{i}]");
            if let Some(item_obj) = item.as_object_mut() {
                let mut keys = vec!["Name"];
                keys.extend(MODIFIERS);
                canon_keys(item_obj, &keys, &item_path, problems);
                if let Some(Value::String(name)) = item_obj.get_mut("Name")
                    && let Some(canonical) = names.iter().find(|n| n.eq_ignore_ascii_case(name))
                {
                    *name = (*canonical).to_owned();
                }
            }
            normalize_modifiers(item, &item_path, problems);
        }
    }
}

fn normalize_modifiers(modifiers: &mut Value, path: &str, problems: &mut Vec<Problem>) {
    let Some(obj) = modifiers.as_object_mut() else {
        return;
    };
    canon_keys(obj, MODIFIERS, path, problems);
    if let Some(Value::Object(select)) = obj.get_mut("Select") {
        canon_keys(
            select,
            &["Options", "ShowValue"],
            &format!("{path}.Select"),
            problems,
        );
        if let Some(Value::Array(options)) = select.get_mut("Options") {
            for (i, option) in options.iter_mut().enumerate() {
                if let Some(o) = option.as_object_mut() {
                    canon_keys(
                        o,
                        &["Display", "Value", "Customization"],
                        &format!("{path}.Select.Options[{i}]"),
                        problems,
                    );
                }
            }
        }
    }
}

fn normalize_settings(settings: &mut Value, problems: &mut Vec<Problem>) {
    let Some(obj) = settings.as_object_mut() else {
        return;
    };
    canon_keys(obj, &["RJReport"], "customization.Settings", problems);
    let Some(Value::Object(report)) = obj.get_mut("RJReport") else {
        return;
    };
    canon_keys(
        report,
        RJREPORT_KEYS,
        "customization.Settings.RJReport",
        problems,
    );
    if let Some(Value::Object(branding)) = report.get_mut("Branding") {
        canon_keys(
            branding,
            BRANDING_KEYS,
            "customization.Settings.RJReport.Branding",
            problems,
        );
    }
}

/// Every `{ "$id": …, "$values": … }` block anywhere under `Templates`.
fn collect_templates(templates: Option<&Value>) -> Vec<(&str, &Value)> {
    fn walk<'a>(v: &'a Value, out: &mut Vec<(&'a str, &'a Value)>) {
        match v {
            Value::Object(o) => {
                if let (Some(Value::String(id)), Some(values)) = (o.get("$id"), o.get("$values")) {
                    out.push((id, values));
                }
                o.values().for_each(|c| walk(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(t) = templates {
        walk(t, &mut out);
    }
    out
}

/// Replaces each `{ "$ref": "<id>" }` with the `$values` of the template with that `$id`,
/// refusing cycles, deep nesting and expansion beyond [`MAX_TEMPLATE_EXPANSION`] values.
struct Resolver<'t> {
    templates: &'t [(&'t str, &'t Value)],
    /// The templates being expanded, outermost first, to name a cycle.
    stack: Vec<&'t str>,
    /// Values expansion may still add.
    budget: usize,
    /// The budget ran out: stop, one problem is enough.
    exhausted: bool,
    /// Where the outermost `$ref` being expanded is written: problems found inside templates
    /// are reported there, since positions inside an expansion are in no file.
    origin: String,
}

impl<'t> Resolver<'t> {
    fn new(templates: &'t [(&'t str, &'t Value)]) -> Self {
        Self {
            templates,
            stack: Vec::new(),
            budget: MAX_TEMPLATE_EXPANSION,
            exhausted: false,
            origin: String::new(),
        }
    }

    fn resolve(&mut self, v: &mut Value, path: &str, problems: &mut Vec<Problem>) {
        if self.exhausted {
            return;
        }
        if let Value::Object(o) = v
            && o.len() == 1
            && let Some(Value::String(id)) = o.get("$ref")
        {
            if self.stack.is_empty() {
                self.origin = path.to_owned();
            }
            let path = self.origin.clone();
            let path = path.as_str();
            let Some(&(id, values)) = self.templates.iter().find(|(t, _)| t == id) else {
                problems.push(problem(
                    path,
                    format!(
                        "refers to the template \"{}\", which is not defined under Templates",
                        display_key(id)
                    ),
                    Some(
                        "the $id of a { \"$id\": …, \"$values\": … } block under Templates".into(),
                    ),
                ));
                return;
            };
            if self.stack.contains(&id) {
                let chain: Vec<String> = self
                    .stack
                    .iter()
                    .skip_while(|t| **t != id)
                    .chain([&id])
                    .map(|t| format!("\"{}\"", display_key(t)))
                    .collect();
                problems.push(problem(
                    path,
                    format!(
                        "template \"{}\" refers to itself ({})",
                        display_key(id),
                        chain.join(" → ")
                    ),
                    Some("templates that do not refer back to themselves".into()),
                ));
                return;
            }
            if self.stack.len() >= MAX_TEMPLATE_NESTING {
                problems.push(problem(
                    path,
                    format!(
                        "template \"{}\" is pulled in more than {MAX_TEMPLATE_NESTING} templates deep",
                        display_key(id)
                    ),
                    None,
                ));
                return;
            }
            let size = count_values(values);
            if size > self.budget {
                self.exhausted = true;
                problems.push(problem(
                    path,
                    format!(
                        "the template references expand to more than {MAX_TEMPLATE_EXPANSION} values (at \"{}\")",
                        display_key(id)
                    ),
                    Some("templates that are not pulled in again and again inside one another".into()),
                ));
                return;
            }
            self.budget -= size;
            *v = values.clone();
            self.stack.push(id);
            self.resolve(v, path, problems);
            self.stack.pop();
            return;
        }
        match v {
            Value::Object(o) => {
                for (k, c) in o.iter_mut() {
                    self.resolve(c, &format!("{path}.{}", display_key(k)), problems);
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter_mut().enumerate() {
                    self.resolve(c, &format!("{path}[{i}]"), problems);
                }
            }
            _ => {}
        }
    }
}

/// How many JSON values `v` holds, itself included.
fn count_values(v: &Value) -> usize {
    1 + match v {
        Value::Object(o) => o.values().map(count_values).sum(),
        Value::Array(a) => a.iter().map(count_values).sum(),
        _ => 0,
    }
}

/// A JSON pointer as a dotted field path under `customization`.
fn pointer_to_path(pointer: &str) -> String {
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

fn schema_problems(shape: ShapeDef, root: &Value) -> Vec<Problem> {
    let m = Manifest::get();
    let mut out = Vec::new();
    for e in schema::validator(shape).iter_errors(root) {
        let pointer = e.instance_path().as_str().to_owned();
        let path = pointer_to_path(&pointer);
        match e.kind() {
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                let known = schema::known_keys_at(e.schema_path().as_str());
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

fn extract_entry(
    entry: &Value,
    path: &str,
    problems: &mut Vec<Problem>,
) -> Vec<(String, Modifiers)> {
    let mut out: Vec<(String, Modifiers)> = Vec::new();
    let mut add = |name: String, v: &Value, item_path: String, problems: &mut Vec<Problem>| {
        if out.iter().any(|(n, _)| *n == name) {
            problems.push(problem(
                &item_path,
                format!("customizes {name} a second time"),
                None,
            ));
            return;
        }
        if v.get("Default").is_some() && v.get("DefaultValue").is_some() {
            problems.push(problem(
                &item_path,
                "has both Default and DefaultValue; keep one".into(),
                None,
            ));
        }
        let flag = |k: &str| v.get(k).and_then(Value::as_bool);
        let options = v
            .get("SelectSimple")
            .and_then(Value::as_object)
            .map(|o| o.values().cloned().collect())
            .or_else(|| {
                v.pointer("/Select/Options")
                    .and_then(Value::as_array)
                    .map(|opts| {
                        opts.iter()
                            .filter_map(|o| o.get("Value").cloned())
                            .collect()
                    })
            });
        let modifiers = Modifiers {
            default: v.get("Default").or_else(|| v.get("DefaultValue")).cloned(),
            hide: flag("Hide"),
            read_only: flag("ReadOnly"),
            mandatory: flag("Mandatory"),
            allow_edit: flag("AllowEdit"),
            options,
            path: item_path,
        };
        out.push((name, modifiers));
    };
    if let Some(params) = entry.get("Parameters").and_then(Value::as_object) {
        for (name, v) in params {
            add(
                name.clone(),
                v,
                format!("{path}.Parameters.{}", display_key(name)),
                problems,
            );
        }
    }
    if let Some(list) = entry.get("ParameterList").and_then(Value::as_array) {
        for (i, item) in list.iter().enumerate() {
            // Entries without a Name only arrange the form.
            if let Some(name) = item.get("Name").and_then(Value::as_str) {
                add(
                    name.to_owned(),
                    item,
                    format!("{path}.ParameterList[{i}]"),
                    problems,
                );
            }
        }
    }
    out
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
