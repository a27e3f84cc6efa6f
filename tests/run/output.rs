//! What a run leaves behind: what-if changes nothing, and the result file holds the final
//! record.

use serde_json::json;

use crate::common::sim::{ADELE, invocation, run, tenant, writes};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_if_reads_but_never_writes() {
    let sim = tenant(|_| {}).await;
    let run = run(
        &sim,
        invocation(
            ADELE,
            json!({ "NotifyUser": true, "EmailFrom": "it-service@contoso.com" }),
        ),
        &["--what-if"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(writes(&sim).is_empty(), "{:?}", writes(&sim));
    assert!(sim.outbox().is_empty());
    let result = run.result();
    assert_eq!(result["result"]["whatIf"], true);
    assert_eq!(result["result"]["wouldRemovePassCount"], 1);
    assert!(result["result"].get("temporaryAccessPass").is_none());
    assert!(
        run.stream("Output")
            .iter()
            .any(|m| m.starts_with("What if: would create"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_file_holds_the_final_record() {
    let sim = tenant(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("result.json");
    let run = run(
        &sim,
        invocation(ADELE, json!({})),
        &["--result-file", path.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, 0);
    assert_eq!(crate::common::result_file(&path), run.result());
}
