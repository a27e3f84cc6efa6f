//! Injected faults and the write throttle.

use super::*;

#[tokio::test]
async fn a_status_fault_answers_with_retry_after_for_its_times() {
    let t = Tenant::start("tenants/faults.json").await;
    let path = format!("{V1}/users/{ADELE}");
    let response = t.get(&path).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "0.5");
    let (_, body) = graph_error(response).await;
    assert_eq!(body.error.code, "serviceNotAvailable");
    assert_eq!(t.get(&path).await.status(), StatusCode::OK);

    for _ in 0..2 {
        let throttled = t.post(&taps(ALEX), json!({})).await;
        assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(throttled.headers()["retry-after"], "1");
    }
    let (status, _) = t.create_pass(ALEX, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);

    let recorded = t.sim.requests();
    let faulted: Vec<_> = recorded.iter().filter(|r| r.fault.is_some()).collect();
    assert_eq!(faulted.len(), 3);
    assert_eq!(faulted[0].status, Some(503));
    assert_eq!(faulted[0].fault.as_deref(), Some("status"));
}

#[tokio::test]
async fn an_http_date_retry_after_is_sent_verbatim() {
    let t = Tenant::start("tenant.json").await;
    t.sim
        .add_fault(FaultSpec {
            method: Some("get".into()),
            path: "/v1.0/users/*".into(),
            status: Some(429),
            retry_after: Some(RetryAfter::Text("Wed, 21 Oct 2026 07:28:00 GMT".into())),
            code: None,
            message: None,
            delay_ms: 0,
            reset: false,
            malformed: false,
            after_effect: false,
            body: None,
            times: Some(1),
        })
        .unwrap();
    let response = t.get(&format!("{V1}/users/{ADELE}")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        response.headers()["retry-after"],
        "Wed, 21 Oct 2026 07:28:00 GMT"
    );
}

#[tokio::test]
async fn a_delay_fault_slows_the_answer_down() {
    let t = Tenant::start("tenants/faults.json").await;
    let started = Instant::now();
    let response = t.get(&taps(ALEX)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(200));
    let started = Instant::now();
    t.get(&taps(ALEX)).await;
    assert!(started.elapsed() < Duration::from_millis(200), "times: 1");
}

#[tokio::test]
async fn a_reset_after_create_drops_the_connection_but_keeps_the_pass() {
    let t = Tenant::start("tenant.json").await;
    let added = t
        .http
        .post(t.url("/_sim/faults"))
        .json(&json!({
            "method": "POST",
            "path": "/v1.0/users/*/authentication/temporaryAccessPassMethods",
            "reset": true, "times": 1
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::NO_CONTENT);

    let error = t
        .http
        .post(t.url(&taps(ALEX)))
        .bearer_auth(&t.token)
        .json(&json!({ "lifetimeInMinutes": 60 }))
        .send()
        .await
        .expect_err("no response after a reset");
    assert!(error.status().is_none());
    assert!(error.is_request() || error.is_connect(), "{error:?}");

    let list: TapMethodList = t.get(&taps(ALEX)).await.json().await.unwrap();
    assert_eq!(
        list.value.len(),
        1,
        "the create took effect before the reset"
    );
    let reset = t
        .sim
        .requests()
        .into_iter()
        .find(|r| r.fault.as_deref() == Some("reset"))
        .unwrap();
    assert_eq!((reset.method.as_str(), reset.status), ("POST", None));
}

#[tokio::test]
async fn a_malformed_fault_truncates_a_successful_body() {
    let t = Tenant::start("tenants/faults.json").await;
    let path = format!(
        "{V1}/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass"
    );
    let response = t.get(&path).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert!(text.starts_with('{'));
    let whole: Value = t.get(&path).await.json().await.unwrap();
    assert_eq!(whole["id"], "TemporaryAccessPass");

    let rejected = t
        .http
        .post(t.url("/_sim/faults"))
        .json(&json!({ "path": "no-slash", "status": 500 }))
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), StatusCode::BAD_REQUEST);
    let body: Value = rejected.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("faults[0].path"));
}

#[tokio::test]
async fn the_throttle_refuses_writes_over_budget() {
    let t = Tenant::start("tenants/throttled.json").await;
    let (status, created) = t.create_pass(ALEX, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let delete = t
        .call(
            Method::DELETE,
            &format!("{}/{}", taps(ALEX), created["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(delete.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(delete.headers()["retry-after"], "1");
    let (_, body) = graph_error(delete).await;
    assert_eq!(body.error.code, "TooManyRequests");
    // Reads are not writes.
    assert_eq!(t.get(&taps(ALEX)).await.status(), StatusCode::OK);
    let last = t.sim.requests().into_iter().rev().nth(1).unwrap();
    assert_eq!(last.fault.as_deref(), Some("throttle"));
}

#[tokio::test]
async fn latency_is_added_to_every_request() {
    let t = Tenant::start("tenants/latency-50ms.json").await;
    let started = Instant::now();
    assert_eq!(
        t.get(&format!("{V1}/users/{ADELE}")).await.status(),
        StatusCode::OK
    );
    assert!(started.elapsed() >= Duration::from_millis(50));
}
