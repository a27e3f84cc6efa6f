//! What an operator sees: text output, what-if wording, the outbox, the validate table and
//! the simulated flag.

use serde_json::json;

use crate::common::sim::{ADELE, invocation, run, tenant, what_if_notice};
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
    let (run, _outbox) = what_if_notice(&sim, json!({})).await;
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
    use std::io::{Read, Write};

    let sim = crate::common::process::StandaloneSimulator::start(&[], "TAP_RUNBOOK_GRAPH_URL");
    let graph = sim.exports("# Point tap-runbook at it");
    let (_, base) = graph
        .iter()
        .find(|(name, _)| name == "TAP_RUNBOOK_GRAPH_URL")
        .unwrap();
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
    let stderr = sim.stop();
    let line = stderr
        .lines()
        .find(|l| l.contains("GET /v1.0/users/someone 401 "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.ends_with("ms"), "{line}");
}

/// A pass for Adele made with only `env` against the standalone simulator; the credential
/// the run used.
#[cfg(unix)]
fn create_pass_with(env: &[(String, String)]) -> String {
    let mut test = Test::new()
        .args(["run", "--format", "ndjson", "-v", "--invocation", "-"])
        .stdin(invocation(ADELE, json!({})));
    for (name, value) in env {
        test = test.env(name, value);
    }
    let run = test.run();
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.result()["result"]["temporaryAccessPass"].is_string());
    run.stream("Verbose")
        .into_iter()
        .find_map(|l| l.strip_prefix("Credential: ").map(str::to_owned))
        .unwrap()
}

#[cfg(unix)]
#[test]
fn the_https_simulator_offers_the_client_secret_path_as_an_alternative_that_works() {
    let sim =
        crate::common::process::StandaloneSimulator::start(&["--https"], "AZURE_AUTHORITY_HOST");
    let names = |set: &[(String, String)]| -> Vec<String> {
        set.iter().map(|(name, _)| name.clone()).collect()
    };
    let graph = sim.exports("# Point tap-runbook at it");
    let managed_identity = sim.exports("# Either the managed identity");
    let client_secret = sim.exports("# Or, in a shell without the managed-identity lines");
    let text = sim.banner.join("\n");
    assert_eq!(
        names(&graph),
        ["TAP_RUNBOOK_GRAPH_URL", "TAP_RUNBOOK_CA_FILE"],
        "{text}"
    );
    assert_eq!(
        names(&managed_identity),
        ["IDENTITY_ENDPOINT", "IDENTITY_HEADER"],
        "{text}"
    );
    assert_eq!(
        names(&client_secret),
        [
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_ID",
            "AZURE_CLIENT_SECRET",
            "AZURE_AUTHORITY_HOST"
        ],
        "{text}"
    );
    assert_eq!(text.matches("TAP_RUNBOOK_GRAPH_URL=").count(), 1, "{text}");
    let base = &graph[0].1;
    assert!(base.starts_with("https://127.0.0.1:"), "{text}");
    assert_eq!(&client_secret[3].1, base, "Graph and sign-in are one host");
    let ca_file = std::path::PathBuf::from(&graph[1].1);
    let ca = std::fs::read_to_string(&ca_file).unwrap();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
    assert!(
        !ca.contains("PRIVATE KEY"),
        "the CA file holds the certificate only"
    );

    let with = |set: &[(String, String)]| [graph.clone(), set.to_vec()].concat();
    let used = create_pass_with(&with(&client_secret));
    assert!(used.starts_with("client secret"), "{used}");
    let used = create_pass_with(&with(&managed_identity));
    assert!(used.starts_with("managed identity"), "{used}");

    let stderr = sim.stop();
    let tenant_id = &client_secret[0].1;
    assert!(
        stderr.contains(&format!("POST /{tenant_id}/oauth2/v2.0/token 200 ")),
        "{stderr}"
    );
    for (_, secret) in [&client_secret[2], &managed_identity[1]] {
        assert!(
            !stderr.contains(secret.as_str()),
            "a credential reached stderr"
        );
    }
    assert!(!stderr.contains("PRIVATE KEY"));
    assert!(
        !ca_file.exists(),
        "the temporary CA file is removed on stop"
    );
}
