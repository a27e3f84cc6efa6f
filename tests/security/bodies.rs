//! A 400 MB error body gave 1.6 GB of RSS and 839 MB of stdout; a 305 KB gzip that expands to
//! 300 MB gave 632 MB of RSS. Bodies are read only up to a cap, while streaming and after
//! decompression, and Graph's messages are cut in records. The facts asserted here do not
//! depend on memory: the error, how long its message is, how much the job printed.

use serde_json::json;

use super::servers::{Body, Flood};
use crate::common::{Run, Test};

async fn run_against(flood: &Flood) -> Run {
    let url = flood.url().to_owned();
    tokio::task::spawn_blocking(move || {
        Test::new()
            .args(["run", "--format", "ndjson", "--invocation", "-"])
            .stdin(json!({ "UserName": "adele@contoso.com", "CallerName": "admin" }).to_string())
            .env("IDENTITY_ENDPOINT", format!("{url}/msi/token"))
            .env("IDENTITY_HEADER", "identity-secret")
            .env("TAP_RUNBOOK_GRAPH_URL", &url)
            .run()
    })
    .await
    .unwrap()
}

fn message_of(run: &Run) -> String {
    run.result()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_an_error_body_is_not_read_past_the_cap() {
    let flood = Flood::start(
        Body::Huge {
            status: 403,
            size: 400 << 20,
        },
        false,
    )
    .await;
    let run = run_against(&flood).await;
    assert_eq!(run.code, 1, "{}", &run.stdout[..run.stdout.len().min(2000)]);
    assert_eq!(run.result()["error"]["code"], "PermissionDenied");
    assert_eq!(run.result()["error"]["graph"]["status"], 403);
    assert!(message_of(&run).len() < 2048, "{}", message_of(&run).len());
    assert!(
        run.stdout.len() < 32 * 1024,
        "{} bytes of stdout",
        run.stdout.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_graph_message_is_cut_and_marked_in_the_record() {
    let flood = Flood::start(
        Body::Huge {
            status: 403,
            size: 900 * 1024,
        },
        false,
    )
    .await;
    let run = run_against(&flood).await;
    assert_eq!(run.code, 1);
    let message = message_of(&run);
    assert!(message.contains("… [cut: "), "{}", &message[..200]);
    assert!(message.len() < 2048, "{}", message.len());
    assert!(
        run.stdout.len() < 32 * 1024,
        "{} bytes of stdout",
        run.stdout.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_is_not_expanded_past_the_cap() {
    let flood = Flood::start(
        Body::GzipBomb {
            status: 403,
            size: 300 << 20,
        },
        false,
    )
    .await;
    let run = run_against(&flood).await;
    assert_eq!(run.code, 1, "{}", &run.stdout[..run.stdout.len().min(2000)]);
    assert_eq!(run.result()["error"]["code"], "PermissionDenied");
    assert!(message_of(&run).len() < 2048);
    assert!(
        run.stdout.len() < 32 * 1024,
        "{} bytes of stdout",
        run.stdout.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_a_token_response_is_refused_at_once() {
    let flood = Flood::start(
        Body::Huge {
            status: 200,
            size: 0,
        },
        true,
    )
    .await;
    let run = run_against(&flood).await;
    assert_eq!(run.code, 1);
    assert_eq!(run.result()["error"]["code"], "AuthenticationFailed");
    let message = message_of(&run);
    assert!(message.contains("larger than 1024 KiB"), "{message}");
    assert!(
        run.stdout.len() < 8 * 1024,
        "{} bytes of stdout",
        run.stdout.len()
    );
}
