//! The preflight: each check that stops the job keeps the old pass, and the reads it may do
//! without.

use serde_json::{Value, json};

use crate::common::sim::{ADELE, invocation, run, tenant, writes};

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
