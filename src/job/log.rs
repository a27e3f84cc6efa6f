//! The event sink: every log event and the final result go through one `JobLog`.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value, json};

use super::{JobResult, JobStatus, Stream, now_rfc3339};
use crate::private_file::write_private_file;
use crate::text::{escape_unsafe, json_line};

/// How events are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Text on a terminal, NDJSON otherwise.
    Auto,
    /// One JSON object per line, for job hosts.
    Ndjson,
    /// Plain lines for a person.
    Text,
}

impl OutputFormat {
    /// Resolves `Auto` against whether stdout is a terminal.
    pub fn resolve(self) -> Self {
        match self {
            Self::Auto if io::stdout().is_terminal() => Self::Text,
            Self::Auto => Self::Ndjson,
            other => other,
        }
    }
}

/// Runbook identity stamped on the result record.
#[derive(Debug, Clone, Default)]
struct Identity {
    job_id: Option<String>,
    runbook: String,
    version: String,
    /// The job ran against a simulated tenant (`--simulate`), so nothing real was changed.
    simulated: bool,
}

struct Inner {
    sink: Mutex<Box<dyn Write + Send>>,
    format: OutputFormat,
    verbose: bool,
    identity: Mutex<Identity>,
    warnings: Mutex<Vec<String>>,
    /// Messages already written on the Error stream, so the end of a failed job tells each
    /// reason exactly once.
    errors: Mutex<Vec<String>>,
    finished: AtomicBool,
    /// A write to the sink failed: whoever reads the job's output is gone.
    output_lost: AtomicBool,
    result_file: Mutex<Option<PathBuf>>,
}

/// A cloneable handle to the job's event stream. Writes are flushed per line and serialized,
/// so concurrent steps never interleave partial lines.
#[derive(Clone)]
pub struct JobLog {
    inner: Arc<Inner>,
}

/// An in-memory sink, for tests that want to read what a `JobLog` wrote.
#[derive(Clone, Default)]
pub struct MemorySink(Arc<Mutex<Vec<u8>>>);

impl MemorySink {
    /// Everything written so far, as text.
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&lock(&self.0)).into_owned()
    }
}

impl Write for MemorySink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        lock(&self.0).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A poisoned lock only means another thread panicked mid-write; the data is still usable and
/// the final record must still go out.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl JobLog {
    /// A log writing to `sink` in `format` (`Auto` is resolved against stdout).
    pub fn new(sink: Box<dyn Write + Send>, format: OutputFormat, verbose: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                sink: Mutex::new(sink),
                format: format.resolve(),
                verbose,
                identity: Mutex::new(Identity::default()),
                warnings: Mutex::new(Vec::new()),
                errors: Mutex::new(Vec::new()),
                finished: AtomicBool::new(false),
                output_lost: AtomicBool::new(false),
                result_file: Mutex::new(None),
            }),
        }
    }

    /// A log writing to stdout.
    pub fn stdout(format: OutputFormat, verbose: bool) -> Self {
        Self::new(Box::new(io::stdout()), format, verbose)
    }

    /// A log writing NDJSON to memory, for tests.
    pub fn memory() -> (Self, MemorySink) {
        let sink = MemorySink::default();
        (
            Self::new(Box::new(sink.clone()), OutputFormat::Ndjson, true),
            sink,
        )
    }

    /// Sets the runbook name and version stamped on the result record.
    pub fn set_runbook(&self, runbook: &str, version: &str) {
        let mut id = lock(&self.inner.identity);
        id.runbook = runbook.to_owned();
        id.version = version.to_owned();
    }

    /// Also write the final record to this file, atomically and readable by this account only
    /// (see [`write_private_file`]): it holds the pass.
    pub fn set_result_file(&self, path: Option<PathBuf>) {
        *lock(&self.inner.result_file) = path;
    }

    /// Marks the job as run against a simulated tenant: the record says so, so an engine can
    /// tell a rehearsal from a live run.
    pub fn set_simulated(&self) {
        lock(&self.inner.identity).simulated = true;
    }

    /// Sets the job id echoed in every record from now on.
    pub fn set_job_id(&self, job_id: Option<String>) {
        lock(&self.inner.identity).job_id = job_id;
    }

    /// A line for the operator.
    pub fn output(&self, message: impl Into<String>) {
        self.event(Stream::Output, message.into());
    }

    /// Troubleshooting detail.
    pub fn verbose(&self, message: impl Into<String>) {
        self.event(Stream::Verbose, message.into());
    }

    /// A problem that did not stop the job; also listed in the result's `warnings`.
    pub fn warning(&self, message: impl Into<String>) {
        let message = message.into();
        lock(&self.inner.warnings).push(message.clone());
        self.event(Stream::Warning, message);
    }

    /// A problem that stopped the job.
    pub fn error(&self, message: impl Into<String>) {
        self.event(Stream::Error, message.into());
    }

    /// The warnings issued so far.
    pub fn warnings(&self) -> Vec<String> {
        lock(&self.inner.warnings).clone()
    }

    /// Whether the final record has been written.
    pub fn is_finished(&self) -> bool {
        self.inner.finished.load(Ordering::SeqCst)
    }

    /// Writes the final result record. Only the first call writes: the record is always the
    /// last line and there is exactly one. Returns whether this call wrote it.
    pub fn finish(&self, result: &JobResult) -> bool {
        // Hold the sink across the check so no event can slip in after the record.
        let mut sink = lock(&self.inner.sink);
        if self.inner.finished.swap(true, Ordering::SeqCst) {
            return false;
        }
        // Every reason for a failure goes out on the Error stream before the record, whichever
        // step found it, unless that step already told it.
        if let Some(e) = &result.error {
            let reasons: Vec<String> = if e.problems.is_empty() {
                vec![e.message.clone()]
            } else {
                e.problems.iter().map(ToString::to_string).collect()
            };
            for reason in reasons {
                if !lock(&self.inner.errors).contains(&reason)
                    && let Some(line) = self.event_line(Stream::Error, &reason)
                {
                    self.write_line(&mut **sink, &line);
                }
            }
        }
        let id = lock(&self.inner.identity).clone();
        let warnings = self.warnings();
        let mut record = Map::new();
        record.insert("type".into(), json!("result"));
        record.insert("time".into(), json!(now_rfc3339()));
        record.insert("jobId".into(), json!(id.job_id));
        record.insert("runbook".into(), json!(id.runbook));
        record.insert("version".into(), json!(id.version));
        record.insert("status".into(), json!(result.status));
        record.insert("simulated".into(), json!(id.simulated));
        record.insert(
            "result".into(),
            result.result.clone().unwrap_or(Value::Null),
        );
        record.insert("warnings".into(), json!(warnings));
        record.insert("error".into(), json!(result.error));
        let json_line = json_line(&Value::Object(record));
        if let Some(path) = lock(&self.inner.result_file).as_deref()
            && let Err(e) = write_private_file(path, format!("{json_line}\n").as_bytes())
        {
            eprintln!(
                "tap-runbook: cannot write the result file {}: {e}",
                path.display()
            );
        }
        let line = match self.inner.format {
            OutputFormat::Text => text_result(result, &warnings),
            _ => json_line,
        };
        self.write_line(&mut **sink, &line);
        true
    }

    /// Writes one line and flushes it, noting when nobody can read it any more.
    fn write_line(&self, sink: &mut dyn Write, line: &str) {
        if writeln!(sink, "{line}")
            .and_then(|()| sink.flush())
            .is_err()
        {
            self.inner.output_lost.store(true, Ordering::SeqCst);
        }
    }

    /// Whether a pass created now would reach someone: the output can still be written, or
    /// the result file will hold it.
    pub fn can_deliver(&self) -> bool {
        !self.inner.output_lost.load(Ordering::SeqCst) || lock(&self.inner.result_file).is_some()
    }

    fn event(&self, stream: Stream, message: String) {
        let mut sink = lock(&self.inner.sink);
        if self.is_finished() {
            return;
        }
        if stream == Stream::Error {
            lock(&self.inner.errors).push(message.clone());
        }
        if let Some(line) = self.event_line(stream, &message) {
            self.write_line(&mut **sink, &line);
        }
    }

    /// The line for one event in this log's format; `None` when it is not shown.
    fn event_line(&self, stream: Stream, message: &str) -> Option<String> {
        Some(match self.inner.format {
            // Messages carry values from the inputs and from Graph: each line is one event.
            OutputFormat::Text => {
                let message = escape_unsafe(message);
                match stream {
                    Stream::Output => message.into_owned(),
                    Stream::Verbose if self.inner.verbose => format!("VERBOSE: {message}"),
                    Stream::Verbose => return None,
                    Stream::Warning => format!("WARNING: {message}"),
                    Stream::Error => format!("ERROR: {message}"),
                }
            }
            _ => {
                let job_id = lock(&self.inner.identity).job_id.clone();
                json_line(&json!({
                    "type": "log",
                    "time": now_rfc3339(),
                    "jobId": job_id,
                    "stream": stream,
                    "message": message,
                }))
            }
        })
    }
}

/// The last text line: the status, and for a failure its code. Each reason was already
/// written as an `ERROR:` line, so none is repeated here.
fn text_result(result: &JobResult, warnings: &[String]) -> String {
    let mut out = match result.status {
        JobStatus::Completed => "Status: Completed".to_owned(),
        JobStatus::Failed => "Status: Failed".to_owned(),
        JobStatus::Stopped => "Status: Stopped".to_owned(),
    };
    if let Some(e) = &result.error {
        out.push_str(&format!(" ({:?})", e.code));
    }
    if !warnings.is_empty() {
        out.push_str(&format!(" with {} warning(s)", warnings.len()));
    }
    if let Some(g) = result.error.as_ref().and_then(|e| e.graph.as_ref()) {
        out.push_str(&format!(
            "\n  Graph status {} code {} request-id {}",
            g.status,
            escape_unsafe(g.code.as_deref().unwrap_or("-")),
            escape_unsafe(g.request_id.as_deref().unwrap_or("-"))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{ErrorCode, JobError};

    fn lines(sink: &MemorySink) -> Vec<Value> {
        sink.contents()
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect()
    }

    #[test]
    fn result_is_written_once_and_last() {
        let (log, sink) = JobLog::memory();
        log.set_job_id(Some("job-1".into()));
        log.output("working");
        log.warning("careful");
        assert!(log.finish(&JobResult::failed(JobError::new(
            ErrorCode::Timeout,
            "late"
        ))));
        log.output("after the end");
        assert!(!log.finish(&JobResult::completed(json!({}))));
        let lines = lines(&sink);
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["stream"], "Output");
        assert_eq!(lines[0]["jobId"], "job-1");
        assert_eq!(
            lines[2]["stream"], "Error",
            "the reason goes out on the Error stream"
        );
        assert_eq!(lines[2]["message"], "late");
        assert_eq!(lines[3]["type"], "result");
        assert_eq!(lines[3]["status"], "Failed");
        assert_eq!(lines[3]["error"]["code"], "Timeout");
        assert_eq!(lines[3]["warnings"], json!(["careful"]));
    }

    #[test]
    fn a_value_cannot_forge_text_lines_or_split_a_record() {
        let forged =
            "adele@contoso.com\r\nStatus: Completed\u{1b}]0;owned\u{7}\u{1b}[2J\u{2028}x\u{202e}";
        for format in [OutputFormat::Text, OutputFormat::Ndjson] {
            let sink = MemorySink::default();
            let log = JobLog::new(Box::new(sink.clone()), format, true);
            log.output(format!("Temporary Access Pass for {forged}"));
            log.finish(&JobResult::failed(JobError::new(
                ErrorCode::Unexpected,
                forged,
            )));
            let text = sink.contents();
            let lines: Vec<&str> = text.split_terminator('\n').collect();
            let expected = 3;
            assert_eq!(lines.len(), expected, "{format:?}: {text}");
            assert!(
                !text
                    .chars()
                    .any(|c| c != '\n' && crate::text::is_unsafe_char(c)),
                "{format:?}: {text:?}"
            );
            assert!(!text.contains("\nStatus: Completed"), "{text}");
        }
    }

    fn text_of(run: impl FnOnce(&JobLog)) -> String {
        let sink = MemorySink::default();
        let log = JobLog::new(Box::new(sink.clone()), OutputFormat::Text, false);
        run(&log);
        sink.contents()
    }

    #[test]
    fn text_tells_each_failure_once_with_its_code() {
        let told = text_of(|log| {
            log.error("the deadline passed");
            log.finish(&JobResult::failed(JobError::new(
                ErrorCode::Timeout,
                "the deadline passed",
            )));
        });
        assert_eq!(
            told,
            "ERROR: the deadline passed\nStatus: Failed (Timeout)\n"
        );
        let untold = text_of(|log| {
            log.warning("careful");
            log.finish(&JobResult::failed(JobError::new(
                ErrorCode::Unexpected,
                "cannot start",
            )));
        });
        assert_eq!(
            untold,
            "WARNING: careful\nERROR: cannot start\nStatus: Failed (Unexpected) with 1 warning(s)\n"
        );
        let problems = text_of(|log| {
            let mut error = JobError::new(ErrorCode::InvalidInput, "a; b");
            for field in ["a", "b"] {
                error.problems.push(crate::job::Problem {
                    field: field.into(),
                    problem: "is wrong".into(),
                    allowed: None,
                });
            }
            log.finish(&JobResult::failed(error));
        });
        assert_eq!(
            problems,
            "ERROR: a: is wrong\nERROR: b: is wrong\nStatus: Failed (InvalidInput)\n"
        );
    }

    #[test]
    fn result_file_gets_the_same_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("result.json");
        let (log, sink) = JobLog::memory();
        log.set_result_file(Some(path.clone()));
        log.finish(&JobResult::completed(json!({"x": 1})));
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let stdout: Value = serde_json::from_str(sink.contents().trim()).unwrap();
        assert_eq!(file, stdout);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
