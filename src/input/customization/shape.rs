//! Which of the three accepted shapes a customization document has.

use serde_json::{Map, Value};

use super::Shape;
use crate::input::document::get_ci;
use crate::input::problem;
use crate::input::suggest::did_you_mean;
use crate::input::value::display_key;
use crate::job::Problem;

/// The top-level keys of the tenant's whole document.
pub(super) const TENANT_KEYS: &[&str] = &["Settings", "Templates", "GraphFilters", "Runbooks"];
/// The keys of a runbook entry.
pub(super) const ENTRY_KEYS: &[&str] = &["Parameters", "ParameterList"];

pub(super) fn detect_shape(
    object: &Map<String, Value>,
    runbook: &str,
) -> Result<Shape, Vec<Problem>> {
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
pub(super) fn misplaced_entry_keys(
    obj: &Map<String, Value>,
    runbook: &str,
    problems: &mut Vec<Problem>,
) {
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
