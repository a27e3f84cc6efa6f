//! Where the job's secrets may go. Neither Graph nor a token endpoint can send the job
//! elsewhere (no redirect is followed), a token cannot smuggle a header in, and the identity
//! secret travels unencrypted only on this machine.

use serde_json::json;

use crate::common::{Run, Test};
use crate::graph_client::fixture::token_reply;
use crate::graph_client::server::{MockServer, Reply};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_from_graph_and_the_token_endpoint_are_not_followed() {
    let elsewhere = MockServer::start().await;
    let graph = MockServer::start().await;
    graph.route("GET", "/msi/token", vec![token_reply("t0k3n")]);
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
        let run = run_against(identity, graph_url, invocation).await;
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
    server.route(
        "GET",
        "/msi/token",
        vec![token_reply("t0k3n\r\nX-Injected: 1")],
    );
    let identity = format!("{}/msi/token", server.url());
    let graph_url = server.url();
    let invocation = json!({ "UserName": "adele@contoso.com", "CallerName": "admin" }).to_string();
    let run = run_against(identity, graph_url, invocation).await;
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

/// An identity endpoint over plain http to another machine would send the identity secret
/// across the network unencrypted (and, with a proxy set, through the proxy).
#[test]
fn a_plaintext_identity_endpoint_off_this_machine_is_refused() {
    use tap_runbook::auth::Credential;
    use tap_runbook::net::{Cloud, Environment, HttpSettings, build_http_client};
    let http = build_http_client(&HttpSettings::default()).unwrap();
    let with = |endpoint: &str| -> Environment {
        [
            ("IDENTITY_ENDPOINT", endpoint),
            ("IDENTITY_HEADER", "identity-secret"),
        ]
        .into_iter()
        .collect()
    };
    for refused in [
        "http://10.0.0.5:8081/msi/token",
        "http://identity.contoso.com/msi/token",
        "http://svc:hunter2@192.0.2.7/msi/token?sig=s3cr3t",
    ] {
        let error = Credential::from_environment(&with(refused), Cloud::Global, &http)
            .unwrap_err()
            .to_string();
        assert!(error.contains("IDENTITY_ENDPOINT is http://"), "{error}");
        assert!(error.contains("unencrypted"), "{error}");
        assert!(
            !error.contains("hunter2") && !error.contains("s3cr3t"),
            "{error}"
        );
    }
    for allowed in [
        "http://127.0.0.1:41234/msi/token",
        "http://localhost:40342/metadata/identity/oauth2/token",
        "http://169.254.129.2:8081/msi/token",
        "https://10.0.0.4:2377/metadata/identity/oauth2/token",
    ] {
        assert!(
            Credential::from_environment(&with(allowed), Cloud::Global, &http).is_ok(),
            "{allowed}"
        );
    }
}

/// Runs a job with the managed identity at `identity` (header `identity-secret`) and Graph at
/// `graph_url`.
async fn run_against(identity: String, graph_url: String, invocation: String) -> Run {
    tokio::task::spawn_blocking(move || {
        Test::new()
            .args(["run", "--format", "ndjson", "--invocation", "-"])
            .stdin(invocation)
            .env("IDENTITY_ENDPOINT", identity)
            .env("IDENTITY_HEADER", "identity-secret")
            .env("TAP_RUNBOOK_GRAPH_URL", graph_url)
            .run()
    })
    .await
    .unwrap()
}
