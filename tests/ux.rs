//! What an operator sees: text output, what-if wording, the outbox, the validate table and
//! the simulated flag.

use serde_json::json;

use crate::common::sim::{ADELE, invocation, run, tenant};
use crate::common::{Test, fixture};

fn bad_simulate(format: &str, dir: &std::path::Path) -> crate::common::Run {
    let tenant = dir.join("tenant.json");
    std::fs::write(&tenant, "{ not json").unwrap();
    Test::new()
        .args(["run", "--format", format])
        .path_arg("--simulate", &tenant)
        .path_arg("--invocation", &fixture("invocation/flat.json"))
        .run()
}

#[test]
fn a_bad_simulate_file_is_explained_on_the_error_stream_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    let ndjson = bad_simulate("ndjson", dir.path());
    assert_eq!(ndjson.code, 2, "{}", ndjson.stdout);
    let errors = ndjson.stream("Error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("--simulate: "), "{errors:?}");
    let text = bad_simulate("text", dir.path());
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", text.stdout);
    assert!(
        lines[0].starts_with("ERROR: --simulate: "),
        "{}",
        text.stdout
    );
    assert_eq!(lines[1], "Status: Failed (InvalidInput)");
}

#[test]
fn format_text_holds_for_a_refused_command_line() {
    let run = Test::new()
        .args(["run", "--format", "text", "--no-such-flag"])
        .run();
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stdout,
        "ERROR: command line: unexpected argument found\nStatus: Failed (InvalidInput)\n"
    );
    let run = Test::new()
        .args(["run", "--format=ndjson", "--no-such-flag"])
        .run();
    assert_eq!(run.result()["error"]["code"], "InvalidInput");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_what_if_line_says_what_would_happen() {
    let sim = tenant(|_| {}).await;
    let outbox = tempfile::tempdir().unwrap();
    let outbox_arg = outbox.path().to_str().unwrap().to_owned();
    let params = json!({ "NotifyUser": true, "EmailFrom": "it-service@contoso.com" });
    let run = run(
        &sim,
        invocation(ADELE, params),
        &["--what-if", "--outbox", &outbox_arg],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let output = run.stream("Output");
    assert!(output.len() >= 3, "{output:?}");
    for line in &output {
        assert!(line.starts_with("What if: "), "{output:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_names_its_files_and_never_overwrites_them() {
    let sim = tenant(|_| {}).await;
    let outbox = tempfile::tempdir().unwrap();
    let outbox_arg = outbox.path().to_str().unwrap().to_owned();
    let params = json!({ "NotifyUser": true, "EmailFrom": "it-service@contoso.com" });
    for n in 1..=2 {
        let run = run(
            &sim,
            invocation(ADELE, params.clone()),
            &["--what-if", "--outbox", &outbox_arg],
        )
        .await;
        let html = outbox.path().join(format!("{n}.html"));
        let json = outbox.path().join(format!("{n}.json"));
        let expected = format!(
            "What if: the notification written to {} (as sent: {})",
            html.display(),
            json.display()
        );
        assert!(
            run.stream("Output").contains(&expected),
            "{:?}",
            run.stream("Output")
        );
        assert!(html.exists() && json.exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_record_says_whether_the_tenant_was_simulated() {
    let sim = tenant(|_| {}).await;
    let live = run(&sim, invocation(ADELE, json!({})), &["--what-if"]).await;
    assert_eq!(live.result()["simulated"], false);
    let simulated = Test::new()
        .args(["run", "--format", "ndjson", "--what-if"])
        .path_arg("--simulate", &fixture("tenant.json"))
        .path_arg("--invocation", &fixture("invocation/flat.json"))
        .run();
    assert_eq!(simulated.code, 0, "{}", simulated.stdout);
    assert_eq!(simulated.result()["simulated"], true);
    for line in simulated.stream("Output") {
        assert!(line.starts_with("What if: "), "{line}");
    }
}

#[test]
fn the_validate_table_fits_100_columns() {
    let long = "Contoso Worldwide Information Technology Service Desk and Helpline";
    let run = Test::new()
        .args(["validate", "--format", "text", "--invocation", "-"])
        .stdin(
            json!({ "UserName": ADELE, "CallerName": "admin@contoso.com", "ServiceDeskDisplayName": long })
                .to_string(),
        )
        .run();
    assert_eq!(run.code, 0, "{}", run.stdout);
    for line in run.stdout.lines() {
        assert!(line.chars().count() <= 100, "{line}");
    }
    let row = run
        .stdout
        .lines()
        .find(|l| l.starts_with("ServiceDeskDisplayName"))
        .unwrap();
    assert_eq!(
        row,
        "ServiceDeskDisplayName \"Contoso Worldwide Information Tech… invocation"
    );
}

#[cfg(unix)]
#[test]
fn the_standalone_simulator_logs_each_request_on_stderr() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_tap-runbook"))
        .env_clear()
        .args([
            "simulator",
            "--tenant",
            fixture("tenant.json").to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut base = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        if let Some(url) = line.unwrap().strip_prefix("export TAP_RUNBOOK_GRAPH_URL=") {
            base = url.to_owned();
            break;
        }
    }
    let addr = base.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /v1.0/users/someone HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let line = stderr
        .lines()
        .find(|l| l.contains("GET /v1.0/users/someone 401 "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.ends_with("ms"), "{line}");
}
