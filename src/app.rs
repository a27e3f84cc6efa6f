//! The composition root: the commands, callable from `main` and from tests. Every job-like
//! command (`run`, `validate`) ends with exactly one result record, also on bad input and on
//! panic, and its exit code is the record's.

use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::OnceLock;

use time::OffsetDateTime;

use crate::cli::{Cli, Command, InputArgs, RunArgs, SimulatorArgs};
use crate::documents::prepare_request;
use crate::endpoint::Endpoint;
use crate::input::schema::SCHEMA_JSON;
use crate::job::schema::RECORD_SCHEMA_JSON;
use crate::job::{ErrorCode, JobError, JobLog, JobResult};
use crate::manifest::{MANIFEST_JSON, Manifest};
use crate::run_config::{Deadline, RunConfig};
use crate::supervise::{listen, supervise};
use crate::text::{column, tail};
use crate::usage::usage_error;
use crate::user_lock::UserLocks;
use crate::workflow::{self, Job, Progress};

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
    let cli = match Cli::parse_args() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    match panic::catch_unwind(AssertUnwindSafe(|| dispatch(cli))) {
        Ok(code) => code,
        Err(_) => {
            let result = JobResult::failed(JobError::new(
                ErrorCode::Unexpected,
                "internal error; see stderr for where it happened",
            ));
            if let Some(log) = ACTIVE_LOG.get() {
                log.finish(&result);
            }
            result.exit_code()
        }
    }
}

fn dispatch(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Manifest => print_document(MANIFEST_JSON),
        Command::Schema(args) if args.records => print_document(RECORD_SCHEMA_JSON),
        Command::Schema(_) => print_document(SCHEMA_JSON),
        Command::HostScript { script } => print_document(&script.render(Manifest::get())),
        Command::Simulator(args) => simulator(&args),
        Command::Validate(args) => return validate(&args),
        Command::Run(args) => return run(&args),
    };
    // The commands that write no records say what went wrong on stderr.
    if let Some(error) = &result.error {
        eprintln!("tap-runbook: {}", error.message);
    }
    result.exit_code()
}

fn print_document(text: &str) -> JobResult {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => JobResult::completed(()),
        // A closed pipe (`| head`) is a normal end.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => JobResult::completed(()),
        Err(e) => JobResult::failed(JobError::new(
            ErrorCode::Unexpected,
            format!("cannot write to stdout: {e}"),
        )),
    }
}

fn start_log(args: &InputArgs) -> JobLog {
    let log = JobLog::stdout(args.format, args.verbose);
    let m = Manifest::get();
    log.set_runbook(&m.name, &m.version);
    let _ = ACTIVE_LOG.set(log.clone());
    log
}

fn validate(args: &InputArgs) -> i32 {
    let log = start_log(args);
    let result = with_runtime(async {
        let mut signals = match listen() {
            Ok(s) => s,
            Err(result) => return *result,
        };
        let request = match prepare_request(args, &log, &mut signals, None).await {
            Ok(r) => r,
            Err(result) => return *result,
        };
        // Three columns within 100 characters; the result record holds every value whole.
        for p in &request.parameters.0 {
            let line = format!(
                "{} {} {}",
                column(&p.name, 22),
                column(&p.value.to_string(), 36),
                tail(&p.source.to_string(), 40)
            );
            log.output(line.trim_end());
        }
        JobResult::completed(serde_json::json!({
            "valid": true,
            "parameters": request.parameters.to_json(),
        }))
    });
    finish(&log, result)
}

fn run(args: &RunArgs) -> i32 {
    let log = start_log(&args.input);
    log.set_result_file(args.result_file.clone());
    let result = with_runtime(run_job(args, &log));
    finish(&log, result)
}

fn finish(log: &JobLog, result: JobResult) -> i32 {
    log.finish(&result);
    result.exit_code()
}

/// Listens for signals, reads and checks the input, builds the run's configuration, opens
/// the Graph endpoint, then runs the workflow until it ends, a signal stops it, or the
/// deadline passes.
async fn run_job(args: &RunArgs, log: &JobLog) -> JobResult {
    let deadline = Deadline::starting_now(args.deadline);
    let mut signals = match listen() {
        Ok(s) => s,
        Err(result) => return *result,
    };
    let request = match prepare_request(&args.input, log, &mut signals, Some(deadline.at)).await {
        Ok(r) => r,
        Err(result) => return *result,
    };
    let m = Manifest::get();
    log.verbose(format!(
        "{} {} started by {}",
        m.name, m.version, request.caller_name
    ));
    for p in &request.parameters.0 {
        log.verbose(format!("Parameter {} = {} ({})", p.name, p.value, p.source));
    }
    let config = match RunConfig::from_args(args, deadline) {
        Ok(config) => config,
        Err(error) => return JobResult::failed(error),
    };
    let started = OffsetDateTime::now_utc();
    let progress = Progress::default();
    let locks = UserLocks::from_environment();
    let fetches_images = config.fetches_images(&request);
    let download_branding = config.downloads_branding();
    let work = async {
        let endpoint = match Endpoint::open(
            config.target,
            fetches_images,
            config.what_if,
            config.deadline,
            log,
        )
        .await
        {
            Ok(e) => e,
            Err(e) => return JobResult::failed(e),
        };
        let job = Job {
            request: &request,
            graph: &endpoint.graph,
            images: endpoint.images.as_ref(),
            log,
            what_if: config.what_if,
            outbox: config.outbox.as_deref(),
            started,
            replace_reserve: config.replace_reserve,
            download_branding,
            locks: &locks,
            progress: &progress,
        };
        let result = workflow::run(&job).await;
        endpoint.close().await;
        result
    };
    supervise(work, &mut signals, &progress, config.deadline, log).await
}

/// Runs `job` on the async runtime; a runtime that cannot start is an internal error.
fn with_runtime(job: impl Future<Output = JobResult>) -> JobResult {
    // Two workers are plenty for a few concurrent requests, and start faster than one per
    // core.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return JobResult::failed(JobError::new(
                ErrorCode::Unexpected,
                format!("cannot start the async runtime: {e}"),
            ));
        }
    };
    let result = runtime.block_on(job);
    // A request or a reader still blocked must not hold up the exit.
    runtime.shutdown_background();
    result
}

/// Serves a simulated tenant until Ctrl-C or SIGTERM. A bad tenant file is an input error.
fn simulator(args: &SimulatorArgs) -> JobResult {
    let tenant = match graph_sim::TenantFile::load(&args.tenant) {
        Ok(t) => t,
        Err(e) => return JobResult::failed(JobError::new(ErrorCode::InvalidInput, e.to_string())),
    };
    with_runtime(async {
        // Listened for before the banner appears, so a client that stops the simulator as soon
        // as it has read the banner still gets a clean shutdown.
        let mut signals = match listen() {
            Ok(s) => s,
            Err(result) => return *result,
        };
        let https = args.https.then(|| match &args.ca_file {
            Some(path) => graph_sim::CaFile::At(path.clone()),
            None => graph_sim::CaFile::Temporary,
        });
        let served = graph_sim::serve_forever(tenant, args.listen, https, async move {
            signals.next().await;
        })
        .await;
        match served {
            Ok(()) => JobResult::completed(()),
            Err(e) => JobResult::failed(JobError::new(ErrorCode::Unexpected, e.to_string())),
        }
    })
}
