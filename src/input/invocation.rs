//! The invocation document: a flat map of parameter values (what Azure Automation passes) or a
//! wrapper `{ "runbook", "jobId", "parameters" }`.

use serde_json::Value;

use super::document::{self, get_ci};
use super::suggest::did_you_mean;
use super::value::{display_key, json_kind, short};
use crate::job::Problem;
use crate::manifest::Manifest;

const WRAPPER_KEYS: &[&str] = &["runbook", "jobId", "parameters"];

/// The field of a wrapper's `parameters` member; when it is not an object no parameter could
/// be read, so "is required" problems would only repeat it.
pub const PARAMETERS_FIELD: &str = "invocation.parameters";

/// A parsed invocation.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// The job id to echo in every record.
    pub job_id: Option<String>,
    /// Parameter values as given: name as written, raw value.
    pub parameters: Vec<(String, Value)>,
}

/// Parses and checks the invocation's envelope (not yet its parameter values). Problems with
/// the envelope come back beside whatever parameters could still be read, so that those are
/// checked too and every problem is reported at once.
pub fn load(bytes: &[u8]) -> (Invocation, Vec<Problem>) {
    let root = match document::parse(bytes) {
        Ok(root) => root,
        Err(e) => return (Invocation::default(), vec![problem("invocation", e, None)]),
    };
    let allowed =
        "an object of parameter values, or { \"runbook\", \"jobId\", \"parameters\": { … } }";
    let Value::Object(object) = root else {
        return (
            Invocation::default(),
            vec![problem(
                "invocation",
                format!("the document is {}, not a JSON object", json_kind(&root)),
                Some(allowed.into()),
            )],
        );
    };
    // No parameter is called "parameters": the key always means the wrapper.
    let wrapped = get_ci(&object, "parameters").is_some();
    if !wrapped {
        return (
            Invocation {
                job_id: None,
                parameters: object.into_iter().collect(),
            },
            Vec::new(),
        );
    }
    let mut problems = Vec::new();
    let mut invocation = Invocation::default();
    // A key given twice in different letter case is refused, not resolved: with "last one
    // wins", `parameters` and `Parameters` could name two different users.
    let mut seen: Vec<(&'static str, String)> = Vec::new();
    for (key, value) in object {
        let known = WRAPPER_KEYS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(&key))
            .copied();
        if let Some(canonical) = known {
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == canonical) {
                problems.push(problem(
                    &format!("invocation.{canonical}"),
                    format!(
                        "is given twice, as \"{}\" and \"{}\" (keys match in any letter case)",
                        display_key(first),
                        display_key(&key)
                    ),
                    Some(format!("one \"{canonical}\" member")),
                ));
                // Neither value is used: echoing or acting on the wrong one is worse.
                match canonical {
                    "parameters" => invocation.parameters.clear(),
                    "jobId" => invocation.job_id = None,
                    _ => {}
                }
                continue;
            }
            seen.push((canonical, key.clone()));
        }
        match known {
            Some("parameters") => match value {
                Value::Object(p) => invocation.parameters = p.into_iter().collect(),
                other => problems.push(problem(
                    PARAMETERS_FIELD,
                    format!(
                        "is {}, not an object of parameter values",
                        json_kind(&other)
                    ),
                    Some(allowed.into()),
                )),
            },
            Some("runbook") => {
                let expected = &Manifest::get().name;
                match value.as_str() {
                    Some(name) if name.eq_ignore_ascii_case(expected) => {}
                    _ => problems.push(problem(
                        "invocation.runbook",
                        format!("{} is not this runbook", short(&value)),
                        Some(format!("\"{expected}\", or leave it out")),
                    )),
                }
            }
            Some(_) => match value {
                Value::String(id) if is_job_id(&id) => invocation.job_id = Some(id),
                Value::Null => {}
                other => problems.push(problem(
                    "invocation.jobId",
                    format!("{} is not a job id", short(&other)),
                    Some("a string of at most 128 letters, digits and - _ . : { }".into()),
                )),
            },
            None => problems.push(problem(
                &format!("invocation.{}", display_key(&key)),
                format!(
                    "is not a key of the invocation wrapper{}",
                    did_you_mean(&key, WRAPPER_KEYS)
                ),
                Some(WRAPPER_KEYS.join(", ")),
            )),
        }
    }
    (invocation, problems)
}

fn is_job_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:{}".contains(c))
}

fn problem(field: &str, problem: String, allowed: Option<String>) -> Problem {
    Problem {
        field: field.to_owned(),
        problem,
        allowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_and_wrapped() {
        let (flat, problems) = load(br#"{"UserName":"a@b.com","CallerName":"x"}"#);
        assert!(problems.is_empty());
        assert_eq!(flat.parameters.len(), 2);
        assert_eq!(flat.job_id, None);
        let (wrapped, problems) = load(br#"{"runbook":"rjgit-user_security_create-temporary-access-pass","jobId":"0c9d-1","Parameters":{"UserName":"a@b.com"}}"#);
        assert!(problems.is_empty());
        assert_eq!(wrapped.job_id.as_deref(), Some("0c9d-1"));
        assert_eq!(wrapped.parameters.len(), 1);
    }

    #[test]
    fn wrapper_keys_given_twice_in_other_case_are_refused() {
        let (invocation, err) = load(
            br#"{"parameters":{"UserName":"a@b.com"},"jobId":"j-1","Parameters":{"UserName":"c@d.com"},"JobId":"j-2"}"#,
        );
        let fields: Vec<&str> = err.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["invocation.parameters", "invocation.jobId"]);
        assert!(err[0].problem.contains("\"parameters\" and \"Parameters\""));
        assert!(
            invocation.parameters.is_empty(),
            "neither block is used: {invocation:?}"
        );
        assert_eq!(invocation.job_id, None, "an ambiguous job id is not echoed");
    }

    #[test]
    fn wrong_runbook_and_unknown_wrapper_keys() {
        let (invocation, err) = load(br#"{"runbook":"rjgit-other","jobid":"x y","parameters":{"UserName":"a@b.com"},"jobld":1}"#);
        assert_eq!(invocation.parameters.len(), 1, "parameters are still read");
        let fields: Vec<&str> = err.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["invocation.runbook", "invocation.jobId", "invocation.jobld"]
        );
        assert!(err[2].problem.contains("did you mean \"jobId\""));
    }
}
