//! The one retry loop: what is retried, how long it waits, and where it stops.

use std::time::{Duration, SystemTime};

use tap_runbook::graph::{CreatePass, Deleted, GraphError, GraphErrorKind, UserRef};
use tap_runbook::job::ErrorCode;
use tokio::time::Instant;

use super::fixture::{Fixture, USER_ID, created_pass_json, passes, user_json};
use super::server::Reply;

fn adele() -> UserRef {
    UserRef::new("adele@contoso.com")
}

fn create() -> CreatePass {
    CreatePass {
        lifetime_in_minutes: 60,
        is_usable_once: true,
        start_date_time: None,
    }
}

/// The error of a create that the scripted Graph does not let succeed.
async fn failed_create(f: &Fixture) -> GraphError {
    f.client
        .create_pass(USER_ID, &create(), None)
        .await
        .unwrap_err()
}

fn throttled(retry_after: &str) -> Reply {
    Reply::graph_error(429, "TooManyRequests", "Too many requests")
        .header("Retry-After", retry_after)
}

#[tokio::test]
async fn retry_after_in_seconds_fractions_and_dates_is_honoured_and_capped() {
    let f = Fixture::new().await;
    let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(30));
    let far = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
    f.server.route(
        "GET",
        "/v1.0/users/",
        vec![
            throttled("0"),
            throttled("0.05"),
            throttled(&past),
            throttled(&far),
            Reply::json(200, user_json()),
        ],
    );
    let started = Instant::now();
    f.client.get_user(&adele()).await.unwrap();
    assert_eq!(f.graph_requests().len(), 5);
    let log = f.log_text();
    for wait in ["waiting 0.000 s", "waiting 0.050 s", "waiting 0.300 s"] {
        assert!(log.contains(wait), "{wait} missing in\n{log}");
    }
    assert_eq!(log.matches("as Graph asked").count(), 4);
    assert!(started.elapsed() >= Duration::from_millis(350));
    assert!(log.contains("retry 4 of 4"));
}

#[tokio::test]
async fn unavailable_and_gateway_timeout_back_off_then_succeed() {
    let f = Fixture::new().await;
    f.server.route(
        "GET",
        "/v1.0/users/",
        vec![
            Reply::graph_error(503, "serviceNotAvailable", "busy"),
            Reply::graph_error(504, "gatewayTimeout", "slow"),
            Reply::json(200, user_json()),
        ],
    );
    f.client.get_user(&adele()).await.unwrap();
    let statuses: Vec<_> = f.client.attempts().iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(503), Some(504), Some(200)]);
    assert_eq!(f.log_text().matches("(backoff)").count(), 2);
}

#[tokio::test]
async fn exhausted_throttling_is_throttled() {
    let f = Fixture::new().await;
    f.server.route("GET", &passes(), vec![throttled("0")]);
    let error = f.client.list_passes(USER_ID).await.unwrap_err();
    assert_eq!(error.kind, GraphErrorKind::Throttled);
    assert_eq!(f.graph_requests().len(), 5, "at most 5 tries");
    let job = error.to_job_error();
    assert_eq!(job.code, ErrorCode::Throttled);
    assert_eq!(
        job.graph.unwrap().request_id.as_deref(),
        Some("req-TooManyRequests")
    );
}

#[tokio::test]
async fn exhausted_unavailability_is_graph_unavailable() {
    let f = Fixture::new().await;
    f.server.route(
        "POST",
        &passes(),
        vec![Reply::graph_error(503, "serviceNotAvailable", "busy")],
    );
    let error = failed_create(&f).await;
    assert_eq!(error.kind, GraphErrorKind::Unavailable);
    assert_eq!(error.to_job_error().code, ErrorCode::GraphUnavailable);
    assert_eq!(f.graph_requests().len(), 5);
}

#[tokio::test]
async fn a_wait_past_the_deadline_stops_at_once() {
    let f = Fixture::with_config(|c| {
        c.deadline = Instant::now() + Duration::from_millis(250);
        c.retry.retry_after_cap = Duration::from_secs(60);
    })
    .await;
    f.server.route("GET", "/v1.0/users/", vec![throttled("30")]);
    let started = Instant::now();
    let error = f.client.get_user(&adele()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(250));
    assert_eq!(error.kind, GraphErrorKind::Timeout);
    assert_eq!(error.to_job_error().code, ErrorCode::Timeout);
    assert_eq!(f.graph_requests().len(), 1);
}

#[tokio::test]
async fn a_request_without_answer_ends_at_the_deadline() {
    let f = Fixture::with_config(|c| {
        c.deadline = Instant::now() + Duration::from_millis(300);
    })
    .await;
    f.server.route("GET", "/v1.0/users/", vec![Reply::Hang]);
    let started = Instant::now();
    let error = f.client.get_user(&adele()).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(2));
    assert_eq!(error.kind, GraphErrorKind::Timeout);
}

#[tokio::test]
async fn a_reset_get_is_retried() {
    let f = Fixture::new().await;
    f.server.route(
        "GET",
        "/v1.0/users/",
        vec![Reply::Reset, Reply::json(200, user_json())],
    );
    f.client.get_user(&adele()).await.unwrap();
    let statuses: Vec<_> = f.client.attempts().iter().map(|a| a.status).collect();
    assert_eq!(statuses, [None, Some(200)]);
    assert!(f.log_text().contains("no answer"));
}

#[tokio::test]
async fn a_get_timeout_is_retried() {
    let f = Fixture::with_config(|c| c.request_timeout = Duration::from_millis(100)).await;
    f.server.route(
        "GET",
        &passes(),
        vec![
            Reply::Hang,
            Reply::json(200, serde_json::json!({"value": []})),
        ],
    );
    assert!(f.client.list_passes(USER_ID).await.unwrap().is_empty());
    assert_eq!(f.graph_requests().len(), 2);
}

#[tokio::test]
async fn a_reset_create_is_ambiguous_and_not_repeated() {
    let f = Fixture::new().await;
    f.server.route("POST", &passes(), vec![Reply::Reset]);
    let error = failed_create(&f).await;
    assert_eq!(error.kind, GraphErrorKind::Ambiguous);
    assert_eq!(f.graph_requests().len(), 1);
}

#[tokio::test]
async fn a_create_timeout_is_ambiguous() {
    let f = Fixture::with_config(|c| c.request_timeout = Duration::from_millis(100)).await;
    f.server.route("POST", &passes(), vec![Reply::Hang]);
    let error = failed_create(&f).await;
    assert_eq!(error.kind, GraphErrorKind::Ambiguous);
    assert_eq!(f.graph_requests().len(), 1);
}

#[tokio::test]
async fn a_reset_send_mail_is_ambiguous_and_not_repeated() {
    let f = Fixture::new().await;
    f.server.route("POST", "/v1.0/users/", vec![Reply::Reset]);
    let error = f
        .client
        .send_mail("helpdesk@contoso.com", &serde_json::json!({"message": {}}))
        .await
        .unwrap_err();
    assert_eq!(error.kind, GraphErrorKind::Ambiguous);
    assert_eq!(f.graph_requests().len(), 1);
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_a_create() {
    // A port nobody listens on: the request never leaves, so repeating it is safe.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let f = Fixture::with_config(|c| {
        c.base_url = tap_runbook::net::validate_graph_url(&url).unwrap();
    })
    .await;
    let error = failed_create(&f).await;
    assert_eq!(error.kind, GraphErrorKind::Unavailable);
    assert_eq!(f.client.attempts().len(), 5);
    assert!(
        error.message.starts_with("no connection to Graph"),
        "{error}"
    );
}

#[tokio::test]
async fn malformed_json_on_a_read_is_retried() {
    let f = Fixture::new().await;
    f.server.route(
        "GET",
        "/v1.0/users/",
        vec![
            Reply::raw(200, "{\"id\": \"0c9d"),
            Reply::Truncated { status: 200 },
            Reply::json(200, user_json()),
        ],
    );
    f.client.get_user(&adele()).await.unwrap();
    assert_eq!(f.graph_requests().len(), 3);
}

#[tokio::test]
async fn malformed_or_truncated_create_answers_are_ambiguous() {
    for reply in [
        Reply::raw(201, "{\"temporaryAccessPass\": \"Qx7"),
        Reply::Truncated { status: 201 },
        Reply::json(201, serde_json::json!({"id": "pass-1"})),
    ] {
        let f = Fixture::new().await;
        f.server.route("POST", &passes(), vec![reply]);
        let error = failed_create(&f).await;
        assert_eq!(error.kind, GraphErrorKind::Ambiguous, "{error}");
        assert_eq!(f.graph_requests().len(), 1);
    }
}

#[tokio::test]
async fn throttled_create_is_retried() {
    let f = Fixture::new().await;
    f.server.route(
        "POST",
        &passes(),
        vec![throttled("0"), Reply::json(201, created_pass_json())],
    );
    f.client
        .create_pass(USER_ID, &create(), None)
        .await
        .unwrap();
    assert_eq!(f.graph_requests().len(), 2);
}

#[tokio::test]
async fn a_delete_answered_not_found_means_already_gone() {
    let f = Fixture::new().await;
    let pass = format!("{}/old-1", passes());
    f.server.route(
        "DELETE",
        &pass,
        vec![
            Reply::Reset,
            Reply::graph_error(404, "itemNotFound", "not found"),
        ],
    );
    let deleted = f.client.delete_pass(USER_ID, "old-1").await.unwrap();
    assert_eq!(deleted, Deleted::AlreadyGone, "an earlier try did the work");
    assert_eq!(f.graph_requests().len(), 2);

    let g = Fixture::new().await;
    g.server.route(
        "DELETE",
        &pass,
        vec![Reply::graph_error(404, "itemNotFound", "not found")],
    );
    let deleted = g.client.delete_pass(USER_ID, "old-1").await.unwrap();
    assert_eq!(
        deleted,
        Deleted::AlreadyGone,
        "it expired or someone removed it"
    );

    let h = Fixture::new().await;
    h.server.route("DELETE", &pass, vec![Reply::empty(204)]);
    assert_eq!(
        h.client.delete_pass(USER_ID, "old-1").await.unwrap(),
        Deleted::Removed
    );
}

#[tokio::test]
async fn a_new_user_is_looked_up_again_before_not_found() {
    let f = Fixture::new().await;
    let missing = Reply::graph_error(
        404,
        "Request_ResourceNotFound",
        "Resource 'x' does not exist",
    );
    f.server.route(
        "GET",
        "/v1.0/users/",
        vec![
            missing.clone(),
            missing.clone(),
            Reply::json(200, user_json()),
        ],
    );
    f.client.get_user(&adele()).await.unwrap();
    assert_eq!(f.graph_requests().len(), 3);
    assert!(f.log_text().contains("replicate"));

    let g = Fixture::new().await;
    g.server.route("GET", "/v1.0/users/", vec![missing]);
    let error = g.client.get_user(&adele()).await.unwrap_err();
    assert_eq!(g.graph_requests().len(), 4, "one lookup and three more");
    let job = error.to_job_error();
    assert_eq!(job.code, ErrorCode::UserNotFound);
    assert_eq!(
        job.graph.unwrap().code.as_deref(),
        Some("Request_ResourceNotFound")
    );
}

#[tokio::test]
async fn each_retry_is_logged_with_its_reason_and_wait() {
    let f = Fixture::new().await;
    f.server.route(
        "GET",
        "/v1.0/users/",
        vec![throttled("0.02"), Reply::json(200, user_json())],
    );
    f.client.get_user(&adele()).await.unwrap();
    let log = f.log_text();
    let retry = log
        .lines()
        .find(|l| l.contains("retry 1 of 4"))
        .expect("a retry line");
    let event: serde_json::Value = serde_json::from_str(retry).unwrap();
    assert_eq!(event["stream"], "Verbose");
    assert_eq!(
        event["message"],
        "Graph reading the user: HTTP 429 TooManyRequests; retry 1 of 4 (as Graph asked); waiting 0.020 s"
    );
    assert!(log.contains("Graph GET /v1.0/users/adele%40contoso.com -> 429 in "));
}
