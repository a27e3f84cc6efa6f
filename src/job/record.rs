//! The final result record and the stable error codes.

use serde::{Serialize, Serializer};

use crate::secret::Secret;

/// How the job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::EnumIter)]
pub enum JobStatus {
    /// The pass was created (warnings allowed).
    Completed,
    /// The job could not do its work; `error` says why.
    Failed,
    /// Stopped by a signal (SIGINT, SIGTERM) or a Windows console event.
    Stopped,
}

/// Stable error codes. Job hosts match on these; never rename one. `job-record.schema.json`
/// lists every variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::EnumIter)]
pub enum ErrorCode {
    InvalidInput,
    InvalidCustomization,
    UserNotFound,
    GuestUserNotSupported,
    PermissionDenied,
    PolicyDisabled,
    LifetimeOutsidePolicy,
    AuthenticationFailed,
    Throttled,
    GraphUnavailable,
    Timeout,
    /// Another job for the same user replaced this job's new pass moments after it was made.
    ReplacedByAnotherJob,
    Unexpected,
}

impl ErrorCode {
    /// Input errors exit with 2: nothing was changed and nothing was sent.
    pub fn is_input_error(self) -> bool {
        matches!(self, Self::InvalidInput | Self::InvalidCustomization)
    }
}

/// One problem found in the inputs: where, what was wrong, what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Field path, e.g. `parameters.LifetimeInMinutes` or `customization.Runbooks.…`.
    pub field: String,
    /// What was wrong with it.
    pub problem: String,
    /// What would be accepted instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<String>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)?;
        if let Some(allowed) = &self.allowed {
            write!(f, " (allowed: {allowed})")?;
        }
        Ok(())
    }
}

/// What Graph said when a call failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphErrorInfo {
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The `error` member of a failed result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph: Option<GraphErrorInfo>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl JobError {
    /// An error without Graph details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            graph: None,
            problems: Vec::new(),
        }
    }
}

/// The notification block of the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationOutcome {
    pub requested: bool,
    pub sent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl NotificationOutcome {
    /// No notification was asked for.
    pub fn not_requested() -> Self {
        Self {
            requested: false,
            sent: false,
            recipient: None,
            language: None,
        }
    }
}

/// The `result` member of a job that created a pass (or, with `--what-if`, planned one).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TapOutcome {
    pub user_principal_name: String,
    pub user_id: String,
    #[serde(
        serialize_with = "expose_pass",
        skip_serializing_if = "Option::is_none"
    )]
    pub temporary_access_pass: Option<Secret>,
    pub start_date_time: Option<String>,
    pub lifetime_in_minutes: u32,
    pub is_usable_once: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_usable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method_usability_reason: Option<String>,
    pub removed_pass_count: u32,
    /// The passes this job removed, so that jobs which ran at once can be told apart.
    pub removed_passes: Vec<RemovedPass>,
    /// The new pass's method id in Graph.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary_access_pass_id: Option<String>,
    /// Another job replaced the new pass after it was created: it no longer works.
    pub superseded: bool,
    pub notification: NotificationOutcome,
}

/// A pass the job removed from the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemovedPass {
    /// Its method id.
    pub id: String,
    /// When it was created, as Graph listed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_date_time: Option<String>,
}

/// The result record is one of the two places the pass may appear.
fn expose_pass<S: Serializer>(pass: &Option<Secret>, s: S) -> Result<S::Ok, S::Error> {
    match pass {
        Some(p) => s.serialize_str(p.expose()),
        None => s.serialize_none(),
    }
}

/// The signal or console event that stopped a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT (Ctrl-C in a Unix terminal).
    Interrupt,
    /// SIGTERM (the job host cancelled the job).
    Terminate,
    /// SIGHUP (the terminal or session that started the job went away), as a console close
    /// is on Windows.
    Hangup,
    /// Ctrl-C in a Windows console, or `GenerateConsoleCtrlEvent(CTRL_C_EVENT)`.
    CtrlC,
    /// Ctrl-Break in a Windows console, or `GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT)`.
    CtrlBreak,
    /// The Windows console the job runs in is being closed.
    ConsoleClose,
    /// The Windows user is logging off.
    Logoff,
    /// Windows is shutting down.
    Shutdown,
}

impl StopSignal {
    /// The signal's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
            Self::Hangup => "SIGHUP",
            Self::CtrlC => "Ctrl-C",
            Self::CtrlBreak => "Ctrl-Break",
            Self::ConsoleClose => "console close",
            Self::Logoff => "logoff",
            Self::Shutdown => "shutdown",
        }
    }

    /// Whether the system ends the process a few seconds after this event whatever the job
    /// does (Windows: 5 s by default for close, logoff and shutdown), so the job must write
    /// its record at once instead of waiting for a step under way.
    pub fn ends_process_soon(self) -> bool {
        matches!(self, Self::ConsoleClose | Self::Logoff | Self::Shutdown)
    }
}

/// Everything the final record says besides the envelope fields the log adds.
#[derive(Debug, Clone)]
pub struct JobResult {
    pub status: JobStatus,
    pub result: Option<serde_json::Value>,
    pub error: Option<JobError>,
    /// Set when a signal stopped the job.
    pub stopped_by: Option<StopSignal>,
}

impl JobResult {
    /// A completed job with its result body.
    pub fn completed(result: impl Serialize) -> Self {
        Self {
            status: JobStatus::Completed,
            result: serde_json::to_value(result).ok(),
            error: None,
            stopped_by: None,
        }
    }

    /// A job stopped by a signal, with whatever it had already done.
    pub fn stopped(signal: StopSignal, partial: Option<serde_json::Value>) -> Self {
        Self {
            status: JobStatus::Stopped,
            result: partial,
            error: None,
            stopped_by: Some(signal),
        }
    }

    /// A failed job.
    pub fn failed(error: JobError) -> Self {
        Self {
            status: JobStatus::Failed,
            result: None,
            error: Some(error),
            stopped_by: None,
        }
    }

    /// The process exit code for this result (decided here only).
    pub fn exit_code(&self) -> i32 {
        match self.status {
            JobStatus::Completed => 0,
            // 128 + the Unix signal number; Ctrl-C is SIGINT's twin, every other stop
            // (a job host cancelling, a console closing, logoff, shutdown) SIGTERM's.
            JobStatus::Stopped => match self.stopped_by {
                Some(StopSignal::Interrupt | StopSignal::CtrlC) | None => 130,
                Some(
                    StopSignal::Terminate
                    | StopSignal::Hangup
                    | StopSignal::CtrlBreak
                    | StopSignal::ConsoleClose
                    | StopSignal::Logoff
                    | StopSignal::Shutdown,
                ) => 143,
            },
            JobStatus::Failed => match &self.error {
                Some(e) if e.code.is_input_error() => 2,
                _ => 1,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_exits_130_for_an_interrupt_and_143_otherwise() {
        let code = |signal| JobResult::stopped(signal, None).exit_code();
        assert_eq!(code(StopSignal::Interrupt), 130);
        assert_eq!(code(StopSignal::CtrlC), 130);
        for signal in [
            StopSignal::Terminate,
            StopSignal::Hangup,
            StopSignal::CtrlBreak,
            StopSignal::ConsoleClose,
            StopSignal::Logoff,
            StopSignal::Shutdown,
        ] {
            assert_eq!(code(signal), 143, "{}", signal.name());
        }
    }

    #[test]
    fn only_close_logoff_and_shutdown_are_followed_by_a_forced_end() {
        assert!(StopSignal::ConsoleClose.ends_process_soon());
        assert!(StopSignal::Logoff.ends_process_soon());
        assert!(StopSignal::Shutdown.ends_process_soon());
        assert!(!StopSignal::CtrlC.ends_process_soon());
        assert!(!StopSignal::CtrlBreak.ends_process_soon());
        assert!(!StopSignal::Terminate.ends_process_soon());
    }
}
