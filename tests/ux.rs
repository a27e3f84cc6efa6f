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
