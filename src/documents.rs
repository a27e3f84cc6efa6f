//! The input stage shared by `run` and `validate`: read the invocation and the customization
//! (a file or standard input, refused past the size limit) on a thread of their own, within the
//! deadline and while listening for stop signals, then merge and validate them.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::cli::InputArgs;
use crate::input::{self, TapRequest, document::MAX_DOCUMENT_BYTES};
use crate::job::{ErrorCode, JobError, JobLog, JobResult, Problem};
use crate::signals::StopSignals;

/// The invocation's bytes and the customization's, if one was named, or why each could not
/// be read.
type ReadDocuments = (Result<Vec<u8>, Problem>, Result<Option<Vec<u8>>, Problem>);

/// Reads, merges and validates the inputs. On failure the problems are on the Error stream
/// and the result to finish with comes back.
pub async fn prepare_request(
    args: &InputArgs,
    log: &JobLog,
    signals: &mut StopSignals,
    deadline: Option<Instant>,
) -> Result<TapRequest, Box<JobResult>> {
    let reading = spawn_reader(args.invocation.clone(), args.customization.clone());
    let timer = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    let documents = tokio::select! {
        read = reading => read.map_err(|_| Box::new(JobResult::failed(JobError::new(
            ErrorCode::Unexpected,
            "the input could not be read",
        ))))?,
        signal = signals.next() => {
            log.error(format!("Stopped by {} while reading the input", signal.name()));
            return Err(Box::new(JobResult::stopped(signal, None)));
        }
        () = timer => {
            let error = JobError::new(
                ErrorCode::Timeout,
                "the input was not read within the job's deadline; nothing was changed",
            );
            log.error(error.message.clone());
            return Err(Box::new(JobResult::failed(error)));
        }
    };
    let outcome = match documents {
        (Ok(inv), Ok(cust)) => input::prepare(&inv, cust.as_deref(), OffsetDateTime::now_utc())
            .map_err(|e| {
                log.set_job_id(e.job_id.clone());
                e.to_job_error()
            }),
        (inv, cust) => Err(unreadable(
            [inv.err(), cust.err()].into_iter().flatten().collect(),
        )),
    };
    match outcome {
        Ok(request) => {
            log.set_job_id(request.job_id.clone());
            for note in &request.notes {
                log.verbose(note.clone());
            }
            for warning in &request.warnings {
                log.warning(warning.clone());
            }
            Ok(request)
        }
        Err(error) => {
            for p in &error.problems {
                log.error(p.to_string());
            }
            Err(Box::new(JobResult::failed(error)))
        }
    }
}

/// The error for documents that could not be read: the customization's fault when only it
/// failed.
fn unreadable(problems: Vec<Problem>) -> JobError {
    let code = if problems.iter().all(|p| p.field == "--customization") {
        ErrorCode::InvalidCustomization
    } else {
        ErrorCode::InvalidInput
    };
    let mut error = JobError::new(
        code,
        format!(
            "cannot read the input: {}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ),
    );
    error.problems = problems;
    error
}

/// Reads both documents on a thread of their own, so that a stop signal or the deadline can
/// end the wait for input that never comes (a held-open stdin, a FIFO nobody writes).
fn spawn_reader(
    invocation: PathBuf,
    customization: Option<PathBuf>,
) -> oneshot::Receiver<ReadDocuments> {
    let (tx, rx) = oneshot::channel();
    std::thread::spawn(move || {
        let inv = read_document(&invocation, "--invocation");
        let cust = customization
            .as_deref()
            .map(|p| read_document(p, "--customization"))
            .transpose();
        let _ = tx.send((inv, cust));
    });
    rx
}

/// Reads a document from a file or standard input (`-`), refusing oversized input early.
fn read_document(path: &Path, flag: &str) -> Result<Vec<u8>, Problem> {
    let problem = |what: String| Problem {
        field: flag.to_owned(),
        problem: what,
        allowed: None,
    };
    let limit = MAX_DOCUMENT_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    let stdin = path.as_os_str() == "-";
    let name = if stdin {
        "standard input".to_owned()
    } else {
        path.display().to_string()
    };
    let result = if stdin {
        io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    result.map_err(|e| problem(format!("cannot read {name}: {e}")))?;
    if bytes.len() as u64 >= limit {
        return Err(problem(format!(
            "{name} is larger than {MAX_DOCUMENT_BYTES} bytes"
        )));
    }
    Ok(bytes)
}
