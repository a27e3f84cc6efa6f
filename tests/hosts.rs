//! The host scripts: the Python runbook run with python3 as Azure Automation would (arguments
//! as `Name=Value`, the script in a folder of its own, another working folder, only the
//! job's managed-identity environment) against a simulated tenant; the generated commands in
//! the README; `host-script` printing the committed files.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use graph_sim::Simulator;
use serde_json::{Value, json};
use tap_runbook::hosts::{HOSTS_DIR, HostScript};
use tempfile::TempDir;

use crate::common::sim::{ADELE, passes_of, tenant};
use crate::common::{Run, Test, assert_absent, assert_no_credential, root};

const GUEST: &str = "nestor_fabrikam.com#EXT#@contoso.onmicrosoft.com";

/// The Python interpreter, resolved once to its real path so the runbook runs with a cleared
/// environment (no PATH, no pyenv shims). `TAP_RUNBOOK_TEST_PYTHON` picks another one.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let name = std::env::var("TAP_RUNBOOK_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let out = Command::new(&name)
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .unwrap_or_else(|e| panic!("{name} runs: {e}"));
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
}

/// A job of the Python runbook as Automation starts it: the script copied into a folder of
/// its own, run from another folder, with the job's environment and nothing else.
struct PythonJob {
    script: PathBuf,
    workdir: TempDir,
    _script_dir: TempDir,
    env: Vec<(String, String)>,
    args: Vec<String>,
}

impl PythonJob {
    fn new(sim: &Simulator) -> Self {
        let script_dir = tempfile::tempdir().unwrap();
        let name = HostScript::Python.file_name();
        let script = script_dir.path().join(name);
        std::fs::copy(root().join(HOSTS_DIR).join(name), &script).unwrap();
        let mut env = vec![(
            "TAP_RUNBOOK_EXE".to_owned(),
            env!("CARGO_BIN_EXE_tap-runbook").to_owned(),
        )];
        env.extend(crate::common::sim::host_env(sim));
        Self {
            script,
            workdir: tempfile::tempdir().unwrap(),
            _script_dir: script_dir,
            env,
            args: Vec::new(),
        }
    }

    fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(python());
        cmd.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.workdir.path())
            .arg(&self.script)
            .args(&self.args);
        cmd
    }

    /// The secrets of the job's environment.
    fn secrets(&self) -> Vec<String> {
        self.env
            .iter()
            .filter(|(k, _)| crate::common::is_secret_variable(k))
            .map(|(_, v)| v.clone())
            .collect()
    }

    async fn run(self) -> Run {
        tokio::task::spawn_blocking(move || {
            let out = self.command().stdin(Stdio::null()).output().unwrap();
            let run = Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8(out.stdout).unwrap(),
                stderr: String::from_utf8(out.stderr).unwrap(),
            };
            assert_text_run_no_leak(&run, &self.secrets());
            run
        })
        .await
        .unwrap()
    }
}

/// The leak checker for the text streams of a host script: no credential anywhere; the pass
/// in exactly one Output line (text on stdout) and in the result record, and never on stderr.
fn assert_text_run_no_leak(run: &Run, secrets: &[String]) {
    assert_no_credential(run, secrets);
    let Some(pass) = result_of(run)["result"]["temporaryAccessPass"]
        .as_str()
        .map(str::to_owned)
    else {
        return;
    };
    let lines: Vec<&str> = run.stdout.lines().collect();
    let carrying: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains(&pass))
        .collect();
    assert_eq!(
        carrying,
        [carrying[0], lines.len() - 1],
        "the pass is in one Output line and the result:\n{}",
        run.stdout
    );
    assert!(!lines[carrying[0]].starts_with("VERBOSE: "));
    assert!(!run.stderr.contains(&pass), "the pass leaked to stderr");
}

/// The last stdout line as JSON; `Null` when there is none or it is not JSON.
fn result_of(run: &Run) -> Value {
    run.stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null)
}

fn graph_requests(sim: &Simulator) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.path.starts_with("/v1.0"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_runbook_replaces_the_pass_end_to_end() {
    let sim = tenant(|_| {}).await;
    let job = PythonJob::new(&sim).args(&[
        &format!("UserName={ADELE}"),
        "lifetimeinminutes=120",
        "OneTimeUseOnly=False",
        "callername=admin@contoso.com",
    ]);
    let header = job
        .env
        .iter()
        .find(|(k, _)| k == "IDENTITY_HEADER")
        .unwrap()
        .1
        .clone();
    let run = job.run().await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let result = result_of(&run);
    assert_eq!(result["type"], "result");
    assert_eq!(result["status"], "Completed");
    assert_eq!(result["result"]["lifetimeInMinutes"], 120);
    assert_eq!(result["result"]["isUsableOnce"], false);
    assert_eq!(result["result"]["removedPassCount"], 1);
    let pass = result["result"]["temporaryAccessPass"].as_str().unwrap();
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("Temporary Access Pass for") && l.contains(pass)),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("VERBOSE: "), "{}", run.stdout);
    assert!(!run.stdout.contains("\"type\":\"log\""), "{}", run.stdout);
    assert_eq!(run.stderr, "");
    assert_absent(&run, &header, "the identity header");
    assert_eq!(passes_of(&sim, ADELE).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_runbook_shows_verbose_only_when_asked() {
    let sim = tenant(|_| {}).await;
    let run = PythonJob::new(&sim)
        .args(&[
            &format!("UserName={ADELE}"),
            "CallerName=admin@contoso.com",
            "Verbose=true",
        ])
        .run()
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("VERBOSE: Credential: managed identity")),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains("VERBOSE"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_runbook_refuses_unknown_or_malformed_arguments_before_starting() {
    let sim = tenant(|_| {}).await;
    for (args, says) in [
        (
            vec![
                "UserNme=adele.vance@contoso.com",
                "CallerName=a@contoso.com",
            ],
            "unknown argument name 'UserNme'",
        ),
        (vec!["adele.vance@contoso.com"], "is not Name=Value"),
        (vec!["Verbose=maybe"], "Verbose='maybe': use true or false"),
        (
            vec!["UserName=a@contoso.com", "username=b@contoso.com"],
            "UserName is given twice",
        ),
    ] {
        // A binary that does not exist: the arguments must be refused before it is looked for.
        let run = PythonJob::new(&sim)
            .env("TAP_RUNBOOK_EXE", "/nonexistent/tap-runbook")
            .args(&args)
            .run()
            .await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "");
        assert!(
            run.stderr.starts_with("ERROR: ") && run.stderr.contains(says),
            "{}",
            run.stderr
        );
    }
    assert_eq!(graph_requests(&sim), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_runbook_passes_on_the_binarys_refusal_of_a_bad_value() {
    let sim = tenant(|_| {}).await;
    let run = PythonJob::new(&sim)
        .args(&["UserName=adele", "CallerName=admin@contoso.com"])
        .run()
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("ERROR: parameters.UserName: "),
        "{}",
        run.stderr
    );
    let result = result_of(&run);
    assert_eq!(result["error"]["code"], "InvalidInput");
    assert_eq!(graph_requests(&sim), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_runbook_fails_with_the_binarys_exit_code_and_an_error_line() {
    let sim = tenant(|_| {}).await;
    let run = PythonJob::new(&sim)
        .args(&[&format!("UserName={GUEST}"), "CallerName=admin@contoso.com"])
        .run()
        .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let result = result_of(&run);
    assert_eq!(result["status"], "Failed");
    assert_eq!(result["error"]["code"], "GuestUserNotSupported");
    assert!(
        run.stderr.lines().any(|l| l.starts_with("ERROR: ")),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_runbook_reads_the_customization_file_and_rehearses() {
    let sim = tenant(|_| {}).await;
    let customization = root().join("fixtures/customization/fragment.jsonc");
    let run = PythonJob::new(&sim)
        .env("TAP_RUNBOOK_CUSTOMIZATION", customization.to_str().unwrap())
        .args(&[
            &format!("UserName={ADELE}"),
            "CallerName=admin@contoso.com",
            "DryRun=true",
        ])
        .run()
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let result = result_of(&run);
    assert_eq!(result["status"], "Completed", "{result}");
    assert!(
        result.to_string().contains("120"),
        "the customization's lifetime: {result}"
    );
    let writes = sim
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v1.0") && r.method != "GET")
        .count();
    assert_eq!(writes, 0, "a rehearsal changes nothing");
}

/// Automation's `automationassets` module, standing in with the two variables the runbook
/// reads; any other name raises, as the real module does for a missing variable.
const AUTOMATION_ASSETS: &str = r#"
import os

VARIABLES = {
    "TapRunbookPath": os.environ["FAKE_TAP_RUNBOOK_PATH"],
    "TapRunbookCustomization": open(os.environ["FAKE_CUSTOMIZATION_FILE"], encoding="utf-8").read(),
}


def get_automation_variable(name):
    if name not in VARIABLES:
        raise KeyError(name)
    return VARIABLES[name]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_runbook_reads_the_automation_variables_and_removes_its_temporary_file() {
    let sim = tenant(|_| {}).await;
    let modules = tempfile::tempdir().unwrap();
    std::fs::write(
        modules.path().join("automationassets.py"),
        AUTOMATION_ASSETS,
    )
    .unwrap();
    let temp = tempfile::tempdir().unwrap();
    let customization = root().join("fixtures/customization/fragment.jsonc");
    let mut job = PythonJob::new(&sim)
        .env("PYTHONPATH", modules.path().to_str().unwrap())
        .env("TMPDIR", temp.path().to_str().unwrap())
        .env("FAKE_TAP_RUNBOOK_PATH", env!("CARGO_BIN_EXE_tap-runbook"))
        .env("FAKE_CUSTOMIZATION_FILE", customization.to_str().unwrap())
        .args(&[&format!("UserName={ADELE}"), "CallerName=admin@contoso.com"]);
    job.env.retain(|(k, _)| k != "TAP_RUNBOOK_EXE");
    let run = job.run().await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let result = result_of(&run);
    assert_eq!(result["result"]["lifetimeInMinutes"], 120, "{result}");
    assert_eq!(result["result"]["isUsableOnce"], false, "{result}");
    // The job's own per-user lock folder lives in the temporary folder too, and stays.
    let left: Vec<_> = std::fs::read_dir(temp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|name| name != "tap-runbook-locks")
        .collect();
    assert_eq!(
        left.len(),
        0,
        "the customization's temporary file is removed: {left:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_runbook_says_where_it_looked_for_a_missing_binary() {
    let sim = tenant(|_| {}).await;
    let run = PythonJob::new(&sim)
        .env("TAP_RUNBOOK_EXE", "/nonexistent/tap-runbook")
        .args(&[&format!("UserName={ADELE}"), "CallerName=admin@contoso.com"])
        .run()
        .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("/nonexistent/tap-runbook") && run.stderr.contains("TapRunbookPath"),
        "{}",
        run.stderr
    );
    assert_eq!(graph_requests(&sim), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_runbook_stopped_by_sigterm_ends_with_the_stopped_record() {
    let sim = tenant(|t| {
        t["faults"] = json!([{ "method": "GET", "path": "/v1.0/users/*/authentication/temporaryAccessPassMethods", "delayMs": 20000 }]);
    })
    .await;
    let job =
        PythonJob::new(&sim).args(&[&format!("UserName={ADELE}"), "CallerName=admin@contoso.com"]);
    let (code, stdout) = tokio::task::spawn_blocking(move || {
        let mut child = job.command().stdout(Stdio::piped()).spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            let started = line.starts_with("Creating a Temporary Access Pass");
            seen.push(line);
            if started {
                break;
            }
        }
        let kill = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        seen.extend(lines.map(Result::unwrap));
        (child.wait().unwrap().code(), seen)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(143), "{stdout:?}");
    let result: Value = serde_json::from_str(stdout.last().unwrap()).unwrap();
    assert_eq!(result["status"], "Stopped");
    assert!(
        !sim.requests().iter().any(|r| r.method != "GET"),
        "nothing was changed"
    );
}

#[test]
fn host_script_prints_the_committed_files() {
    for (arg, script) in [
        ("powershell", HostScript::Powershell),
        ("python", HostScript::Python),
        ("grant-permissions", HostScript::GrantPermissions),
    ] {
        let run = Test::new().args(["host-script", arg]).run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        let committed =
            std::fs::read_to_string(root().join(HOSTS_DIR).join(script.file_name())).unwrap();
        assert_eq!(run.stdout, committed, "{arg}");
    }
}

#[test]
fn readme_az_rest_commands_match_the_manifest() {
    let generated = tap_runbook::hosts::az_rest_markdown(tap_runbook::manifest::Manifest::get());
    crate::common::assert_readme_section("az-rest", &generated);
}
