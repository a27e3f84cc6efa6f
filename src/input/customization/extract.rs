//! Extraction: the parameter modifiers of a normalised, validated runbook entry.

use serde_json::Value;

use super::Modifiers;
use crate::input::problem;
use crate::input::value::display_key;
use crate::job::Problem;

/// The modifiers of every parameter the entry customizes, from `Parameters` and
/// `ParameterList`; a parameter customized twice is a problem.
pub(super) fn extract_entry(
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
