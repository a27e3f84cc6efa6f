//! The job's output protocol: log events on Azure Automation's four streams and exactly one
//! final result record, as NDJSON for a job host or as text for a person.

mod log;
mod record;
pub mod schema;

pub use log::{JobLog, MemorySink, OutputFormat};
pub use record::{
    ErrorCode, GraphErrorInfo, JobError, JobResult, JobStatus, NotificationOutcome, Problem,
    RemovedPass, StopSignal, TapOutcome,
};

use serde::Serialize;

/// Azure Automation's output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::EnumIter)]
pub enum Stream {
    /// What the operator reads.
    Output,
    /// Detail for troubleshooting; shown in text format only with `-v`.
    Verbose,
    /// Something went wrong that did not stop the job.
    Warning,
    /// Something that stopped the job.
    Error,
}

/// The current time as RFC 3339 with milliseconds in UTC, as every record carries it.
pub fn now_rfc3339() -> String {
    format_rfc3339(time::OffsetDateTime::now_utc())
}

/// Formats a timestamp as `2026-11-29T10:00:00.123Z`. A time that has no UTC form (late on
/// 9999-12-31 with a negative offset, as Graph could send) keeps its own offset.
pub fn format_rfc3339(t: time::OffsetDateTime) -> String {
    let Some(t) = t.checked_to_offset(time::UtcOffset::UTC) else {
        return t
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
    };
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}
