//! The commands, callable from `main` and from tests. Every job-like command (`run`,
//! `validate`) ends with exactly one result record, also on bad input and on panic.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::OnceLock;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::oneshot;

use crate::auth::{Credential, Environment};
use crate::cli::{Cli, CloudArg, Command, InputArgs, RunArgs, SimulatorArgs};
use crate::graph::{
    CA_FILE_VARIABLE, Cloud, GraphClient, GraphConfig, HttpSettings, HttpSetupError,
    TRUST_STORE_VARIABLES, build_http_client, validate_graph_url,
};
use crate::input::{self, TapRequest, document::MAX_DOCUMENT_BYTES, schema::SCHEMA_JSON};
use crate::job::schema::RECORD_SCHEMA_JSON;
use crate::job::{ErrorCode, JobError, JobLog, JobResult, OutputFormat, Problem, StopSignal};
use crate::manifest::{MANIFEST_JSON, Manifest};
use crate::notify::ImageFetcher;
use crate::signals::StopSignals;
use crate::text::{column, tail};
use crate::user_lock::UserLocks;
use crate::workflow::{self, Job, Progress};
use graph_sim::{Simulator, TenantFile};

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
        // The format asked for holds even though the rest of the command line was refused.
        let format = flag_value(std::env::args_os().skip(1), "--format")
            .and_then(|f| <OutputFormat as clap::ValueEnum>::from_str(f.to_str()?, true).ok())
            .unwrap_or(OutputFormat::Auto);
        let log = JobLog::stdout(format, false);
        let m = Manifest::get();
        log.set_runbook(&m.name, &m.version);
        // A job host that reads the result file instead of stdout still gets its record.
        log.set_result_file(
            flag_value(std::env::args_os().skip(1), "--result-file").map(PathBuf::from),
        );
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

/// The value of `flag` (`--flag VALUE` or `--flag=VALUE`) on a command line clap refused, if
/// one can be made out.
fn flag_value(
    args: impl Iterator<Item = std::ffi::OsString>,
    flag: &str,
) -> Option<std::ffi::OsString> {
    let mut args = args.peekable();
    let mut found = None;
    let prefix = format!("{flag}=");
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if arg == flag {
            found = args.next_if(|v| !v.to_string_lossy().starts_with('-'));
        } else if let Some(value) = arg.to_str().and_then(|a| a.strip_prefix(prefix.as_str())) {
            found = Some(value.into());
        }
    }
    found.filter(|v| !v.is_empty())
}

fn dispatch(cli: Cli) -> i32 {
    match cli.command {
        Command::Manifest => print_document(MANIFEST_JSON),
        Command::Schema(args) if args.records => print_document(RECORD_SCHEMA_JSON),
        Command::Schema(_) => print_document(SCHEMA_JSON),
        Command::HostScript { script } => print_document(&script.render(Manifest::get())),
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

/// Reads both documents on a thread of their own, so that a stop signal or the deadline can
/// end the wait for input that never comes (a held-open stdin, a FIFO nobody writes).
fn spawn_reader(args: &InputArgs) -> oneshot::Receiver<ReadDocuments> {
    let (tx, rx) = oneshot::channel();
    let invocation = args.invocation.clone();
    let customization = args.customization.clone();
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

type ReadDocuments = (Result<Vec<u8>, Problem>, Result<Option<Vec<u8>>, Problem>);

/// The input stage shared by `run` and `validate`: read, merge, validate, while listening
/// for stop signals and within the deadline. On failure the problems are on the Error stream
/// and the result to finish with comes back.
async fn prepare(
    args: &InputArgs,
    log: &JobLog,
    signals: &mut StopSignals,
    deadline: Option<tokio::time::Instant>,
) -> Result<TapRequest, Box<JobResult>> {
    let reading = spawn_reader(args);
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
            Err(Box::new(JobResult::failed(error)))
        }
    }
}

/// Listens for stop signals before anything else, so none can end the process without its
/// record.
fn listen() -> Result<StopSignals, Box<JobResult>> {
    StopSignals::listen().map_err(|e| {
        Box::new(JobResult::failed(JobError::new(
            ErrorCode::Unexpected,
            format!("cannot listen for stop signals: {e}"),
        )))
    })
}

fn validate(args: &InputArgs) -> i32 {
    let log = start_log(args);
    let result = with_runtime(async {
        let mut signals = match listen() {
            Ok(s) => s,
            Err(result) => return *result,
        };
        let request = match prepare(args, &log, &mut signals, None).await {
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

/// Runs `job` on the async runtime; a runtime that cannot start is an internal error.
fn with_runtime(job: impl Future<Output = JobResult>) -> JobResult {
    let runtime = match runtime() {
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

fn finish(log: &JobLog, result: JobResult) -> i32 {
    log.finish(&result);
    result.exit_code()
}

/// Listens for signals, reads and checks the input, sets up the Graph endpoint and
/// credential, then runs the workflow until it ends, a signal stops it, or the deadline
/// passes; in each case with whatever was done so far.
async fn run_job(args: &RunArgs, log: &JobLog) -> JobResult {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.deadline);
    let mut signals = match listen() {
        Ok(s) => s,
        Err(result) => return *result,
    };
    let request = match prepare(&args.input, log, &mut signals, Some(deadline)).await {
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
            return JobResult::failed(error);
        }
    };
    let started = OffsetDateTime::now_utc();
    let progress = Progress::default();
    let locks = UserLocks::from_environment();
    let work = async {
        // The image client costs a few milliseconds of start-up: built only for a job that
        // will download branding images.
        let branding = &request.branding;
        let fetches_images = args.simulate.is_none()
            && !args.what_if
            && request.notify_user
            && (branding.header_image_url.is_some() || branding.footer_image_url.is_some());
        let endpoint = match Endpoint::open(args, graph_url, fetches_images, log, deadline).await {
            Ok(e) => e,
            Err(e) => return JobResult::failed(e),
        };
        let job = Job {
            request: &request,
            graph: &endpoint.graph,
            images: endpoint.images.as_ref(),
            log,
            what_if: args.what_if,
            outbox: args.outbox.as_deref(),
            started,
            replace_reserve: REPLACE_RESERVE.min(Duration::from_secs(args.deadline) / 2),
            download_branding: args.simulate.is_none(),
            locks: &locks,
            progress: &progress,
        };
        let result = workflow::run(&job).await;
        endpoint.close().await;
        result
    };
    tokio::pin!(work);
    tokio::select! {
        result = &mut work => result,
        signal = signals.next() => stop(signal, work, &mut signals, &progress, log).await,
        // A backstop only: every step is bounded by the deadline itself and ends the way that
        // step should (a late notification is a warning), so the timer waits a moment longer.
        () = tokio::time::sleep_until(deadline + DEADLINE_BACKSTOP) => {
            let mut message = format!("the job did not finish within its deadline of {} seconds", args.deadline);
            if progress.pass_may_exist() {
                message.push_str("; a new pass may exist that nobody received: check the user's authentication methods in the Entra admin center, or run the job again, which removes it");
            }
            let mut result = JobResult::failed(JobError::new(ErrorCode::Timeout, message));
            result.result = progress.partial_result();
            log.error(result.error.as_ref().map(|e| e.message.clone()).unwrap_or_default());
            result
        }
    }
}

/// Ends the job for a stop signal. Nothing new starts after it; a replacement under way is
/// finished first (at most [`REPLACE_GRACE`], [`FORCED_END_GRACE`] when Windows is about to end
/// the process), since stopping between delete and create
/// would leave the user without a pass, or lose the value of one Graph is making. A second
/// signal ends that wait at once.
async fn stop(
    signal: StopSignal,
    work: std::pin::Pin<&mut impl Future<Output = JobResult>>,
    signals: &mut StopSignals,
    progress: &Progress,
    log: &JobLog,
) -> JobResult {
    if progress.is_replacing() {
        progress.request_stop(signal);
        let grace = if signal.ends_process_soon() {
            FORCED_END_GRACE
        } else {
            REPLACE_GRACE
        };
        log.warning(format!(
            "{} arrived while the pass was being replaced; finishing that first (at most {} seconds), then stopping",
            signal.name(),
            grace.as_secs()
        ));
        tokio::select! {
            _ = work => {}
            () = tokio::time::sleep(grace) => log.warning(format!(
                "The replacement did not finish within {} seconds", grace.as_secs()
            )),
            second = signals.next() => log.warning(format!(
                "A second {} ended the wait for the replacement", second.name()
            )),
        }
        if progress.pass_may_exist() {
            log.warning(
                "A new pass may exist that nobody received: check the user's authentication methods in the Entra admin center, or run the job again, which removes it",
            );
        }
    }
    log.error(format!("Stopped by {}", signal.name()));
    JobResult::stopped(signal, progress.partial_result())
}

/// Where Graph is and how to authenticate: the real service, a given URL, or a simulated
/// tenant served in-process.
struct Endpoint {
    graph: GraphClient,
    images: Option<ImageFetcher>,
    simulator: Option<Simulator>,
}

impl Endpoint {
    async fn open(
        args: &RunArgs,
        graph_url: Option<reqwest::Url>,
        fetches_images: bool,
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
                log.set_simulated();
                let prefix = if args.what_if {
                    "What if: running"
                } else {
                    "Running"
                };
                log.output(format!("{prefix} against a SIMULATED tenant at {} (not Microsoft Graph; no real tenant is changed)", sim.base_url()));
                // Only the simulator's managed-identity endpoint: real credentials on this
                // machine must never be sent to it, nor its tokens to the real service.
                let env: Environment = sim.managed_identity_env().into_iter().collect();
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
        let settings = HttpSettings::from_environment(&env);
        let setup_error = |e: HttpSetupError| JobError::new(ErrorCode::InvalidInput, e.to_string());
        let http = build_http_client(&settings).map_err(setup_error)?;
        let images = fetches_images
            .then(|| ImageFetcher::new(&settings))
            .transpose()
            .map_err(setup_error)?;
        if let Some(variable) = TRUST_STORE_VARIABLES.iter().find(|v| env.has(v)) {
            log.verbose(format!("{variable} is set: on Linux its certificates replace the system's trusted roots ({CA_FILE_VARIABLE} adds roots instead)"));
        }
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
            images,
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
    let tenant = match graph_sim::TenantFile::load(&args.tenant) {
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
    let served = runtime.block_on(async {
        // Listened for before the banner appears, so a client that stops the simulator as soon
        // as it has read the banner still gets a clean shutdown.
        let mut signals = StopSignals::listen()?;
        let https = args.https.then(|| match &args.ca_file {
            Some(path) => graph_sim::CaFile::At(path.clone()),
            None => graph_sim::CaFile::Temporary,
        });
        graph_sim::serve_forever(tenant, args.listen, https, async move {
            signals.next().await;
        })
        .await
        .map_err(std::io::Error::other)
    });
    match served {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("tap-runbook: {e}");
            1
        }
    }
}
