//! The input stage: invocation + customization → a validated [`TapRequest`], or every problem
//! found, at once. Nothing here touches the network.

pub mod customization;
pub mod document;
pub mod invocation;
pub mod merge;
pub mod request;
pub mod rules;
pub mod schema;
mod suggest;
pub mod user_name;
pub mod value;

pub use customization::{Customization, Shape};
pub use merge::{ResolvedParameter, ResolvedParameters, Source};
pub use request::TapRequest;
pub use user_name::UserName;

use time::OffsetDateTime;

use crate::job::{ErrorCode, JobError, Problem};

/// At most this many problems are reported; a hostile document with thousands of unknown keys
/// must not turn into megabytes of log.
pub const MAX_PROBLEMS: usize = 50;

/// Every problem the inputs have, with the code that classifies them.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", summary(.problems))]
pub struct InputError {
    /// `InvalidCustomization` when the tenant's customization is at fault, else `InvalidInput`.
    pub code: ErrorCode,
    pub problems: Vec<Problem>,
    /// The invocation's job id, when it could be read: every record echoes it.
    pub job_id: Option<String>,
}

fn summary(problems: &[Problem]) -> String {
    match problems {
        [one] => format!("invalid input: {one}"),
        many => format!(
            "{} problems in the input: {}",
            many.len(),
            many.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

impl InputError {
    /// The error member of the result record.
    pub fn to_job_error(&self) -> JobError {
        JobError {
            code: self.code,
            message: self.to_string(),
            graph: None,
            problems: self.problems.clone(),
        }
    }
}

/// Loads, merges and validates the invocation and the optional customization.
pub fn prepare(
    invocation: &[u8],
    customization: Option<&[u8]>,
    now: OffsetDateTime,
) -> Result<TapRequest, InputError> {
    let mut problems = Vec::new();
    let (invocation, envelope_problems) = invocation::load(invocation);
    problems.extend(envelope_problems);
    let customization = match customization {
        None => Customization::empty(),
        Some(bytes) => customization::load(bytes).unwrap_or_else(|p| {
            problems.extend(p);
            Customization::empty()
        }),
    };
    let envelope_broken = problems
        .iter()
        .any(|p| p.field == "invocation" || p.field == invocation::PARAMETERS_FIELD);
    let (parameters, report) = merge::merge(&invocation, &customization, now);
    if !envelope_broken {
        problems.extend(report.problems);
    }
    if !problems.is_empty() {
        let code = if problems
            .iter()
            .any(|p| p.field.starts_with("customization"))
        {
            ErrorCode::InvalidCustomization
        } else {
            ErrorCode::InvalidInput
        };
        if problems.len() > MAX_PROBLEMS {
            let more = problems.len() - MAX_PROBLEMS;
            problems.truncate(MAX_PROBLEMS);
            problems.push(Problem {
                field: "input".into(),
                problem: format!(
                    "{more} more problems are not listed; correct the ones above and validate again"
                ),
                allowed: None,
            });
        }
        return Err(InputError {
            code,
            problems,
            job_id: invocation.job_id,
        });
    }
    let mut notes = vec![format!("customization: {}", customization.shape.describe())];
    notes.extend(report.notes);
    Ok(TapRequest::from_parameters(
        invocation.job_id,
        parameters,
        report.warnings,
        notes,
    ))
}

/// A problem with `field`, for the report.
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
    fn thousands_of_unknown_keys_give_a_bounded_report() {
        let keys: Vec<String> = (0..5_000).map(|i| format!("\"k{i}\": 1")).collect();
        let doc = format!("{{ {} }}", keys.join(", "));
        let err = prepare(doc.as_bytes(), None, OffsetDateTime::now_utc()).unwrap_err();
        assert_eq!(err.problems.len(), MAX_PROBLEMS + 1);
        let last = err.problems.last().unwrap();
        assert!(
            last.problem.contains("more problems are not listed"),
            "{last}"
        );
    }

    #[test]
    fn a_wrapper_whose_parameters_is_no_object_is_one_problem() {
        let err = prepare(
            br#"{"jobId":"j-1","parameters":["a@contoso.com"]}"#,
            None,
            OffsetDateTime::now_utc(),
        )
        .unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        assert_eq!(err.problems[0].field, "invocation.parameters");
        assert!(err.problems[0].problem.contains("is an array"), "{err}");
    }
}
