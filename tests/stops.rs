//! A stop is a stop: signals at every step end the job with exactly one `Stopped` record and
//! the signal's exit code; a replacement under way is finished first, nothing starts after it.

use graph_sim::Simulator;
use serde_json::{Value, json};

use crate::common::process::{Stdin, Step, run_with_signals};
use crate::common::sim::{ADELE, host_env, invocation, passes_of, tenant};
use crate::common::{Run, fixture};

const SENDER: &str = "it-service@contoso.com";
const CREATE: &str = "/v1.0/users/*/authentication/temporaryAccessPassMethods";

/// Runs a notifying job for Adele against `sim`, stopping it by `steps`.
async fn stopped_job(sim: &Simulator, steps: Vec<Step>) -> Run {
    let env = host_env(sim);
    let stdin = invocation(ADELE, json!({ "NotifyUser": true, "EmailFrom": SENDER }));
    tokio::task::spawn_blocking(move || {
        run_with_signals(
            &["run", "--format", "ndjson", "--invocation", "-"],
            &env,
            Stdin::Bytes(stdin.into_bytes()),
            &steps,
        )
    })
    .await
    .unwrap()
}

fn requests(sim: &Simulator) -> Vec<String> {
    sim.requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_before_the_replacement_changes_nothing() {
    let sim = tenant(|t| {
        t["faults"] = json!([{ "method": "GET", "path": CREATE, "delayMs": 20000 }]);
    })
    .await;
    let run = stopped_job(
        &sim,
        vec![Step {
            marker: "Creating a Temporary Access Pass",
            signal: libc::SIGTERM,
        }],
    )
    .await;
    assert_eq!(run.code, 143, "{}", run.stdout);
    let result = run.result();
    assert_eq!(result["status"], "Stopped");
    assert!(
        requests(&sim)
            .iter()
            .all(|r| !r.starts_with("DELETE") && !r.starts_with("POST"))
    );
    assert_eq!(passes_of(&sim, ADELE).len(), 1, "the old pass is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_during_the_replacement_finishes_it_then_stops() {
    for (signal, code) in [
        (libc::SIGTERM, 143),
        (libc::SIGINT, 130),
        (libc::SIGHUP, 143),
    ] {
        let sim = tenant(|t| {
            t["faults"] = json!([{ "method": "POST", "path": CREATE, "delayMs": 1500 }]);
        })
        .await;
        let run = stopped_job(
            &sim,
            vec![Step {
                marker: "Removing the existing",
                signal,
            }],
        )
        .await;
        assert_eq!(run.code, code, "{}", run.stdout);
        let result = run.result();
        assert_eq!(result["status"], "Stopped", "{result}");
        let pass = result["result"]["temporaryAccessPass"]
            .as_str()
            .expect("the new pass is in the Stopped result");
        assert!(
            run.stream("Output").iter().any(|l| l.contains(pass)),
            "the pass went to Output as soon as it existed"
        );
        let held = passes_of(&sim, ADELE);
        assert_eq!(held.len(), 1);
        assert_eq!(
            held[0]["temporaryAccessPass"], pass,
            "the user has the reported pass"
        );
        // Nothing after the stop: no notification, no check.
        assert!(sim.outbox().is_empty(), "no mail after the stop");
        assert!(
            !requests(&sim).iter().any(|r| r.ends_with("/sendMail")),
            "{:?}",
            requests(&sim)
        );
        assert_eq!(result["result"]["notification"]["sent"], false);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_ends_the_wait_and_says_a_pass_may_exist() {
    let sim = tenant(|t| {
        t["faults"] = json!([{ "method": "POST", "path": CREATE, "delayMs": 20000 }]);
    })
    .await;
    let run = stopped_job(
        &sim,
        vec![
            // Once the old pass is gone, while the new one is being created.
            Step {
                marker: "temporaryAccessPassMethods/b7e4c1d2-6a3f-4e5b-8c9d-0f1a2b3c4d5e -> 204",
                signal: libc::SIGTERM,
            },
            Step {
                marker: "arrived while the pass was being replaced",
                signal: libc::SIGINT,
            },
        ],
    )
    .await;
    assert_eq!(run.code, 143, "the first signal decides: {}", run.stdout);
    let result = run.result();
    assert_eq!(result["status"], "Stopped");
    assert_eq!(result["result"]["passMayExist"], true, "{result}");
    assert_eq!(result["result"]["replacementInterrupted"], true, "{result}");
    assert_eq!(result["result"]["removedPassCount"], 1);
    assert!(result["result"]["createSentAt"].is_string());
    let warnings = result["warnings"].to_string();
    assert!(
        warnings.contains("A second SIGINT ended the wait"),
        "{warnings}"
    );
    assert!(warnings.contains("may exist"), "{warnings}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_while_the_input_is_read_still_ends_with_a_record() {
    let run = tokio::task::spawn_blocking(|| {
        run_with_signals(
            &["run", "--format", "ndjson", "--invocation", "-"],
            &[],
            Stdin::HeldOpen,
            &[Step {
                marker: "",
                signal: libc::SIGTERM,
            }],
        )
    })
    .await
    .unwrap();
    assert_eq!(run.code, 143, "{}\n{}", run.stdout, run.stderr);
    let result = run.result();
    assert_eq!(result["status"], "Stopped");
    assert_eq!(result["result"], Value::Null);
}

#[test]
fn an_invocation_nobody_writes_ends_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("invocation.json");
    let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) with a NUL-terminated path in a folder this test owns.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    let run = crate::common::Test::new()
        .args(["run", "--format", "ndjson", "--deadline", "1"])
        .path_arg("--simulate", &fixture("tenant.json"))
        .path_arg("--invocation", &fifo)
        .run();
    assert_eq!(run.code, 1, "{}", run.stdout);
    let result = run.result();
    assert_eq!(result["status"], "Failed");
    assert_eq!(result["error"]["code"], "Timeout");
    assert!(
        result["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not read within the job's deadline"),
        "{result}"
    );
}
