//! Graph data printed raw forged "Temporary Access Pass for …" and "Status: Completed" lines
//! and drove the terminal (ESC, OSC), and U+2028/U+2029 split NDJSON records for consumers
//! that break lines as Python's `splitlines()` does.

use serde_json::json;

use crate::common::{Run, Test};
use crate::graph_client::fixture::token_reply;
use crate::graph_client::server::{MockServer, Reply};

const USER_ID: &str = "0c9d6a7e-1b2c-4d5e-8f90-a1b2c3d4e5f6";
const FORGED_UPN: &str =
    "adele@contoso.com\r\nStatus: Completed\u{1b}]0;owned\u{7}\u{1b}[2J\u{2028}x\u{85}y\u{202e}z";

fn passes_path() -> String {
    format!("/v1.0/users/{USER_ID}/authentication/temporaryAccessPassMethods")
}

/// A Graph whose user, pass and error texts carry line breaks and terminal escapes.
async fn hostile_graph(create: Reply) -> MockServer {
    let server = MockServer::start().await;
    server.route("GET", "/msi/token", vec![token_reply("t0k3n")]);
    server.route(
        "GET",
        "/v1.0/users/",
        vec![Reply::json(
            200,
            json!({"id": USER_ID, "userPrincipalName": FORGED_UPN, "userType": "Member",
                   "displayName": "Adele\u{2029}Vance", "mail": "adele@contoso.com"}),
        )],
    );
    server.route(
        "GET",
        "/v1.0/policies/",
        vec![Reply::json(200, json!({"state": "enabled"}))],
    );
    // None before the create; the new one when the job checks it is still the user's.
    server.route(
        "GET",
        &passes_path(),
        vec![
            Reply::json(200, json!({"value": []})),
            Reply::json(200, json!({"value": [{"id": "p1"}]})),
        ],
    );
    server.route("POST", &passes_path(), vec![create]);
    server
}

fn run(server: &MockServer, format: &str) -> Run {
    Test::new()
        .args(["run", "--format", format, "-v", "--invocation", "-"])
        .stdin(json!({ "UserName": USER_ID, "CallerName": "admin@contoso.com" }).to_string())
        .env("IDENTITY_ENDPOINT", format!("{}/msi/token", server.url()))
        .env("IDENTITY_HEADER", "identity-secret")
        .env("TAP_RUNBOOK_GRAPH_URL", server.url())
        .run()
}

fn created() -> Reply {
    Reply::json(
        201,
        json!({"id": "p1", "temporaryAccessPass": "Pa55-word!", "lifetimeInMinutes": 240,
               "isUsableOnce": true, "startDateTime": "2026-11-29T10:00:00Z\nStatus: Completed\u{1b}[31m"}),
    )
}

fn assert_one_status_line_and_no_escapes(run: &Run) {
    let status_lines = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("Status:"))
        .count();
    assert_eq!(status_lines, 1, "{}", run.stdout);
    assert!(
        !run.stdout.lines().last().unwrap_or_default().is_empty(),
        "{}",
        run.stdout
    );
    for c in run.stdout.chars().filter(|c| *c != '\n') {
        assert!(
            !tap_runbook::text::is_unsafe_char(c),
            "U+{:04X} reached the terminal:\n{}",
            u32::from(c),
            run.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_values_cannot_forge_lines_or_drive_the_terminal() {
    let server = hostile_graph(created()).await;
    let text = tokio::task::spawn_blocking({
        let server = server.clone();
        move || run(&server, "text")
    })
    .await
    .unwrap();
    assert_eq!(text.code, 0, "{}", text.stdout);
    assert_one_status_line_and_no_escapes(&text);
    assert!(
        text.stdout
            .contains(r"adele@contoso.com\u{d}\u{a}Status: Completed\u{1b}")
    );
    assert!(
        text.stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("Status: Completed")
    );

    let refusing = hostile_graph(Reply::graph_error(
        400,
        "badRequest\r\nStatus: Completed",
        "Invalid request\r\nStatus: Completed\u{1b}[2J",
    ))
    .await;
    let text = tokio::task::spawn_blocking(move || run(&refusing, "text"))
        .await
        .unwrap();
    assert_eq!(text.code, 1, "{}", text.stdout);
    assert_one_status_line_and_no_escapes(&text);
    assert!(
        text.stdout
            .lines()
            .any(|l| l.starts_with("Status: Failed (")),
        "{}",
        text.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_records_survive_every_line_splitter() {
    let server = hostile_graph(created()).await;
    let ndjson = tokio::task::spawn_blocking(move || run(&server, "ndjson"))
        .await
        .unwrap();
    assert_eq!(ndjson.code, 0, "{}", ndjson.stdout);
    let records = ndjson.records();
    // What Python's str.splitlines() breaks at, besides \n and \r.
    let splitters = [
        '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}',
    ];
    assert!(!ndjson.stdout.contains(&splitters[..]), "{}", ndjson.stdout);
    assert!(!ndjson.stdout.contains('\r'));
    assert_eq!(records.len(), ndjson.stdout.lines().count());
    assert_eq!(
        ndjson.result()["result"]["userPrincipalName"],
        FORGED_UPN,
        "the value itself reads back unchanged"
    );
}
