//! The commands, callable from `main` and from tests. Every job-like command (`run`,
//! `validate`) ends with exactly one result record, also on bad input and on panic.

use std::io::{self, Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::OnceLock;

use clap::Parser;
use time::OffsetDateTime;

use crate::cli::{Cli, Command, InputArgs, RunArgs, SimulatorArgs};
use crate::input::{self, TapRequest, document::MAX_DOCUMENT_BYTES, schema::SCHEMA_JSON};
use crate::job::{ErrorCode, JobError, JobLog, JobResult, Problem};
use crate::manifest::{MANIFEST_JSON, Manifest};

/// The log of the running job, so a panic can still end it with a result record.
static ACTIVE_LOG: OnceLock<JobLog> = OnceLock::new();

/// Parses the command line, runs the command and returns the process exit code.
pub fn main() -> i32 {
    // The default hook prints the panic payload; ours prints only where it happened, so no
    // value that was being handled can reach stderr.
    panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("tap-runbook: internal error at {place}");
    }));
    let cli = Cli::parse();
    match panic::catch_unwind(AssertUnwindSafe(|| dispatch(cli))) {
        Ok(code) => code,
        Err(_) => {
            if let Some(log) = ACTIVE_LOG.get() {
                log.finish(&JobResult::failed(JobError::new(
                    ErrorCode::Unexpected,
                    "internal error; see stderr for where it happened",
                )));
            }
            1
        }
    }
}

fn dispatch(cli: Cli) -> i32 {
    match cli.command {
        Command::Manifest => print_document(MANIFEST_JSON),
        Command::Schema => print_document(SCHEMA_JSON),
        Command::Validate(args) => validate(&args),
        Command::Run(args) => run(&args),
        Command::Simulator(args) => simulator(&args),
    }
}

fn print_document(text: &str) -> i32 {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        // A closed pipe (`| head`) is a normal end.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("tap-runbook: cannot write to stdout: {e}");
            1
        }
    }
}

fn start_log(args: &InputArgs) -> JobLog {
    let log = JobLog::stdout(args.format, args.verbose);
    let m = Manifest::get();
    log.set_runbook(&m.name, &m.version);
    let _ = ACTIVE_LOG.set(log.clone());
    log
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
    let result = if path.as_os_str() == "-" {
        io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    result.map_err(|e| problem(format!("cannot read {}: {e}", path.display())))?;
    if bytes.len() as u64 >= limit {
        return Err(problem(format!(
            "{} is larger than {MAX_DOCUMENT_BYTES} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

/// The input stage shared by `run` and `validate`: read, merge, validate. On failure the
/// problems are logged and the result record is written; the caller only returns the code.
fn prepare(args: &InputArgs, log: &JobLog) -> Result<TapRequest, i32> {
    let invocation = read_document(&args.invocation, "--invocation");
    let customization = args
        .customization
        .as_deref()
        .map(|p| read_document(p, "--customization"))
        .transpose();
    let outcome = match (invocation, customization) {
        (Ok(inv), Ok(cust)) => input::prepare(&inv, cust.as_deref(), OffsetDateTime::now_utc())
            .map_err(|e| e.to_job_error()),
        (inv, cust) => {
            let problems: Vec<Problem> = [inv.err(), cust.err()].into_iter().flatten().collect();
            let mut error = JobError::new(
                ErrorCode::InvalidInput,
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
            Err(error)
        }
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
            let result = JobResult::failed(error);
            log.finish(&result);
            Err(result.exit_code())
        }
    }
}

fn validate(args: &InputArgs) -> i32 {
    let log = start_log(args);
    let request = match prepare(args, &log) {
        Ok(r) => r,
        Err(code) => return code,
    };
    for p in &request.parameters.0 {
        log.output(format!(
            "{:<24} {:<40} {}",
            p.name,
            p.value.to_string(),
            p.source
        ));
    }
    let result = JobResult::completed(serde_json::json!({
        "valid": true,
        "parameters": request.parameters.to_json(),
    }));
    log.finish(&result);
    result.exit_code()
}

fn run(args: &RunArgs) -> i32 {
    let log = start_log(&args.input);
    let request = match prepare(&args.input, &log) {
        Ok(r) => r,
        Err(code) => return code,
    };
    log.verbose(format!("inputs valid for {}", request.user.as_str()));
    let result = JobResult::failed(JobError::new(
        ErrorCode::Unexpected,
        "this build validates the inputs only; it cannot contact Microsoft Graph yet, so nothing was changed",
    ));
    log.finish(&result);
    result.exit_code()
}

/// Serves a simulated tenant until Ctrl-C or SIGTERM. A bad tenant file is an input error.
fn simulator(args: &SimulatorArgs) -> i32 {
    let tenant = match crate::simulate::TenantFile::load(&args.tenant) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tap-runbook: {e}");
            return 2;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tap-runbook: cannot start the async runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(crate::simulate::serve_forever(tenant, args.listen)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("tap-runbook: {e}");
            1
        }
    }
}
