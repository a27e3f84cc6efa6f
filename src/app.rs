//! The commands, callable from `main` and from tests. Every job-like command (`run`,
//! `validate`) ends with exactly one result record, also on bad input and on panic.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;
use std::sync::OnceLock;
use std::time::Duration;

use time::OffsetDateTime;

use crate::auth::{Credential, Environment};
use crate::cli::{Cli, CloudArg, Command, InputArgs, RunArgs, SimulatorArgs};
use crate::graph::{
    Cloud, GraphClient, GraphConfig, HttpSettings, build_http_client, validate_graph_url,
};
use crate::input::{self, TapRequest, document::MAX_DOCUMENT_BYTES, schema::SCHEMA_JSON};
use crate::job::{ErrorCode, JobError, JobLog, JobResult, OutputFormat, Problem};
use crate::manifest::{MANIFEST_JSON, Manifest};
use crate::signals::StopSignals;
use crate::simulate::{Simulator, TenantFile};
use crate::workflow::{self, Job, Progress};

/// The time a pass replacement is given at least before the deadline (half the budget for
/// very short deadlines).
const REPLACE_RESERVE: Duration = Duration::from_secs(5);

/// How long after the deadline the job is cut off if a step did not end by itself.
const DEADLINE_BACKSTOP: Duration = Duration::from_secs(2);

/// How long a stop signal waits for a pass replacement already under way.
const REPLACE_GRACE: Duration = Duration::from_secs(10);

/// The same wait after a Windows console close, logoff or shutdown: the system ends the
/// process about 5 s after the event, and the record must be out before that.
const FORCED_END_GRACE: Duration = Duration::from_secs(2);

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

/// Help and version go out as clap prints them. A usage error of a job command (`run`,
/// `validate`) still ends with a result record, since a job host reads stdout for it; clap's
/// explanation goes to stderr.
fn usage_error(e: &clap::Error) -> i32 {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return 0;
    }
    let _ = e.print();
    // args_os: `args` panics on an argument that is not valid Unicode, which is exactly the
    // kind of command line that ends up here.
    let job_command = std::env::args_os()
        .skip(1)
        .find(|a| !a.to_string_lossy().starts_with('-'))
        .is_some_and(|a| a == "run" || a == "validate");
    if job_command {
        let log = JobLog::stdout(OutputFormat::Auto, false);
        let m = Manifest::get();
        log.set_runbook(&m.name, &m.version);
        let message = e
            .kind()
            .as_str()
            .unwrap_or("invalid command line")
            .to_owned();
        let mut error = JobError::new(
            ErrorCode::InvalidInput,
            format!("command line: {message}; see stderr or --help"),
        );
        error.problems.push(Problem {
            field: "command line".into(),
            problem: message,
            allowed: None,
        });
        log.finish(&JobResult::failed(error));
    }
    2
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
    log.set_result_file(args.result_file.clone());
    let request = match prepare(&args.input, &log) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let m = Manifest::get();
    log.verbose(format!(
        "{} {} started by {}",
        m.name, m.version, request.caller_name
    ));
    for p in &request.parameters.0 {
        log.verbose(format!("Parameter {} = {} ({})", p.name, p.value, p.source));
    }
    // The Graph URL is input too: refuse a bad one before any network.
    let graph_url = match args
        .graph_url
        .as_deref()
        .map(validate_graph_url)
        .transpose()
    {
        Ok(url) => url,
        Err(problem) => {
            let mut error =
                JobError::new(ErrorCode::InvalidInput, format!("--graph-url: {problem}"));
            error.problems.push(Problem {
                field: "--graph-url".into(),
                problem,
                allowed: Some("an https URL, or http for a loopback host".into()),
            });
            return finish(&log, JobResult::failed(error));
        }
    };
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            return finish(
                &log,
                JobResult::failed(JobError::new(
                    ErrorCode::Unexpected,
                    format!("cannot start the async runtime: {e}"),
                )),
            );
        }
    };
    let result = runtime.block_on(run_job(args, &request, graph_url, &log));
    finish(&log, result)
}

fn finish(log: &JobLog, result: JobResult) -> i32 {
    log.finish(&result);
    result.exit_code()
}

/// Sets up the Graph endpoint and credential, then runs the workflow until it ends, a signal
/// stops it, or the deadline passes; in each case with whatever was done so far.
async fn run_job(
    args: &RunArgs,
    request: &TapRequest,
    graph_url: Option<reqwest::Url>,
    log: &JobLog,
) -> JobResult {
    let started = OffsetDateTime::now_utc();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.deadline);
    let progress = Progress::default();
    let mut signals = match StopSignals::listen() {
        Ok(s) => s,
        Err(e) => {
            return JobResult::failed(JobError::new(
                ErrorCode::Unexpected,
                format!("cannot listen for stop signals: {e}"),
            ));
        }
    };
    let stop = signals.next();
    tokio::pin!(stop);
    let work = async {
        let endpoint = match Endpoint::open(args, graph_url, log, deadline).await {
            Ok(e) => e,
            Err(e) => return JobResult::failed(e),
        };
        let job = Job {
            request,
            graph: &endpoint.graph,
            http: &endpoint.http,
            log,
            what_if: args.what_if,
            outbox: args.outbox.as_deref(),
            started,
            replace_reserve: REPLACE_RESERVE.min(Duration::from_secs(args.deadline) / 2),
            download_branding: args.simulate.is_none(),
            progress: &progress,
        };
        let result = workflow::run(&job).await;
        endpoint.close().await;
        result
    };
    tokio::pin!(work);
    tokio::select! {
        result = &mut work => result,
        signal = &mut stop => {
            if progress.is_replacing() {
                // Stopping between delete and create would leave the user without a pass, or
                // lose the value of one Graph is making.
                let grace = if signal.ends_process_soon() { FORCED_END_GRACE } else { REPLACE_GRACE };
                log.warning(format!("{} arrived while the pass was being replaced; finishing that first (at most {} seconds)", signal.name(), grace.as_secs()));
                if let Ok(result) = tokio::time::timeout(grace, &mut work).await {
                    return result;
                }
            }
            log.error(format!("Stopped by {}", signal.name()));
            JobResult::stopped(signal, progress.partial_result())
        }
        // A backstop only: every step is bounded by the deadline itself and ends the way that
        // step should (a late notification is a warning), so the timer waits a moment longer.
        () = tokio::time::sleep_until(deadline + DEADLINE_BACKSTOP) => {
            let mut result = JobResult::failed(JobError::new(
                ErrorCode::Timeout,
                format!("the job did not finish within its deadline of {} seconds", args.deadline),
            ));
            result.result = progress.partial_result();
            log.error(result.error.as_ref().map(|e| e.message.clone()).unwrap_or_default());
            result
        }
    }
}

/// Where Graph is and how to authenticate: the real service, a given URL, or a simulated
/// tenant served in-process.
struct Endpoint {
    graph: GraphClient,
    http: reqwest::Client,
    simulator: Option<Simulator>,
}

impl Endpoint {
    async fn open(
        args: &RunArgs,
        graph_url: Option<reqwest::Url>,
        log: &JobLog,
        deadline: tokio::time::Instant,
    ) -> Result<Self, JobError> {
        let cloud = match args.cloud {
            CloudArg::Global => Cloud::Global,
            CloudArg::Usgov => Cloud::UsGov,
            CloudArg::UsgovDod => Cloud::UsGovDod,
            CloudArg::China => Cloud::China,
        };
        let (env, base_url, simulator) = match &args.simulate {
            Some(path) => {
                let tenant = TenantFile::load(path).map_err(|e| {
                    let mut error =
                        JobError::new(ErrorCode::InvalidInput, format!("--simulate: {e}"));
                    error.problems.push(Problem {
                        field: "--simulate".into(),
                        problem: e.to_string(),
                        allowed: None,
                    });
                    error
                })?;
                let sim = Simulator::start(tenant, SocketAddr::from(([127, 0, 0, 1], 0)))
                    .await
                    .map_err(|e| {
                        JobError::new(
                            ErrorCode::Unexpected,
                            format!("cannot start the simulated tenant: {e}"),
                        )
                    })?;
                log.output(format!("Running against a SIMULATED tenant at {} (not Microsoft Graph; no real tenant is changed)", sim.base_url()));
                // Only the simulator's managed-identity endpoint: real credentials on this
                // machine must never be sent to it, nor its tokens to the real service.
                let env: Environment = sim
                    .client_env()
                    .into_iter()
                    .filter(|(k, _)| k.starts_with("IDENTITY_"))
                    .collect();
                let url = reqwest::Url::parse(&sim.base_url())
                    .map_err(|e| JobError::new(ErrorCode::Unexpected, e.to_string()))?;
                (env, url, Some(sim))
            }
            None => (
                Environment::capture(),
                graph_url.unwrap_or_else(|| cloud.graph_url()),
                None,
            ),
        };
        let http = build_http_client(&HttpSettings::from_environment(&env))
            .map_err(|e| JobError::new(ErrorCode::InvalidInput, e.to_string()))?;
        let credential =
            Credential::from_environment(&env, cloud, &http).map_err(|e| e.to_job_error())?;
        log.verbose(format!("Credential: {}", credential.kind()));
        log.verbose(format!("Microsoft Graph at {base_url}"));
        // A token first: a credential problem is reported as such, before any Graph call.
        match tokio::time::timeout_at(deadline, credential.token(false)).await {
            Ok(token) => drop(token.map_err(|e| e.to_job_error())?),
            Err(_) => {
                return Err(JobError::new(
                    ErrorCode::Timeout,
                    format!(
                        "no access token within the job's deadline of {} seconds",
                        args.deadline
                    ),
                ));
            }
        }
        let graph = GraphClient::new(
            GraphConfig::new(base_url, deadline),
            http.clone(),
            Arc::new(credential),
            log.clone(),
        );
        Ok(Self {
            graph,
            http,
            simulator,
        })
    }

    async fn close(self) {
        if let Some(sim) = self.simulator {
            let _ = sim.shutdown().await;
        }
    }
}

/// The async runtime of `run` and `simulator`: two workers are plenty for a few concurrent
/// requests, and start faster than one per core.
fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
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
    let runtime = match runtime() {
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
