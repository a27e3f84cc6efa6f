//! Several jobs for one user at once. Graph keeps one pass per user, so jobs that interleave
//! invalidate each other's passes: on one machine they take turns; across machines, a job
//! whose pass did not survive says so instead of reporting it usable.

use std::path::Path;

use graph_sim::Simulator;
use serde_json::{Value, json};

use crate::common::sim::{ADELE, ADELE_PASS_ID, host_env, invocation, passes_of, tenant};
use crate::common::{Run, Test};

const JOBS: usize = 4;

/// Starts `JOBS` jobs for Adele at once, job `i` with the lock folder `lock_dir(i)`.
async fn jobs_at_once(sim: &Simulator, lock_dir: impl Fn(usize) -> String) -> Vec<Run> {
    let env = host_env(sim);
    let mut handles = Vec::new();
    for i in 0..JOBS {
        let mut test = Test::new()
            .args(["run", "--format", "ndjson", "--invocation", "-"])
            .env("TAP_RUNBOOK_LOCK_DIR", lock_dir(i))
            .stdin(invocation(ADELE, json!({})));
        for (k, v) in &env {
            test = test.env(k, v);
        }
        handles.push(tokio::task::spawn_blocking(move || test.run()));
    }
    let mut runs = Vec::new();
    for h in handles {
        runs.push(h.await.unwrap());
    }
    runs
}

/// The pass Adele holds at the end.
fn final_pass(sim: &Simulator) -> String {
    let passes = passes_of(sim, ADELE);
    assert_eq!(passes.len(), 1, "{passes:?}");
    passes[0]["id"].as_str().unwrap().to_owned()
}

fn removed_ids(result: &Value) -> Vec<String> {
    result["result"]["removedPasses"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| p["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Graph's replace semantics, with every request taking a moment, as against Entra, and
/// reading the passes slower than writing them. A job's create can only replace a pass
/// unseen if another job creates and checks its pass between this job's last read and its
/// create: with reads slower than writes that needs a scheduling delay longer than a read.
/// The README's concurrency section names this window.
async fn busy_tenant() -> Simulator {
    tenant(|t| {
        t["latencyMs"] = json!(20);
        t["existingPassOnCreate"] = json!("replace");
        t["faults"] = json!([{ "method": "GET",
            "path": "/v1.0/users/*/authentication/temporaryAccessPassMethods", "delayMs": 150 }]);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_on_one_machine_take_turns() {
    let sim = busy_tenant().await;
    let locks = tempfile::tempdir().unwrap();
    let dir = locks.path().to_str().unwrap().to_owned();
    let runs = jobs_at_once(&sim, |_| dir.clone()).await;
    let results: Vec<Value> = runs.iter().map(Run::result).collect();
    for (run, result) in runs.iter().zip(&results) {
        assert_eq!(run.code, 0, "{}", run.stdout);
        assert_eq!(result["status"], "Completed", "{result}");
        assert_eq!(
            removed_ids(result).len(),
            1,
            "each removes the pass before it: {result}"
        );
    }
    // One after another: each job removed the pass of the one before it, the first job the
    // user's old pass, and the last job's pass is the user's.
    let created: Vec<String> = results
        .iter()
        .map(|r| {
            r["result"]["temporaryAccessPassId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut current = ADELE_PASS_ID.to_owned();
    for _ in 0..JOBS {
        let next = results
            .iter()
            .position(|r| removed_ids(r) == [current.clone()])
            .unwrap_or_else(|| panic!("some job removed {current}: {results:#?}"));
        if current != ADELE_PASS_ID {
            let warnings = results[next]["warnings"].to_string();
            assert!(
                warnings.contains(&current) && warnings.contains("another job"),
                "the job that removed a fresh pass warns about it: {warnings}"
            );
        }
        current = created[next].clone();
    }
    assert_eq!(final_pass(&sim), current);
    assert!(
        runs.iter().any(|r| r
            .stream("Output")
            .iter()
            .any(|l| l.contains("waiting for it"))),
        "at least one job waited for another"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_on_several_machines_never_report_a_lost_pass_as_usable() {
    let sim = busy_tenant().await;
    let locks = tempfile::tempdir().unwrap();
    let base = locks.path().to_owned();
    let runs = jobs_at_once(&sim, |i| dir_of(&base, i)).await;
    let results: Vec<Value> = runs.iter().map(Run::result).collect();
    let end = final_pass(&sim);
    let removed: Vec<String> = results.iter().flat_map(removed_ids).collect();
    let mut completed = 0;
    for result in &results {
        match result["status"].as_str().unwrap() {
            "Completed" => {
                completed += 1;
                let id = result["result"]["temporaryAccessPassId"].as_str().unwrap();
                assert!(
                    id == end || removed.iter().any(|r| r == id),
                    "a Completed job's pass is the user's, or another job names it as removed: {results:#?}"
                );
            }
            "Failed" => {
                assert_eq!(result["error"]["code"], "ReplacedByAnotherJob", "{result}");
                assert_eq!(result["result"]["superseded"], true);
            }
            other => panic!("unexpected status {other}: {result}"),
        }
    }
    assert!(completed >= 1, "{results:#?}");
}

fn dir_of(base: &Path, i: usize) -> String {
    base.join(format!("machine-{i}"))
        .to_str()
        .unwrap()
        .to_owned()
}
