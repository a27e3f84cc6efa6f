//! Key-case normalisation: RealmJoin matches keys in any letter case, so every known key is
//! renamed to its canonical spelling before validation and a key given twice in two cases is
//! refused.

use serde_json::{Map, Value};

use super::shape::ENTRY_KEYS;
use crate::input::problem;
use crate::input::schema::{BRANDING_KEYS, MODIFIERS, RJREPORT_KEYS};
use crate::input::value::display_key;
use crate::job::Problem;
use crate::manifest::Manifest;

/// Renames keys that match a known name in another letter case to the known name.
pub(super) fn canon_keys(
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

pub(super) fn normalize_entry(entry: &mut Value, path: &str, problems: &mut Vec<Problem>) {
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

pub(super) fn normalize_settings(settings: &mut Value, problems: &mut Vec<Problem>) {
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
