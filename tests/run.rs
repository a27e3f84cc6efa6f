//! `run` end to end: the real binary against a simulated tenant started by the test, with a
//! hermetic environment (only the simulator's managed-identity endpoint and Graph URL).

use graph_sim::Simulator;
use serde_json::{Value, json};

use crate::common::sim::{ADELE, graph_calls, invocation, passes_of, run, tenant, writes};
use crate::common::{Test, assert_absent, assert_pass_only_where_allowed, fixture};

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
async fn preflight_stops_keep_the_old_pass() {
    type Edit = Box<dyn FnOnce(&mut Value) + Send>;
    let cases: Vec<(&str, Edit, &str, Value)> = vec![
        (
            "guest",
            Box::new(|_| {}),
            "GuestUserNotSupported",
            json!({ "UserName": "nestor_fabrikam.com#EXT#@contoso.onmicrosoft.com" }),
        ),
        (
            "policy disabled",
            Box::new(|t: &mut Value| t["policy"]["state"] = json!("disabled")),
            "PolicyDisabled",
            json!({}),
        ),
        (
            "lifetime above policy",
            Box::new(|t: &mut Value| t["policy"]["maximumLifetimeInMinutes"] = json!(120)),
            "LifetimeOutsidePolicy",
            json!({ "LifetimeInMinutes": 240 }),
        ),
        (
            "no authentication-method permission",
            Box::new(|t: &mut Value| {
                t["app"]["roles"] = json!(["User.Read.All", "Policy.Read.AuthenticationMethod"])
            }),
            "PermissionDenied",
            json!({}),
        ),
    ];
    for (name, edit, code, params) in cases {
        let sim = tenant(edit).await;
        let user = params
            .get("UserName")
            .and_then(Value::as_str)
            .unwrap_or(ADELE)
            .to_owned();
        let run = run(&sim, invocation(&user, params.clone()), &[]).await;
        assert_eq!(run.code, 1, "{name}: {}", run.stdout);
        let result = run.result();
        assert_eq!(result["status"], "Failed", "{name}");
        assert_eq!(result["error"]["code"], code, "{name}: {}", result["error"]);
        assert!(
            writes(&sim).is_empty(),
            "{name}: nothing was deleted or created: {:?}",
            writes(&sim)
        );
        assert!(
            !run.stream("Error").is_empty(),
            "{name}: the reason is on the Error stream"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_error_names_the_permission_and_request_id() {
    let sim = tenant(|t| t["app"]["roles"] = json!(["User.Read.All"])).await;
    let run = run(&sim, invocation(ADELE, json!({})), &[]).await;
    let error = &run.result()["error"];
    assert_eq!(error["code"], "PermissionDenied");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("UserAuthenticationMethod.ReadWrite.All"),
        "{error}"
    );
    assert_eq!(error["graph"]["status"], 403);
    assert!(
        error["graph"]["requestId"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_policy_is_noted_and_the_job_goes_on() {
    let sim = tenant(|t| {
        t["app"]["roles"] = json!(["User.Read.All", "UserAuthenticationMethod.ReadWrite.All"])
    })
    .await;
    let run = run(&sim, invocation(ADELE, json!({})), &[]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stream("Verbose")
            .iter()
            .any(|m| m.contains("Policy.Read.AuthenticationMethod"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_one_time_use_is_a_warning() {
    let sim = tenant(|t| t["policy"]["isUsableOnce"] = json!(true)).await;
    let run = run(
        &sim,
        invocation(ADELE, json!({ "OneTimeUseOnly": false })),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let result = run.result();
    assert_eq!(result["result"]["isUsableOnce"], true);
    assert_eq!(
        result["warnings"].as_array().unwrap().len(),
        1,
        "{}",
        result["warnings"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_is_user_not_found_without_writes() {
    let sim = tenant(|_| {}).await;
    let run = run(&sim, invocation("nobody@contoso.com", json!({})), &[]).await;
    assert_eq!(run.code, 1);
    assert_eq!(run.result()["error"]["code"], "UserNotFound");
    assert!(writes(&sim).is_empty());
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
async fn notification_is_sent_without_the_pass() {
    let sim = tenant(|_| {}).await;
    let outbox = tempfile::tempdir().unwrap();
    let outbox_arg = outbox.path().to_str().unwrap().to_owned();
    let run = run(
        &sim,
        invocation("isabelle.dubois@contoso.com", json!({ "NotifyUser": true, "EmailFrom": "it-service@contoso.com", "ServiceDeskEmail": "servicedesk@contoso.com" })),
        &["--outbox", &outbox_arg],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let result = run.result();
    let pass = result["result"]["temporaryAccessPass"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        result["result"]["notification"],
        json!({ "requested": true, "sent": true, "recipient": "isabelle.dubois@contoso.com", "language": "fr" })
    );
    let sent = sim.outbox();
    assert_eq!(sent.len(), 1);
    assert!(
        !sent[0].body.to_string().contains(&pass),
        "the email never carries the pass"
    );
    assert_eq!(
        sent[0].body["message"]["toRecipients"][0]["emailAddress"]["address"],
        "isabelle.dubois@contoso.com"
    );
    let html = std::fs::read_to_string(outbox.path().join("1.html")).unwrap();
    assert!(!html.contains(&pass));
    assert_pass_only_where_allowed(&run, &pass);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_notification_is_a_warning_and_keeps_the_pass() {
    let sim = tenant(|_| {}).await;
    let run = run(
        &sim,
        invocation(
            ADELE,
            json!({ "NotifyUser": true, "EmailFrom": "noreply@contoso.com" }),
        ),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let result = run.result();
    assert_eq!(result["status"], "Completed");
    assert!(result["result"]["temporaryAccessPass"].is_string());
    assert_eq!(result["result"]["notification"]["sent"], false);
    let warnings = result["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("Exchange Online mailbox")),
        "{warnings:?}"
    );
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

#[test]
fn graph_url_must_be_https_or_loopback() {
    let run = Test::new()
        .args([
            "run",
            "--format",
            "ndjson",
            "--graph-url",
            "http://graph.example.com",
            "--invocation",
            "-",
        ])
        .stdin(invocation(ADELE, json!({})))
        .run();
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(run.problem_fields(), ["--graph-url"]);
}

#[test]
fn simulate_runs_the_whole_job_in_process() {
    let run = Test::new()
        .args(["run", "--format", "ndjson", "--simulate"])
        .arg(fixture("tenant.json").to_str().unwrap())
        .args([
            "--invocation",
            fixture("invocation/flat.json").to_str().unwrap(),
            "--customization",
            fixture("customization/tenant.jsonc").to_str().unwrap(),
        ])
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stream("Output")[0].contains("SIMULATED tenant"));
    let result = run.result();
    assert_eq!(result["result"]["notification"]["sent"], true);
    assert_pass_only_where_allowed(
        &run,
        result["result"]["temporaryAccessPass"].as_str().unwrap(),
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
async fn missing_mail_permission_is_explained_in_a_warning() {
    let sim = tenant(|t| {
        t["app"]["roles"] = json!([
            "User.Read.All",
            "UserAuthenticationMethod.ReadWrite.All",
            "Policy.Read.AuthenticationMethod"
        ]);
    })
    .await;
    let run = run(
        &sim,
        invocation(
            ADELE,
            json!({ "NotifyUser": true, "EmailFrom": "it-service@contoso.com" }),
        ),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let result = run.result();
    assert_eq!(result["result"]["notification"]["sent"], false);
    assert!(result["result"]["temporaryAccessPass"].is_string());
    let warnings = result["warnings"].to_string();
    assert!(warnings.contains("Mail.Send"), "{warnings}");
    let sends = graph_calls(&sim)
        .into_iter()
        .filter(|c| c.ends_with("/sendMail"))
        .count();
    assert_eq!(sends, 1, "sendMail is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_if_renders_the_notification_into_the_outbox_without_sending() {
    let sim = tenant(|_| {}).await;
    let outbox = tempfile::tempdir().unwrap();
    let outbox_arg = outbox.path().to_str().unwrap().to_owned();
    let params = json!({ "NotifyUser": true, "EmailFrom": "it-service@contoso.com", "LanguageOverride": "nl" });
    let run = run(
        &sim,
        invocation(ADELE, params),
        &["--what-if", "--outbox", &outbox_arg],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(sim.outbox().is_empty());
    assert!(writes(&sim).is_empty());
    let body: Value =
        serde_json::from_str(&std::fs::read_to_string(outbox.path().join("1.json")).unwrap())
            .unwrap();
    assert_eq!(
        body["message"]["toRecipients"][0]["emailAddress"]["address"],
        ADELE
    );
    assert_eq!(run.result()["result"]["notification"]["language"], "nl");
    assert!(outbox.path().join("1.html").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unexpected_refusal_of_the_policy_read_is_a_warning() {
    let sim = tenant(|t| {
        t["faults"] = json!([{ "method": "GET", "path": "/v1.0/policies/**", "status": 400, "code": "BadRequest", "times": 1 }]);
    })
    .await;
    let run = run(&sim, invocation(ADELE, json!({})), &[]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.result()["warnings"]
            .to_string()
            .contains("policy could not be read")
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
