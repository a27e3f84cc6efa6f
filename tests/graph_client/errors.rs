//! Graph's refusals as the job reports them, and the token refresh after a 401.

use tap_runbook::graph::{GraphErrorKind, UserRef};
use tap_runbook::job::ErrorCode;

use super::fixture::{Fixture, REFRESHED_TOKEN, USER_ID, passes, user_json};
use super::server::Reply;

fn expired() -> Reply {
    Reply::graph_error(
        401,
        "InvalidAuthenticationToken",
        "Access token has expired or is not yet valid.",
    )
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once() {
    let f = Fixture::new().await;
    f.server.route(
        "GET",
        "/v1.0/users/",
        vec![expired(), Reply::json(200, user_json())],
    );
    f.client
        .get_user(&UserRef::new("adele@contoso.com"))
        .await
        .unwrap();
    assert_eq!(f.token_requests(), 2);
    let second = f.graph_requests().pop().unwrap();
    assert_eq!(
        second.headers["authorization"],
        format!("Bearer {REFRESHED_TOKEN}")
    );
    assert!(f.log_text().contains("getting a fresh one"));
}

#[tokio::test]
async fn a_second_refusal_is_authentication_failed() {
    let f = Fixture::new().await;
    f.server.route("GET", &passes(), vec![expired()]);
    let error = f.client.list_passes(USER_ID).await.unwrap_err();
    assert_eq!(error.kind, GraphErrorKind::AuthenticationFailed);
    assert_eq!(f.graph_requests().len(), 2);
    assert_eq!(f.token_requests(), 2);
    let job = error.to_job_error();
    assert_eq!(job.code, ErrorCode::AuthenticationFailed);
    let graph = job.graph.unwrap();
    assert_eq!(graph.status, 401);
    assert_eq!(graph.code.as_deref(), Some("InvalidAuthenticationToken"));
    f.log_text();
}

#[tokio::test]
async fn forbidden_on_pass_routes_names_the_permission_and_request_id() {
    let f = Fixture::new().await;
    f.server.route(
        "GET",
        &passes(),
        vec![Reply::graph_error(
            403,
            "accessDenied",
            "Request Authorization failed",
        )],
    );
    let error = f.client.list_passes(USER_ID).await.unwrap_err();
    assert_eq!(f.graph_requests().len(), 1, "a refusal is not retried");
    let job = error.to_job_error();
    assert_eq!(job.code, ErrorCode::PermissionDenied);
    assert!(
        job.message
            .contains("UserAuthenticationMethod.ReadWrite.All")
    );
    assert!(job.message.contains("Request Authorization failed"));
    let graph = job.graph.unwrap();
    assert_eq!(graph.request_id.as_deref(), Some("req-accessDenied"));
    assert_eq!(graph.code.as_deref(), Some("accessDenied"));
}

#[tokio::test]
async fn request_id_comes_from_the_header_without_an_envelope() {
    let f = Fixture::new().await;
    f.server.route(
        "GET",
        "/v1.0/users/",
        vec![Reply::raw(403, "Forbidden").header("request-id", "hdr-42")],
    );
    let error = f
        .client
        .get_user(&UserRef::new("adele@contoso.com"))
        .await
        .unwrap_err();
    let job = error.to_job_error();
    assert_eq!(job.code, ErrorCode::PermissionDenied);
    assert!(job.message.contains("User.Read.All"));
    assert_eq!(job.graph.unwrap().request_id.as_deref(), Some("hdr-42"));
}

#[tokio::test]
async fn an_unreadable_policy_is_recognisable() {
    let f = Fixture::new().await;
    f.server.route(
        "GET",
        "/v1.0/policies/",
        vec![Reply::graph_error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )],
    );
    let error = f.client.get_tap_policy().await.unwrap_err();
    assert!(error.is_permission_denied());
}

#[tokio::test]
async fn policy_refusal_and_mail_refusal() {
    let f = Fixture::new().await;
    f.server.route(
        "POST",
        &passes(),
        vec![Reply::graph_error(
            400,
            "badRequest",
            "UserCredentialPolicy does not allow Temporary Access Pass for this user.",
        )],
    );
    f.server.route(
        "POST",
        "/v1.0/users/helpdesk%40contoso.com/sendMail",
        vec![Reply::graph_error(
            403,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        )],
    );
    let create = tap_runbook::graph::CreatePass {
        lifetime_in_minutes: 60,
        is_usable_once: true,
        start_date_time: Some(time::macros::datetime!(2026-11-29 10:00 UTC)),
    };
    let error = f
        .client
        .create_pass(USER_ID, &create, None)
        .await
        .unwrap_err();
    assert_eq!(error.to_job_error().code, ErrorCode::PolicyDisabled);
    let body = f.server.requests_to("POST", &passes()).pop().unwrap().body;
    assert!(body.contains("\"startDateTime\":\"2026-11-29T10:00:00.000Z\""));

    let error = f
        .client
        .send_mail("helpdesk@contoso.com", &serde_json::json!({}))
        .await
        .unwrap_err();
    let job = error.to_job_error();
    assert_eq!(job.code, ErrorCode::PermissionDenied);
    assert!(job.message.contains("Mail.Send"));
}
