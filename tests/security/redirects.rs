//! Neither Graph nor a token endpoint may send the job elsewhere: a redirect is not followed,
//! so a bearer token or an identity header never reaches another host.

use serde_json::json;

use crate::common::Test;
use crate::graph_client::server::{MockServer, Reply};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_from_graph_and_the_token_endpoint_are_not_followed() {
    let elsewhere = MockServer::start().await;
    let graph = MockServer::start().await;
    let expires = (time::OffsetDateTime::now_utc().unix_timestamp() + 3600).to_string();
    graph.route(
        "GET",
        "/msi/token",
        vec![Reply::json(
            200,
            json!({"access_token": "t0k3n", "expires_on": expires}),
        )],
    );
    graph.route(
        "GET",
        "/v1.0/",
        vec![Reply::empty(307).header("location", &format!("{}/steal", elsewhere.url()))],
    );
    let token = MockServer::start().await;
    token.route(
        "GET",
        "/msi/token",
        vec![Reply::empty(307).header("location", &format!("{}/msi/token", elsewhere.url()))],
    );
    let invocation = json!({ "UserName": "adele@contoso.com", "CallerName": "admin" }).to_string();
    for (identity, expected) in [(&graph, "Unexpected"), (&token, "AuthenticationFailed")] {
        let identity = format!("{}/msi/token", identity.url());
        let graph_url = graph.url();
        let invocation = invocation.clone();
        let run = tokio::task::spawn_blocking(move || {
            Test::new()
                .args(["run", "--format", "ndjson", "--invocation", "-"])
                .stdin(invocation)
                .env("IDENTITY_ENDPOINT", identity)
                .env("IDENTITY_HEADER", "identity-secret")
                .env("TAP_RUNBOOK_GRAPH_URL", graph_url)
                .run()
        })
        .await
        .unwrap();
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert_eq!(run.result()["error"]["code"], expected, "{}", run.stdout);
    }
    assert!(elsewhere.requests().is_empty(), "a redirect was followed");
}

/// A token endpoint that answers with a line break in the token must not get a header into
/// the Graph request; the token is refused before any Graph call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_is_no_bearer_token_is_refused() {
    let server = MockServer::start().await;
    let expires = (time::OffsetDateTime::now_utc().unix_timestamp() + 3600).to_string();
    server.route(
        "GET",
        "/msi/token",
        vec![Reply::json(
            200,
            json!({"access_token": "t0k3n\r\nX-Injected: 1", "expires_on": expires}),
        )],
    );
    let identity = format!("{}/msi/token", server.url());
    let graph_url = server.url();
    let run = tokio::task::spawn_blocking(move || {
        Test::new()
            .args(["run", "--format", "ndjson", "--invocation", "-"])
            .stdin(json!({ "UserName": "adele@contoso.com", "CallerName": "admin" }).to_string())
            .env("IDENTITY_ENDPOINT", identity)
            .env("IDENTITY_HEADER", "identity-secret")
            .env("TAP_RUNBOOK_GRAPH_URL", graph_url)
            .run()
    })
    .await
    .unwrap();
    assert_eq!(run.code, 1, "{}", run.stdout);
    let error = &run.result()["error"];
    assert_eq!(error["code"], "AuthenticationFailed");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("not a bearer token")
    );
    assert!(!run.stdout.contains("X-Injected"));
    assert!(
        server
            .requests()
            .iter()
            .all(|r| !r.path.starts_with("/v1.0"))
    );
}
