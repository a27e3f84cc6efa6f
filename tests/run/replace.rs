//! Replacing the pass: the delete and create, their retries and reconciliation, the token, and
//! the deadline.

use graph_sim::Simulator;
use serde_json::json;

use crate::common::sim::{ADELE, graph_calls, invocation, passes_of, run, tenant, writes};
use crate::common::{assert_absent, assert_pass_only_where_allowed};

fn identity_header(sim: &Simulator) -> String {
    sim.client_env()
        .into_iter()
        .find(|(k, _)| k == "IDENTITY_HEADER")
        .unwrap()
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaces_the_pass_and_reports_it() {
    let sim = tenant(|_| {}).await;
    let old = passes_of(&sim, ADELE)[0]["id"].clone();
    let run = run(
        &sim,
        invocation(ADELE, json!({ "LifetimeInMinutes": 120 })),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let result = run.result();
    assert_eq!(result["status"], "Completed");
    assert_eq!(result["jobId"], "job-42");
    let r = &result["result"];
    assert_eq!(r["userPrincipalName"], ADELE);
    assert_eq!(r["lifetimeInMinutes"], 120);
    assert_eq!(r["isUsableOnce"], true);
    assert_eq!(r["removedPassCount"], 1);
    assert_eq!(r["notification"]["requested"], false);
    let pass = r["temporaryAccessPass"].as_str().unwrap().to_owned();
    assert!(pass.len() >= 8);
    assert_pass_only_where_allowed(&run, &pass);
    assert_absent(&run, &identity_header(&sim), "the identity header");
    let passes = passes_of(&sim, ADELE);
    assert_eq!(passes.len(), 1);
    assert_ne!(passes[0]["id"], old, "the old pass was replaced");
    let writes = writes(&sim);
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert!(
        writes[0].starts_with("DELETE ") && writes[1].starts_with("POST "),
        "{writes:?}"
    );
    for r in run.records() {
        assert_eq!(r["jobId"], "job-42");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_create_is_retried_after_retry_after() {
    let sim = tenant(|t| {
        t["faults"] = json!([{ "method": "POST", "path": "/v1.0/users/*/authentication/temporaryAccessPassMethods", "status": 429, "retryAfter": 0.2, "times": 2 }]);
    })
    .await;
    let run = run(&sim, invocation(ADELE, json!({})), &[]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let posts: Vec<String> = writes(&sim)
        .into_iter()
        .filter(|w| w.starts_with("POST"))
        .collect();
    assert_eq!(posts.len(), 3, "two throttled tries and one that worked");
    let retries = run
        .stream("Verbose")
        .into_iter()
        .filter(|m| m.contains("retry"))
        .count();
    assert_eq!(
        retries,
        2,
        "each retry is logged: {:?}",
        run.stream("Verbose")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_create_is_reconciled_and_nothing_is_lost() {
    let sim = tenant(|t| {
        t["faults"] = json!([{ "method": "POST", "path": "/v1.0/users/*/authentication/temporaryAccessPassMethods", "reset": true, "times": 1 }]);
    })
    .await;
    let run = run(&sim, invocation(ADELE, json!({})), &[]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let pass = run.result()["result"]["temporaryAccessPass"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_pass_only_where_allowed(&run, &pass);
    let passes = passes_of(&sim, ADELE);
    assert_eq!(passes.len(), 1, "one pass, the one reported");
    let writes = writes(&sim);
    // delete old, unanswered create, delete the orphan, create again
    assert_eq!(
        writes.iter().filter(|w| w.starts_with("POST")).count(),
        2,
        "{writes:?}"
    );
    assert_eq!(
        writes.iter().filter(|w| w.starts_with("DELETE")).count(),
        2,
        "{writes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_refreshed_once() {
    let sim = tenant(|t| {
        t["faults"] = json!([{ "method": "GET", "path": "/v1.0/users/*", "status": 401, "code": "InvalidAuthenticationToken", "times": 1 }]);
    })
    .await;
    let run = run(&sim, invocation(ADELE, json!({})), &[]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let token_requests = sim
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/msi"))
        .count();
    assert_eq!(token_requests, 2, "one token, one refresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadline_stops_the_job_before_any_write() {
    let sim = tenant(|t| {
        t["faults"] = json!([{ "method": "GET", "path": "/v1.0/users/*", "delayMs": 5000 }]);
    })
    .await;
    let run = run(&sim, invocation(ADELE, json!({})), &["--deadline", "1"]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.result()["error"]["code"], "Timeout");
    assert!(writes(&sim).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_user_names_reach_graph_encoded() {
    let sim = tenant(|_| {}).await;
    for user in ["patrick.o'brien@contoso.com", "$helpdesk.bot@contoso.com"] {
        let run = run(&sim, invocation(user, json!({})), &[]).await;
        assert_eq!(run.code, 0, "{user}: {}", run.stdout);
        assert_eq!(run.result()["result"]["userPrincipalName"], user);
    }
    let calls = graph_calls(&sim);
    assert!(
        calls
            .iter()
            .any(|c| c.contains("/users('%24helpdesk.bot%40contoso.com')")),
        "{calls:?}"
    );
    assert!(
        calls
            .iter()
            .any(|c| c.contains("/users/patrick.o%27brien%40contoso.com")),
        "{calls:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_timeout_on_create_is_reconciled_not_repeated_blindly() {
    let sim = tenant(|t| {
        t["faults"] = json!([{ "method": "POST", "path": "/v1.0/users/*/authentication/temporaryAccessPassMethods", "status": 504, "times": 1 }]);
    })
    .await;
    let run = run(&sim, invocation(ADELE, json!({})), &[]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(passes_of(&sim, ADELE).len(), 1);
    let calls = graph_calls(&sim);
    let after_504: Vec<&String> = calls
        .iter()
        .skip_while(|c| !c.starts_with("POST"))
        .skip(1)
        .collect();
    assert!(
        after_504[0].starts_with("GET ") && after_504[0].ends_with("/temporaryAccessPassMethods"),
        "lists before creating again: {calls:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_little_time_left_keeps_the_old_pass() {
    // Preflight takes 2.5 s of a 4 s budget: less than the 2 s the replacement is given.
    let sim = tenant(|t| {
        t["faults"] = json!([{ "method": "GET", "path": "/v1.0/users/*/authentication/temporaryAccessPassMethods", "delayMs": 2500 }]);
    })
    .await;
    let run = run(&sim, invocation(ADELE, json!({})), &["--deadline", "4"]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    let error = &run.result()["error"];
    assert_eq!(error["code"], "Timeout");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("existing pass was kept"),
        "{error}"
    );
    assert!(writes(&sim).is_empty());
}
