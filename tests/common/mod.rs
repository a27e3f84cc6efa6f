//! The test harness: run the real binary with a hermetic environment and read its records.

pub mod loopback;
#[cfg(unix)]
pub mod process;
pub mod sim;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

/// The repository root, for fixture paths.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture path.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// One run of `tap-runbook`, built fluently.
pub struct Test {
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
    var_opt: Option<PathBuf>,
}

impl Test {
    pub fn new() -> Self {
        Self {
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            var_opt: None,
        }
    }

    /// Runs the binary in a private mount namespace where `dir` is mounted over `/var/opt`, so
    /// the Azure Arc agent's fixed tokens folder (`/var/opt/azcmagent/tokens`) is the test's
    /// and nothing on the host is touched. Needs `unshare` and user namespaces (Linux).
    pub fn var_opt(mut self, dir: &Path) -> Self {
        self.var_opt = Some(dir.to_path_buf());
        self
    }

    pub fn arg(mut self, arg: impl AsRef<str>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, args: I) -> Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn path_arg(self, flag: &str, path: &Path) -> Self {
        self.arg(flag).arg(path.to_str().expect("UTF-8 path"))
    }

    pub fn env(mut self, key: &str, value: impl AsRef<str>) -> Self {
        self.env.push((key.to_owned(), value.as_ref().to_owned()));
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Runs the binary with nothing from the ambient environment (no AZURE_*, IDENTITY_*,
    /// MSI_* or proxy variables), only what the test set.
    pub fn run(self) -> Run {
        let binary = env!("CARGO_BIN_EXE_tap-runbook");
        let mut cmd = match &self.var_opt {
            None => assert_cmd::Command::new(binary),
            Some(dir) => {
                let mut cmd = assert_cmd::Command::new(system_tool("unshare"));
                cmd.args(["--user", "--map-root-user", "--mount", "/bin/sh", "-c"])
                    .arg(r#""$1" --bind "$2" /var/opt && shift 2 && exec "$@""#)
                    .arg("sh")
                    .arg(system_tool("mount"))
                    .arg(dir)
                    .arg(binary);
                cmd
            }
        };
        cmd.env_clear()
            .args(&self.args)
            .timeout(Duration::from_secs(120));
        // Windows loads its socket providers from paths under %SystemRoot%: without it a
        // process cannot open even a loopback connection. It carries no credential.
        #[cfg(windows)]
        if let Some(root) = std::env::var_os("SystemRoot") {
            cmd.env("SystemRoot", root);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.write_stdin(self.stdin.unwrap_or_default());
        let out = cmd.output().expect("the binary runs");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        if self.var_opt.is_some() && run.stdout.is_empty() {
            panic!("cannot give the test a private /var/opt:\n{}", run.stderr);
        }
        assert_no_leak(&run, &secrets_of(&self.env));
        run
    }
}

/// The credentials among the variables a run was given.
pub fn secrets_of(env: &[(String, String)]) -> Vec<String> {
    env.iter()
        .filter(|(k, _)| is_secret_variable(k))
        .map(|(_, v)| v.clone())
        .collect()
}

/// A system tool's absolute path: the binary runs with an empty environment, so no `PATH`.
fn system_tool(name: &str) -> PathBuf {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{name} is needed to give the test a private /var/opt"))
}

/// Environment variables whose values are credentials.
pub fn is_secret_variable(name: &str) -> bool {
    matches!(
        name,
        "IDENTITY_HEADER" | "MSI_SECRET" | "AZURE_CLIENT_SECRET"
    )
}

/// The one leak checker every run of the binary goes through: no credential from the
/// environment, no bearer token, and the pass only in the Output line after creation and the
/// result record. It also holds every record the run wrote to `job-record.schema.json`.
pub fn assert_no_leak(run: &Run, secrets: &[String]) {
    assert_records_valid(&run.stdout);
    assert_no_credential(run, secrets);
    let Some(last) = run.stdout.lines().last() else {
        return;
    };
    let Ok(record) = serde_json::from_str::<Value>(last) else {
        return;
    };
    if let Some(pass) = record["result"]["temporaryAccessPass"].as_str() {
        assert_pass_only_where_allowed(run, pass);
    }
}

/// No credential from the environment, no bearer token and no token response in what a run
/// printed.
pub fn assert_no_credential(run: &Run, secrets: &[String]) {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        assert_absent(run, secret, "a credential from the environment");
    }
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains("Bearer "),
            "a bearer token reached the output:\n{text}"
        );
        assert!(
            !text.contains("access_token"),
            "a token response reached the output:\n{text}"
        );
    }
}

/// The record schema's validator, built once from what `tap-runbook schema --records` prints.
fn record_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| tap_runbook::job::schema::record_validator().unwrap())
}

/// Every line of a job's NDJSON output (its last line is a result record) must be a record the
/// schema accepts. Other output (text, printed documents) is not records, though any line of
/// it that is a JSON object is held to the schema all the same.
pub fn assert_records_valid(stdout: &str) {
    let ndjson = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .is_some_and(|r| r["type"] == "result");
    for line in stdout.lines() {
        match serde_json::from_str::<Value>(line) {
            Ok(record @ Value::Object(_)) => assert_record_valid(&record),
            _ if ndjson => panic!("a line of NDJSON output is not a record: {line}"),
            _ => {}
        }
    }
}

/// Fails unless `job-record.schema.json` accepts `record`, naming the fields at fault.
pub fn assert_record_valid(record: &Value) {
    if record_validator().is_valid(record) {
        return;
    }
    let errors: Vec<String> = match tap_runbook::job::schema::kind_validator(record) {
        Some(kind) => kind
            .unwrap()
            .iter_errors(record)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect(),
        None => vec!["neither a log record nor a result of a known status".into()],
    };
    panic!("job-record.schema.json refuses a record the binary wrote: {errors:?}\n{record}");
}

/// The record a run wrote to its `--result-file`, checked against the schema.
pub fn result_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("the result file exists");
    let record: Value = serde_json::from_str(&text).expect("the result file is one JSON record");
    assert_record_valid(&record);
    record
}

/// What a run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Every stdout line as JSON; fails the test if any line is not a record.
    pub fn records(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not NDJSON ({e}): {l}")))
            .collect()
    }

    /// The result record, after checking it is the last line and the only one.
    pub fn result(&self) -> Value {
        let records = self.records();
        let results: Vec<&Value> = records.iter().filter(|r| r["type"] == "result").collect();
        assert_eq!(
            results.len(),
            1,
            "exactly one result record:\n{}",
            self.stdout
        );
        let last = records.last().expect("some output");
        assert_eq!(
            last["type"], "result",
            "the result record is last:\n{}",
            self.stdout
        );
        last.clone()
    }

    /// The fields named by the error's problems.
    pub fn problem_fields(&self) -> Vec<String> {
        self.result()["error"]["problems"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| p["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Messages on one stream.
    pub fn stream(&self, stream: &str) -> Vec<String> {
        self.records()
            .iter()
            .filter(|r| r["stream"] == stream)
            .filter_map(|r| r["message"].as_str().map(str::to_owned))
            .collect()
    }

    /// Records with the clock and ids replaced, for snapshots.
    pub fn redacted_records(&self) -> Vec<Value> {
        let mut records = self.records();
        for r in &mut records {
            if let Some(o) = r.as_object_mut()
                && o.contains_key("time")
            {
                o.insert("time".into(), Value::String("[time]".into()));
            }
        }
        records
    }
}

/// Fails if `secret` appears anywhere in what a run printed.
pub fn assert_absent(run: &Run, secret: &str, what: &str) {
    assert!(!secret.is_empty());
    assert!(
        !run.stdout.contains(secret),
        "{what} leaked to stdout:\n{}",
        run.stdout
    );
    assert!(
        !run.stderr.contains(secret),
        "{what} leaked to stderr:\n{}",
        run.stderr
    );
}

/// The pass may appear in exactly two places: one Output line and the result record.
pub fn assert_pass_only_where_allowed(run: &Run, pass: &str) {
    let records = run.records();
    let carrying: Vec<&Value> = records
        .iter()
        .filter(|r| r.to_string().contains(pass))
        .collect();
    assert_eq!(
        carrying.len(),
        2,
        "the pass is in exactly two records:\n{}",
        run.stdout
    );
    assert_eq!(carrying[0]["stream"], "Output", "{}", carrying[0]);
    assert_eq!(carrying[1]["type"], "result");
    assert!(!run.stderr.contains(pass), "the pass leaked to stderr");
}

/// Checks that the README section between `<!-- NAME:start -->` and `<!-- NAME:end -->` is
/// `generated`; with `TAP_RUNBOOK_WRITE_README=1` it writes the section instead of failing.
pub fn assert_readme_section(name: &str, generated: &str) {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (start, end) = (
        format!("<!-- {name}:start -->\n"),
        format!("<!-- {name}:end -->"),
    );
    let from = readme
        .find(&start)
        .unwrap_or_else(|| panic!("README has {start}"))
        + start.len();
    let to = readme
        .find(&end)
        .unwrap_or_else(|| panic!("README has {end}"));
    if readme[from..to] != *generated {
        if std::env::var_os("TAP_RUNBOOK_WRITE_README").is_some() {
            std::fs::write(
                &path,
                format!("{}{generated}{}", &readme[..from], &readme[to..]),
            )
            .unwrap();
        }
        panic!(
            "the README's {name} section is stale: run `TAP_RUNBOOK_WRITE_README=1 cargo test` and commit it"
        );
    }
}
