//! Credential selection from an environment map, and each credential against a loopback token
//! endpoint: our managed-identity protocols over plain HTTP, azure_identity's client secret and
//! workload identity over HTTPS with a test CA, and IMDS through a loopback proxy.

use std::time::Duration;

use serde_json::json;
use tap_runbook::auth::{AuthError, Credential, CredentialKind};
use tap_runbook::job::ErrorCode;
use tap_runbook::net::{Cloud, Environment, HttpSettings, build_http_client};
use time::macros::datetime;

use super::server::{MockServer, Recorded, Reply};
use crate::common::loopback::TestCa;

const HEADER_SECRET: &str = "identity-header-value-77aa";
const CLIENT_SECRET: &str = "client~secret.value_9Q";

fn env(pairs: &[(&str, &str)]) -> Environment {
    pairs.iter().map(|(k, v)| (*k, *v)).collect()
}

fn http() -> reqwest::Client {
    build_http_client(&HttpSettings::default()).unwrap()
}

fn query(request: &Recorded) -> Vec<(String, String)> {
    form(request.query.as_deref().unwrap_or_default())
}

fn form(text: &str) -> Vec<(String, String)> {
    let url = reqwest::Url::parse(&format!("http://h/?{text}")).unwrap();
    url.query_pairs().into_owned().collect()
}

fn has(pairs: &[(String, String)], key: &str, value: &str) -> bool {
    pairs.iter().any(|(k, v)| k == key && v == value)
}

#[tokio::test]
async fn automation_identity_reads_every_expires_on_format() {
    let expected = datetime!(2030-11-29 10:00:00 UTC);
    for expires_on in [
        json!(expected.unix_timestamp()),
        json!(expected.unix_timestamp().to_string()),
        json!("11/29/2030 10:00:00 +00:00"),
        json!("2030-11-29T10:00:00Z"),
    ] {
        let server = MockServer::start().await;
        server.route(
            "GET",
            "/msi/token",
            vec![Reply::json(
                200,
                json!({"access_token": "mi-token", "expires_on": expires_on,
                       "resource": "https://graph.microsoft.com", "token_type": "Bearer"}),
            )],
        );
        let endpoint = format!("{}/msi/token", server.url());
        let env = env(&[
            ("IDENTITY_ENDPOINT", &endpoint),
            ("IDENTITY_HEADER", HEADER_SECRET),
            ("AZURE_CLIENT_ID", "uami-1"),
        ]);
        let credential = Credential::from_environment(&env, Cloud::Global, &http()).unwrap();
        assert_eq!(
            credential.kind().to_string(),
            "managed identity (Azure Automation / App Service endpoint, user-assigned, client id uami-1)"
        );
        let token = credential.token(false).await.unwrap();
        assert_eq!(token.token.expose(), "mi-token");
        assert_eq!(token.expires_at, expected, "{expires_on}");

        let request = server.requests().pop().unwrap();
        let query = query(&request);
        assert!(has(&query, "resource", "https://graph.microsoft.com"));
        assert!(has(&query, "api-version", "2019-08-01"));
        assert!(has(&query, "client_id", "uami-1"));
        assert_eq!(request.headers["x-identity-header"], HEADER_SECRET);
        assert_eq!(request.headers["metadata"], "true");
    }
}

#[tokio::test]
async fn expires_in_is_accepted_and_tokens_are_cached_until_forced() {
    let server = MockServer::start().await;
    server.route(
        "GET",
        "/token",
        vec![Reply::json(
            200,
            json!({"access_token": "t", "expires_in": "3600"}),
        )],
    );
    let endpoint = format!("{}/token", server.url());
    let env = env(&[
        ("IDENTITY_ENDPOINT", &endpoint),
        ("IDENTITY_HEADER", HEADER_SECRET),
    ]);
    let credential = Credential::from_environment(&env, Cloud::UsGov, &http()).unwrap();
    assert_eq!(credential.scope(), "https://graph.microsoft.us/.default");
    credential.token(false).await.unwrap();
    credential.token(false).await.unwrap();
    assert_eq!(server.requests().len(), 1);
    credential.token(true).await.unwrap();
    assert_eq!(server.requests().len(), 2);
    let query = query(&server.requests()[0]);
    assert!(has(&query, "resource", "https://graph.microsoft.us"));
    assert!(
        !query.iter().any(|(k, _)| k == "client_id"),
        "system-assigned"
    );
}

#[tokio::test]
async fn hybrid_worker_legacy_protocol() {
    let server = MockServer::start().await;
    server.route(
        "GET",
        "/oauth2/token",
        vec![Reply::json(
            200,
            json!({"access_token": "msi-token", "expires_on": "11/29/2030 10:00:00 PM +00:00",
                   "resource": "https://graph.microsoft.com", "token_type": "Bearer"}),
        )],
    );
    let endpoint = format!("{}/oauth2/token", server.url());
    let env = env(&[
        ("MSI_ENDPOINT", &endpoint),
        ("MSI_SECRET", HEADER_SECRET),
        ("AZURE_CLIENT_ID", "uami-2"),
    ]);
    let credential = Credential::from_environment(&env, Cloud::Global, &http()).unwrap();
    assert!(matches!(
        credential.kind(),
        CredentialKind::HybridWorkerManagedIdentity { .. }
    ));
    let token = credential.token(false).await.unwrap();
    assert_eq!(token.expires_at, datetime!(2030-11-29 22:00:00 UTC));
    let request = server.requests().pop().unwrap();
    let query = query(&request);
    assert!(has(&query, "api-version", "2017-09-01"));
    assert!(has(&query, "clientid", "uami-2"));
    assert_eq!(request.headers["secret"], HEADER_SECRET);
}

#[tokio::test]
async fn endpoint_refusal_is_clear_and_secret_free() {
    let server = MockServer::start().await;
    server.route(
        "GET",
        "/msi/token",
        vec![Reply::json(
            400,
            json!({"error": "invalid_request", "error_description": "Identity not found"}),
        )],
    );
    let endpoint = format!("{}/msi/token", server.url());
    let env = env(&[
        ("IDENTITY_ENDPOINT", &endpoint),
        ("IDENTITY_HEADER", HEADER_SECRET),
    ]);
    let credential = Credential::from_environment(&env, Cloud::Global, &http()).unwrap();
    let error = credential.token(false).await.unwrap_err();
    let job = error.to_job_error();
    assert_eq!(job.code, ErrorCode::AuthenticationFailed);
    assert!(
        job.message.contains("Identity not found"),
        "{}",
        job.message
    );
    assert!(job.message.contains("managed identity"));
    assert!(!job.message.contains(HEADER_SECRET));
    assert!(!format!("{error:?} {credential:?}").contains(HEADER_SECRET));
}

/// An HTTPS token server with a test CA, and the environment that trusts it.
struct EntraFixture {
    server: MockServer,
    ca: TestCa,
}

impl EntraFixture {
    async fn new(token_reply: Reply) -> Self {
        let ca = TestCa::new();
        let server = MockServer::start_tls(ca.acceptor()).await;
        server.route("POST", "/tenant-1/oauth2/v2.0/token", vec![token_reply]);
        Self { server, ca }
    }

    fn env(&self, extra: &[(&str, &str)]) -> Environment {
        let url = self.server.url();
        let ca = self.ca.file().to_str().unwrap();
        let mut pairs = vec![
            ("AZURE_TENANT_ID", "tenant-1"),
            ("AZURE_CLIENT_ID", "app-1"),
            ("AZURE_AUTHORITY_HOST", url.as_str()),
            ("TAP_RUNBOOK_CA_FILE", ca),
        ];
        pairs.extend_from_slice(extra);
        env(&pairs)
    }

    fn form(&self) -> Vec<(String, String)> {
        form(&self.server.requests().pop().unwrap().body)
    }
}

fn entra_token(token: &str) -> Reply {
    Reply::json(
        200,
        json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}),
    )
}

#[tokio::test]
async fn client_secret_over_loopback_https() {
    let entra = EntraFixture::new(entra_token("entra-token")).await;
    let env = entra.env(&[("AZURE_CLIENT_SECRET", CLIENT_SECRET)]);
    let http = build_http_client(&HttpSettings::from_environment(&env)).unwrap();
    let credential = Credential::from_environment(&env, Cloud::Global, &http).unwrap();
    assert_eq!(
        credential.kind().to_string(),
        "client secret (client id app-1)"
    );
    let token = credential.token(false).await.unwrap();
    assert_eq!(token.token.expose(), "entra-token");
    let form = entra.form();
    assert!(has(&form, "client_id", "app-1"));
    assert!(has(&form, "client_secret", CLIENT_SECRET));
    assert!(has(&form, "grant_type", "client_credentials"));
    assert!(has(&form, "scope", "https://graph.microsoft.com/.default"));

    credential.token(false).await.unwrap();
    assert_eq!(entra.server.requests().len(), 1, "cached");
    credential.token(true).await.unwrap();
    assert_eq!(
        entra.server.requests().len(),
        2,
        "a forced refresh bypasses azure_identity's cache too"
    );
}

#[tokio::test]
async fn client_secret_refusal_is_clear_and_secret_free() {
    let refusal = Reply::json(
        401,
        json!({"error": "invalid_client", "error_codes": [7000215],
               "error_description": "AADSTS7000215: Invalid client secret provided."}),
    );
    let entra = EntraFixture::new(refusal).await;
    let env = entra.env(&[("AZURE_CLIENT_SECRET", CLIENT_SECRET)]);
    let http = build_http_client(&HttpSettings::from_environment(&env)).unwrap();
    let credential = Credential::from_environment(&env, Cloud::Global, &http).unwrap();
    let error = credential.token(false).await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("AADSTS7000215"), "{message}");
    assert!(!message.contains(CLIENT_SECRET));
    assert!(!message.contains('\n'));
    assert!(!format!("{error:?} {credential:?} {env:?}").contains(CLIENT_SECRET));
}

#[tokio::test]
async fn the_extra_root_is_what_makes_loopback_https_work() {
    let entra = EntraFixture::new(entra_token("entra-token")).await;
    let url = format!("{}/tenant-1/oauth2/v2.0/token", entra.server.url());
    let error = http().post(&url).send().await.unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    let trusting = build_http_client(&HttpSettings::from_environment(&entra.env(&[]))).unwrap();
    assert_eq!(trusting.post(&url).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn workload_identity_over_loopback_https() {
    let entra = EntraFixture::new(entra_token("federated-entra-token")).await;
    let token_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token_file.path(), "kubernetes-service-account-jwt").unwrap();
    let env = entra.env(&[(
        "AZURE_FEDERATED_TOKEN_FILE",
        token_file.path().to_str().unwrap(),
    )]);
    let http = build_http_client(&HttpSettings::from_environment(&env)).unwrap();
    let credential = Credential::from_environment(&env, Cloud::Global, &http).unwrap();
    assert_eq!(
        credential.kind(),
        &CredentialKind::WorkloadIdentity {
            client_id: "app-1".into()
        }
    );
    let token = credential.token(false).await.unwrap();
    assert_eq!(token.token.expose(), "federated-entra-token");
    let form = entra.form();
    assert!(has(
        &form,
        "client_assertion",
        "kubernetes-service-account-jwt"
    ));
    assert!(has(
        &form,
        "client_assertion_type",
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ));
    assert!(has(&form, "scope", "https://graph.microsoft.com/.default"));
}

/// A client that sends plain-http requests to `proxy`: IMDS's fixed address
/// 169.254.169.254 then reaches the loopback server and nothing leaves the machine.
fn through_proxy(proxy: &MockServer) -> reqwest::Client {
    reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(proxy.url()).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn instance_metadata_through_a_loopback_proxy() {
    let proxy = MockServer::start().await;
    proxy.route(
        "GET",
        "/metadata/identity/oauth2/token",
        vec![Reply::json(
            200,
            json!({"access_token": "imds-token", "expires_on": "1924941600",
                   "resource": "https://graph.microsoft.com", "token_type": "Bearer"}),
        )],
    );
    let env = env(&[("AZURE_CLIENT_ID", "uami-3")]);
    let credential =
        Credential::from_environment(&env, Cloud::Global, &through_proxy(&proxy)).unwrap();
    assert_eq!(
        credential.kind().to_string(),
        "managed identity (Azure instance metadata service, user-assigned, client id uami-3)"
    );
    let token = credential.token(false).await.unwrap();
    assert_eq!(token.token.expose(), "imds-token");
    let request = proxy.requests().pop().unwrap();
    assert!(
        request
            .target
            .starts_with("http://169.254.169.254/metadata/identity/oauth2/token?"),
        "{}",
        request.target
    );
    let query = query(&request);
    assert!(has(&query, "resource", "https://graph.microsoft.com"));
    assert!(has(&query, "client_id", "uami-3"));
    assert_eq!(request.headers["metadata"], "true");
}

#[tokio::test]
async fn silent_instance_metadata_means_no_credential() {
    let proxy = MockServer::start().await;
    proxy.route("GET", "/metadata/", vec![Reply::Hang]);
    let credential = Credential::from_environment(
        &Environment::default(),
        Cloud::Global,
        &through_proxy(&proxy),
    )
    .unwrap()
    .with_timeout(Duration::from_millis(200));
    let started = std::time::Instant::now();
    let error = credential.token(false).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(matches!(error, AuthError::NoCredential(_)));
    let message = error.to_string();
    assert!(message.starts_with("no credential found"), "{message}");
    assert!(message.contains("does not look like an Azure host"));
}

#[test]
fn selection_follows_the_documented_precedence() {
    let token_file = tempfile::NamedTempFile::new().unwrap();
    let file = token_file.path().to_str().unwrap();
    let everything = [
        ("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi"),
        ("IDENTITY_HEADER", HEADER_SECRET),
        ("MSI_ENDPOINT", "http://127.0.0.1:2/msi"),
        ("MSI_SECRET", HEADER_SECRET),
        ("AZURE_FEDERATED_TOKEN_FILE", file),
        ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
        ("AZURE_CLIENT_ID", "app-1"),
        ("AZURE_TENANT_ID", "tenant-1"),
    ];
    let expected = [
        "managed identity (Azure Automation / App Service endpoint, user-assigned, client id app-1)",
        "managed identity (hybrid worker, legacy MSI endpoint, user-assigned, client id app-1)",
        "workload identity federation (client id app-1)",
        "client secret (client id app-1)",
    ];
    // Drop the settings one pair at a time, from the top.
    for (skip, kind) in [0usize, 2, 4, 5].into_iter().zip(expected) {
        let env: Environment = everything[skip..].iter().copied().collect();
        let credential = Credential::from_environment(&env, Cloud::Global, &http()).unwrap();
        assert_eq!(credential.kind().to_string(), kind);
        assert!(!kind.contains(CLIENT_SECRET) && !kind.contains(HEADER_SECRET));
    }
    let none =
        Credential::from_environment(&Environment::default(), Cloud::Global, &http()).unwrap();
    assert_eq!(
        none.kind(),
        &CredentialKind::InstanceMetadata { client_id: None }
    );
}

#[test]
fn partial_settings_are_errors_unless_a_complete_one_follows() {
    for (pairs, mention) in [
        (
            vec![("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi")],
            "IDENTITY_HEADER is not",
        ),
        (vec![("MSI_SECRET", "x")], "MSI_ENDPOINT is not"),
        (
            vec![
                ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
                ("AZURE_CLIENT_ID", "app-1"),
            ],
            "AZURE_TENANT_ID",
        ),
        (
            vec![
                ("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent"),
                ("AZURE_TENANT_ID", "t"),
            ],
            "AZURE_CLIENT_ID",
        ),
    ] {
        let error = Credential::from_environment(&env(&pairs), Cloud::Global, &http()).unwrap_err();
        assert!(matches!(error, AuthError::Configuration(_)));
        let message = error.to_string();
        assert!(message.contains(mention), "{message}");
        assert!(!message.contains(CLIENT_SECRET));
    }
    let later_wins = env(&[
        ("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi"),
        ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
        ("AZURE_CLIENT_ID", "app-1"),
        ("AZURE_TENANT_ID", "tenant-1"),
    ]);
    let credential = Credential::from_environment(&later_wins, Cloud::Global, &http()).unwrap();
    assert!(matches!(
        credential.kind(),
        CredentialKind::ClientSecret { .. }
    ));
}

#[test]
fn authority_host_must_be_https_and_token_file_must_exist() {
    let plain = env(&[
        ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
        ("AZURE_CLIENT_ID", "app-1"),
        ("AZURE_TENANT_ID", "tenant-1"),
        ("AZURE_AUTHORITY_HOST", "http://127.0.0.1:9"),
    ]);
    let error = Credential::from_environment(&plain, Cloud::Global, &http()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("AZURE_AUTHORITY_HOST must be an https URL")
    );

    let missing = env(&[
        ("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent/token"),
        ("AZURE_CLIENT_ID", "app-1"),
        ("AZURE_TENANT_ID", "tenant-1"),
    ]);
    let error = Credential::from_environment(&missing, Cloud::Global, &http()).unwrap_err();
    assert!(error.to_string().contains("/nonexistent/token"), "{error}");
}

#[test]
fn a_missing_ca_bundle_is_a_clear_error() {
    let settings =
        HttpSettings::from_environment(&env(&[("TAP_RUNBOOK_CA_FILE", "/nonexistent/ca.pem")]));
    let error = build_http_client(&settings).unwrap_err();
    assert!(error.to_string().contains("TAP_RUNBOOK_CA_FILE"));
}
