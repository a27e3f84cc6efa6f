//! Every edge ends safely: Graph answers the suites do not inject by default (a status after
//! the work was done, a pass already gone, another user, a refused lifetime), short deadlines,
//! and input from other tools.

use graph_sim::Simulator;
use serde_json::{Value, json};

use crate::common::sim::{
    ADELE, ADELE_ID, ADELE_PASS_ID, graph_calls, host_env, invocation, passes_of, run, tenant,
    writes,
};
use crate::common::{Test, fixture};

const PASSES: &str = "/v1.0/users/*/authentication/temporaryAccessPassMethods";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_after_the_create_took_effect_is_reconciled() {
    for status in [500, 502] {
        let sim = tenant(|t| {
            t["faults"] = json!([{ "method": "POST", "path": PASSES, "status": status,
                                   "afterEffect": true, "times": 1 }]);
        })
        .await;
        let run = run(&sim, invocation(ADELE, json!({})), &[]).await;
        assert_eq!(run.code, 0, "{status}: {}", run.stdout);
        let result = run.result();
        let held = passes_of(&sim, ADELE);
        assert_eq!(held.len(), 1, "{status}: the orphan was removed: {held:?}");
        assert_eq!(
            held[0]["temporaryAccessPass"], result["result"]["temporaryAccessPass"],
            "{status}: the user holds the reported pass"
        );
        let deletes = writes(&sim)
            .iter()
            .filter(|c| c.starts_with("DELETE"))
            .count();
        assert_eq!(deletes, 2, "{status}: the old pass and the orphan");
        assert!(
            result["warnings"].to_string().contains("went unanswered"),
            "{result}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_cut_off_by_the_deadline_says_a_pass_may_exist() {
    let sim = tenant(|t| {
        t["faults"] = json!([{ "method": "POST", "path": PASSES, "delayMs": 20000 }]);
    })
    .await;
    let run = run(&sim, invocation(ADELE, json!({})), &["--deadline", "3"]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    let result = run.result();
    assert_eq!(result["status"], "Failed");
    assert_eq!(result["error"]["code"], "Timeout");
    let message = result["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("A new pass may exist for adele.vance@contoso.com"),
        "{message}"
    );
    assert!(message.contains("Entra admin center"), "{message}");
    assert_eq!(result["result"]["passMayExist"], true);
    assert_eq!(result["result"]["removedPassCount"], 1);
    assert_eq!(result["result"]["userId"], ADELE_ID);
    assert!(result["result"]["createSentAt"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_cut_off_with_time_left_is_reconciled_first() {
    // Every create would take 20 s: the first is given up early enough to check for what it
    // may have made; the second runs into the deadline.
    let sim = tenant(|t| {
        t["faults"] = json!([{ "method": "POST", "path": PASSES, "delayMs": 20000 }]);
    })
    .await;
    let run = run(&sim, invocation(ADELE, json!({})), &["--deadline", "6"]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    let result = run.result();
    assert_eq!(result["error"]["code"], "Timeout", "{result}");
    // The delayed creates are dropped unanswered, so the tenant never logs them; the read
    // after the delete is the check for what the first one may have made.
    let calls = graph_calls(&sim);
    let delete = calls.iter().position(|c| c.starts_with("DELETE")).unwrap();
    assert!(
        calls.get(delete + 1).is_some_and(|c| c.starts_with("GET ")
            && c.contains(ADELE_ID)
            && c.ends_with("/temporaryAccessPassMethods")),
        "the passes are read before creating again: {calls:?}"
    );
    assert!(
        result["warnings"].to_string().contains("went unanswered"),
        "{result}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_already_gone_is_no_failure() {
    // Another administrator removes the pass between the list and the delete.
    let sim = tenant(|t| {
        t["faults"] = json!([{ "method": "DELETE", "path": format!("{PASSES}/*"), "status": 404,
                               "code": "itemNotFound", "afterEffect": true, "times": 1 }]);
    })
    .await;
    let run = run(&sim, invocation(ADELE, json!({})), &[]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let result = run.result();
    assert_eq!(result["status"], "Completed");
    assert_eq!(result["result"]["removedPassCount"], 0, "{result}");
    let held = passes_of(&sim, ADELE);
    assert_eq!(held.len(), 1);
    assert_eq!(
        held[0]["temporaryAccessPass"],
        result["result"]["temporaryAccessPass"]
    );
    let calls = graph_calls(&sim);
    let delete = calls.iter().position(|c| c.starts_with("DELETE")).unwrap();
    assert!(
        calls[delete + 1].starts_with("GET") && calls[delete + 1].contains(ADELE_ID),
        "the passes are read again before the create: {calls:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_in_the_answer_stops_before_any_write() {
    let megan = json!({ "id": "1b6f8a4d-2e3c-4d9f-8a7b-6c5d4e3f2a10",
                        "userPrincipalName": "alex.wilber@contoso.com", "userType": "Member" });
    let sim = tenant(|t| {
        t["faults"] =
            json!([{ "method": "GET", "path": "/v1.0/users/*", "status": 200, "body": megan }]);
    })
    .await;
    for asked in [ADELE, ADELE_ID] {
        let run = run(&sim, invocation(asked, json!({})), &[]).await;
        assert_eq!(run.code, 1, "{}", run.stdout);
        let error = &run.result()["error"];
        assert_eq!(error["code"], "Unexpected");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains(asked) && message.contains("alex.wilber@contoso.com"),
            "{message}"
        );
    }
    assert!(writes(&sim).is_empty(), "{:?}", writes(&sim));
    assert_eq!(passes_of(&sim, ADELE)[0]["id"], ADELE_PASS_ID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lifetime_graph_refuses_is_lifetime_outside_policy() {
    // Without Policy.Read.AuthenticationMethod the preflight cannot see the range.
    let sim = tenant(|t| {
        t["app"]["roles"] = json!(["UserAuthenticationMethod.ReadWrite.All", "User.Read.All"]);
        t["policy"]["maximumLifetimeInMinutes"] = json!(120);
    })
    .await;
    let run = run(
        &sim,
        invocation(ADELE, json!({ "LifetimeInMinutes": 240 })),
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    let error = &run.result()["error"];
    assert_eq!(error["code"], "LifetimeOutsidePolicy", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("range of 60 to 120 minutes"), "{message}");
    assert!(
        message.contains("Policy.Read.AuthenticationMethod"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_with_a_short_deadline_is_still_user_not_found() {
    let sim = tenant(|_| {}).await;
    let run = run(
        &sim,
        invocation("nobody@contoso.com", json!({})),
        &["--deadline", "3"],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        run.result()["error"]["code"],
        "UserNotFound",
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_replaced_right_after_its_creation_is_reported_superseded() {
    // The check after the create finds another pass: another job replaced this one.
    let other = json!({ "value": [{ "id": "c0ffee00-0000-4000-8000-000000000001",
                                    "createdDateTime": "2099-01-01T00:00:00Z" }] });
    let sim = tenant(|t| {
        t["faults"] = json!([{ "method": "GET", "path": format!("/v1.0/users/{ADELE_ID}/authentication/temporaryAccessPassMethods"),
                               "status": 200, "body": other }]);
    })
    .await;
    let run = run(&sim, invocation(ADELE, json!({})), &[]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    let result = run.result();
    assert_eq!(result["status"], "Failed");
    assert_eq!(result["error"]["code"], "ReplacedByAnotherJob");
    assert!(
        result["error"]["message"]
            .as_str()
            .unwrap()
            .contains("c0ffee00-0000-4000-8000-000000000001"),
        "{result}"
    );
    assert_eq!(result["result"]["superseded"], true);
    assert_eq!(result["result"]["isUsable"], false);
    assert!(
        result["result"]["temporaryAccessPass"].is_string(),
        "nothing is lost: the pass is still in the result"
    );
}

#[test]
fn an_input_error_echoes_the_job_id() {
    let run = Test::new()
        .args(["run", "--format", "ndjson", "--invocation", "-"])
        .stdin(r#"{"jobId":"job-7","parameters":{"UserName":"adele","CallerName":"x"}}"#)
        .run();
    assert_eq!(run.code, 2);
    for record in run.records() {
        assert_eq!(record["jobId"], "job-7", "{record}");
    }
}

#[test]
fn a_command_line_error_still_writes_the_result_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("result.json");
    for args in [
        vec![
            "run",
            "--result-file",
            file.to_str().unwrap(),
            "--deadline",
            "0",
        ],
        vec![
            "run",
            "--deadline=x",
            &format!("--result-file={}", file.display()),
        ],
    ] {
        let _ = std::fs::remove_file(&file);
        let run = Test::new().args(&args).run();
        assert_eq!(run.code, 2, "{args:?}");
        let written = crate::common::result_file(&file);
        assert_eq!(written, run.result(), "{args:?}");
        assert_eq!(written["error"]["code"], "InvalidInput");
    }
}

#[test]
fn a_start_beyond_the_representable_dates_is_refused_before_any_request() {
    let run = Test::new()
        .args(["run", "--format", "ndjson", "--invocation", "-"])
        .path_arg("--simulate", &fixture("tenant.json"))
        .stdin(r#"{"UserName":"adele.vance@contoso.com","CallerName":"x","StartDateTime":"9999-12-31T23:59:59-01:00"}"#)
        .run();
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(run.problem_fields(), ["parameters.StartDateTime"]);
    assert!(
        !run.stdout.contains("SIMULATED"),
        "no tenant was started: {}",
        run.stdout
    );
}

/// Runs a job for Adele whose reader hangs up before the job writes anything.
async fn job_with_closed_output(sim: &Simulator, extra: Vec<String>) -> i32 {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let env = host_env(sim);
    let stdin = invocation(ADELE, json!({}));
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tap-runbook"))
            .env_clear()
            .envs(env)
            .args(["run", "--format", "ndjson", "--invocation", "-"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait().unwrap().code().unwrap_or(-1)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_output_is_gone_keeps_the_old_pass() {
    let sim = tenant(|_| {}).await;
    let code = job_with_closed_output(&sim, Vec::new()).await;
    assert_eq!(code, 1);
    assert!(writes(&sim).is_empty(), "{:?}", writes(&sim));
    assert_eq!(passes_of(&sim, ADELE)[0]["id"], ADELE_PASS_ID);

    // With a result file the pass still reaches the job host.
    let sim = tenant(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("result.json");
    let code = job_with_closed_output(
        &sim,
        vec!["--result-file".into(), file.to_str().unwrap().into()],
    )
    .await;
    assert_eq!(code, 0);
    let result: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        passes_of(&sim, ADELE)[0]["temporaryAccessPass"],
        result["result"]["temporaryAccessPass"]
    );
}
