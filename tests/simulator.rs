//! Integration tests: the simulated tenant, driven over HTTP as a client would.

mod conformance;
mod csdl;
mod fidelity;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use tap_runbook::simulate::{
    ExistingPassRule, ExpiresOnFormat, FaultSpec, RetryAfter, Simulator, SimulatorError,
    TenantFile, banner,
};

const V1: &str = "/v1.0";
const ADELE_ID: &str = "0a5e7f3c-1d2b-4c8e-9f6a-7b3c2d1e0f91";
const ADELE: &str = "adele.vance@contoso.com";
const ALEX: &str = "alex.wilber@contoso.com";
const GUEST: &str = "nestor_fabrikam.com#EXT#@contoso.onmicrosoft.com";
const SENDER: &str = "it-service@contoso.com";

fn fixture(name: &str) -> TenantFile {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    TenantFile::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn taps(user: &str) -> String {
    format!("{V1}/users/{user}/authentication/temporaryAccessPassMethods")
}

/// A running simulator plus an HTTP client holding a token it issued.
struct Tenant {
    sim: Simulator,
    http: reqwest::Client,
    token: String,
}

impl Tenant {
    async fn start(name: &str) -> Tenant {
        Self::with(fixture(name)).await
    }

    async fn with(tenant: TenantFile) -> Tenant {
        let sim = Simulator::start(tenant, loopback()).await.unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut t = Tenant {
            sim,
            http,
            token: String::new(),
        };
        let (status, body) = t.managed_identity_token().await;
        assert_eq!(status, StatusCode::OK, "{body}");
        t.token = body["access_token"].as_str().unwrap().to_owned();
        t
    }

    fn env(&self, name: &str) -> String {
        let env = self.sim.client_env();
        env.into_iter().find(|(k, _)| k == name).unwrap().1
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    async fn managed_identity_token(&self) -> (StatusCode, Value) {
        self.managed_identity_request(Some(&self.env("IDENTITY_HEADER")), true)
            .await
    }

    /// A 2019-08-01 managed-identity request with the given identity header and, if asked,
    /// `Metadata: true`.
    async fn managed_identity_request(
        &self,
        identity_header: Option<&str>,
        metadata: bool,
    ) -> (StatusCode, Value) {
        let mut request = self.http.get(self.env("IDENTITY_ENDPOINT")).query(&[
            ("resource", "https://graph.microsoft.com"),
            ("api-version", "2019-08-01"),
        ]);
        if let Some(value) = identity_header {
            request = request.header("X-IDENTITY-HEADER", value);
        }
        if metadata {
            request = request.header("Metadata", "true");
        }
        let response = request.send().await.unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn create_pass(&self, user: &str, body: Value) -> (StatusCode, Value) {
        let response = self.post(&taps(user), body).await;
        (response.status(), response.json().await.unwrap())
    }
}

async fn graph_error(response: reqwest::Response) -> (StatusCode, GraphErrorBody) {
    let status = response.status();
    let body: GraphErrorBody = response.json().await.unwrap();
    (status, body)
}

// Shapes from the Graph reference examples; unknown fields are refused so the simulator's
// responses cannot drift from them unnoticed.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GraphErrorBody {
    error: GraphErrorDetail,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GraphErrorDetail {
    code: String,
    message: String,
    #[serde(rename = "innerError")]
    inner_error: InnerError,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InnerError {
    date: String,
    #[serde(rename = "request-id")]
    request_id: String,
    #[serde(rename = "client-request-id")]
    client_request_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TapMethod {
    #[serde(rename = "@odata.context")]
    context: Option<String>,
    #[serde(rename = "@odata.type")]
    odata_type: Option<String>,
    id: String,
    temporary_access_pass: Option<String>,
    created_date_time: String,
    start_date_time: String,
    lifetime_in_minutes: u32,
    is_usable_once: bool,
    is_usable: bool,
    method_usability_reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TapMethodList {
    #[serde(rename = "@odata.context")]
    context: String,
    value: Vec<TapMethod>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TapPolicyConfiguration {
    #[serde(rename = "@odata.context")]
    _context: String,
    #[serde(rename = "@odata.type")]
    odata_type: String,
    id: String,
    state: String,
    default_lifetime_in_minutes: u32,
    default_length: u32,
    minimum_lifetime_in_minutes: u32,
    maximum_lifetime_in_minutes: u32,
    is_usable_once: bool,
    #[serde(rename = "includeTargets@odata.context")]
    _include_targets_context: String,
    include_targets: Vec<Value>,
    exclude_targets: Vec<Value>,
}

// ---- tenant file -------------------------------------------------------------------------

#[test]
fn every_fixture_loads() {
    fixture("tenant.json");
    let dir = format!("{}/fixtures/tenants", env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        TenantFile::load(&path).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn tenant_file_errors_name_the_bad_field() {
    let base = json!({
        "tenantId": "t", "app": { "clientId": "c", "clientSecret": "s", "roles": [] },
        "users": [{ "id": "u1", "userPrincipalName": "a@contoso.com" }]
    });
    let error_for = |patch: &dyn Fn(&mut Value)| {
        let mut doc = base.clone();
        patch(&mut doc);
        TenantFile::from_json(&doc.to_string())
            .unwrap_err()
            .to_string()
    };
    assert!(TenantFile::from_json(&base.to_string()).is_ok());
    let e = error_for(&|d| d["users"][0]["mailbox"] = json!("yes"));
    assert!(e.contains("users[0].mailbox"), "{e}");
    let e = error_for(&|d| d["users"][0]["mial"] = json!("x"));
    assert!(e.contains("mial"), "{e}");
    let e = error_for(&|d| d["policy"] = json!({ "defaultLength": 4 }));
    assert!(e.contains("policy.defaultLength"), "{e}");
    let e = error_for(&|d| d["users"][0]["userPrincipalName"] = json!("no-at-sign"));
    assert!(e.contains("users[0].userPrincipalName"), "{e}");
    let e =
        error_for(&|d| d["faults"] = json!([{ "path": "/v1.0/**", "status": 503, "reset": true }]));
    assert!(e.contains("faults[0].status"), "{e}");
    let e = error_for(&|d| d["faults"] = json!([{ "path": "/v1.0/**" }]));
    assert!(e.contains("does nothing"), "{e}");
}

#[tokio::test]
async fn refuses_to_listen_beyond_loopback() {
    let error = Simulator::start(fixture("tenant.json"), "0.0.0.0:0".parse().unwrap())
        .await
        .err()
        .unwrap();
    assert!(matches!(error, SimulatorError::NotLoopback { .. }));
    assert!(error.to_string().contains("loopback"));
}

#[tokio::test]
async fn banner_prints_the_environment_and_shutdown_closes_the_port() {
    let t = Tenant::start("tenant.json").await;
    let text = banner(&t.sim);
    // The lines for the shell the simulator runs in.
    let prefix = if cfg!(windows) { "$env:" } else { "export " };
    let separator = if cfg!(windows) { " = " } else { "=" };
    let exported: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .filter_map(|l| l.split_once(separator).map(|(name, _)| name))
        .collect();
    assert_eq!(
        exported,
        [
            "IDENTITY_ENDPOINT",
            "IDENTITY_HEADER",
            "TAP_RUNBOOK_GRAPH_URL"
        ],
        "the managed-identity set only: {text}"
    );
    assert_eq!(
        text.matches("/v1.0").count(),
        0,
        "the Graph URL is shown one way: {text}"
    );
    assert!(text.contains(&t.sim.base_url()));
    let url = t.url(&format!("{V1}/users/{ADELE}"));
    let Tenant { sim, http, .. } = t;
    sim.shutdown().await.unwrap();
    let fresh = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(fresh.get(url).send().await.unwrap_err().is_connect());
    drop(http);
}

// ---- tokens ------------------------------------------------------------------------------

#[tokio::test]
async fn managed_identity_checks_its_headers() {
    let t = Tenant::start("tenant.json").await;
    let (status, body) = t.managed_identity_token().await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["resource"], "https://graph.microsoft.com");
    let expires_on = body["expires_on"].as_str().unwrap();
    assert!(expires_on.parse::<i64>().unwrap() > time::OffsetDateTime::now_utc().unix_timestamp());

    let (status, _) = t.managed_identity_request(Some("wrong"), true).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = t.managed_identity_request(None, true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let header = t.env("IDENTITY_HEADER");
    let (status, _) = t.managed_identity_request(Some(&header), false).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the App Service protocol does not need Metadata: true"
    );

    // The legacy hybrid-worker protocol: `secret` header, api-version 2017-09-01.
    let legacy = t
        .http
        .get(t.env("IDENTITY_ENDPOINT"))
        .query(&[
            ("resource", "https://graph.microsoft.com"),
            ("api-version", "2017-09-01"),
        ])
        .header("secret", t.env("IDENTITY_HEADER"))
        .send()
        .await
        .unwrap();
    assert_eq!(legacy.status(), StatusCode::OK);
    let token: Value = legacy.json().await.unwrap();
    let users = t
        .http
        .get(t.url(&format!("{V1}/users/{ADELE}")))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), StatusCode::OK);
}

#[tokio::test]
async fn expires_on_can_take_each_format_automation_has_used() {
    for (format, check) in [
        (
            ExpiresOnFormat::EpochNumber,
            (|v: &Value| v.is_i64()) as fn(&Value) -> bool,
        ),
        (ExpiresOnFormat::DateTime, |v: &Value| {
            v.as_str()
                .is_some_and(|s| s.ends_with(" +00:00") && s.contains('/'))
        }),
    ] {
        let mut tenant = fixture("tenant.json");
        tenant.app.expires_on_format = format;
        let t = Tenant::with(tenant).await;
        let (_, body) = t.managed_identity_token().await;
        assert!(check(&body["expires_on"]), "{format:?}: {body}");
    }
}

#[tokio::test]
async fn client_credentials_check_id_secret_and_scope() {
    let t = Tenant::start("tenant.json").await;
    let token_url = t.url(&format!("/{}/oauth2/v2.0/token", t.env("AZURE_TENANT_ID")));
    let request = |secret: String, scope: &str| {
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
            t.env("AZURE_CLIENT_ID"),
            percent(&secret),
            percent(scope)
        );
        t.http
            .post(&token_url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
    };
    let ok = request(
        t.env("AZURE_CLIENT_SECRET"),
        "https://graph.microsoft.com/.default",
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 3000);
    let user = t
        .http
        .get(t.url(&format!("{V1}/users/{ADELE}")))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), StatusCode::OK);

    let bad = request("wrong".into(), "https://graph.microsoft.com/.default")
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"], json!([7000215]));
    for field in [
        "error_description",
        "trace_id",
        "correlation_id",
        "timestamp",
    ] {
        assert!(body[field].is_string(), "{field}: {body}");
    }
    assert!(!body.to_string().contains(&t.env("AZURE_CLIENT_SECRET")));

    let bad_scope = request(
        t.env("AZURE_CLIENT_SECRET"),
        "https://graph.microsoft.com/User.Read.All",
    )
    .await
    .unwrap();
    assert_eq!(bad_scope.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad_scope.json().await.unwrap();
    assert_eq!(body["error"], "invalid_scope");

    let other_tenant = t
        .http
        .post(t.url("/contoso.onmicrosoft.com/oauth2/v2.0/token"))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(other_tenant.status(), StatusCode::BAD_REQUEST);
}

fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn graph_requires_an_issued_unexpired_token() {
    let t = Tenant::start("tenant.json").await;
    let url = t.url(&format!("{V1}/users/{ADELE}"));
    let (status, body) = graph_error(t.http.get(&url).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body.error.code, "InvalidAuthenticationToken");

    let forged = t.http.get(&url).bearer_auth("forged").send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(
        t.get(&format!("{V1}/users/{ADELE}")).await.status(),
        StatusCode::OK
    );
    t.sim.expire_tokens();
    let (status, body) = graph_error(t.get(&format!("{V1}/users/{ADELE}")).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body.error.message.contains("expired"),
        "{}",
        body.error.message
    );

    // A fresh token works again; the inspection route expires it too.
    let (_, fresh) = t.managed_identity_token().await;
    let fresh = fresh["access_token"].as_str().unwrap();
    let again = t.http.get(&url).bearer_auth(fresh).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let expire = t
        .http
        .post(t.url("/_sim/expire-tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(expire.status(), StatusCode::NO_CONTENT);
    let after = t.http.get(&url).bearer_auth(fresh).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

// ---- permissions -------------------------------------------------------------------------

#[tokio::test]
async fn app_roles_are_checked_per_route() {
    let t = Tenant::start("tenants/no-policy-permission.json").await;
    let (status, body) = graph_error(
        t.get(&format!(
            "{V1}/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass"
        ))
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body.error.code, "Authorization_RequestDenied");
    assert_eq!(
        body.error.message,
        "Insufficient privileges to complete the operation."
    );

    let t = Tenant::start("tenants/no-mail-permission.json").await;
    let (status, body) = graph_error(
        t.post(&format!("{V1}/users/{SENDER}/sendMail"), mail_to(ADELE))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body.error.code, "ErrorAccessDenied");
    assert_eq!(
        body.error.message,
        "Access is denied. Check credentials and try again."
    );

    let mut read_only = fixture("tenant.json");
    read_only.app.roles = vec![
        "User.Read.All".into(),
        "UserAuthenticationMethod.Read.All".into(),
    ];
    let t = Tenant::with(read_only).await;
    assert_eq!(t.get(&taps(ADELE)).await.status(), StatusCode::OK);
    let (status, body) = graph_error(t.post(&taps(ADELE), json!({})).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body.error.code, "Authorization_RequestDenied");

    let mut directory_only = fixture("tenant.json");
    directory_only.app.roles = vec!["Directory.Read.All".into()];
    let t = Tenant::with(directory_only).await;
    assert_eq!(
        t.get(&format!("{V1}/users/{ADELE}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(t.get(&taps(ADELE)).await.status(), StatusCode::FORBIDDEN);
}

// ---- users -------------------------------------------------------------------------------

#[tokio::test]
async fn users_are_found_by_id_upn_and_key_form() {
    let t = Tenant::start("tenant.json").await;
    let id_of = |v: Value| v["id"].as_str().unwrap().to_owned();
    for path in [
        format!("{V1}/users/{ADELE_ID}"),
        format!("{V1}/users/ADELE.Vance@Contoso.com"),
        format!("/beta/users/{ADELE}"),
        format!("{V1}/users('{ADELE}')"),
    ] {
        let response = t.get(&path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(id_of(response.json().await.unwrap()), ADELE_ID, "{path}");
    }
    let obrien = t
        .get(&format!("{V1}/users('patrick.o''brien@contoso.com')"))
        .await;
    assert_eq!(obrien.status(), StatusCode::OK);
    let body: Value = obrien.json().await.unwrap();
    assert_eq!(body["displayName"], "Patrick O'Brien");

    let dollar = t
        .get(&format!("{V1}/users('$helpdesk.bot@contoso.com')"))
        .await;
    assert_eq!(dollar.status(), StatusCode::OK);

    let guest = t
        .get(&format!("{V1}/users/{}", GUEST.replace('#', "%23")))
        .await;
    assert_eq!(guest.status(), StatusCode::OK);
    let body: Value = guest.json().await.unwrap();
    assert_eq!(body["userPrincipalName"], GUEST);
}

#[tokio::test]
async fn select_returns_only_the_listed_properties() {
    let t = Tenant::start("tenant.json").await;
    let select = "id,userPrincipalName,mail,usageLocation,preferredLanguage,userType,displayName";
    let response = t.get(&format!("{V1}/users/{ADELE}?$select={select}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec!["@odata.context"];
    expected.extend(select.split(','));
    assert_eq!(keys, expected);
    assert_eq!(
        body["@odata.context"],
        format!("https://graph.microsoft.com/v1.0/$metadata#users({select})/$entity")
    );
    assert_eq!(body["userType"], "Member");
    assert_eq!(body["usageLocation"], "DE");

    // Without $select Graph's default set leaves out userType and usageLocation.
    let body: Value = t
        .get(&format!("{V1}/users/{ADELE}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#users/$entity"
    );
    assert!(body.get("userType").is_none() && body.get("usageLocation").is_none());
    assert_eq!(body["businessPhones"], json!([]));

    let no_mail: Value = t
        .get(&format!(
            "{V1}/users/kiosk.operator@contoso.onmicrosoft.com?%24select=mail,userPrincipalName"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(no_mail["mail"], Value::Null);

    let (status, body) = graph_error(
        t.get(&format!("{V1}/users/{ADELE}?$select=id,favouriteColour"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.error.message.contains("favouriteColour"));
}

#[tokio::test]
async fn unknown_user_is_a_404_envelope_with_request_ids() {
    let t = Tenant::start("tenant.json").await;
    let response = t
        .http
        .get(t.url(&format!("{V1}/users/nobody@contoso.com")))
        .bearer_auth(&t.token)
        .header("client-request-id", "my-correlation-1")
        .send()
        .await
        .unwrap();
    let request_id = response.headers()["request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(response.headers()["client-request-id"], "my-correlation-1");
    let (status, body) = graph_error(response).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body.error.code, "Request_ResourceNotFound");
    assert_eq!(
        body.error.message,
        "Resource 'nobody@contoso.com' does not exist or one of its queried reference-property objects are not present."
    );
    assert_eq!(body.error.inner_error.request_id, request_id);
    assert_eq!(body.error.inner_error.client_request_id, "my-correlation-1");
    assert_eq!(
        body.error.inner_error.date.len(),
        "2026-11-29T10:00:00".len()
    );

    let (status, _) = graph_error(t.get(&taps("nobody@contoso.com")).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Successes carry the ids too.
    let ok = t.get(&format!("{V1}/users/{ADELE}")).await;
    assert!(ok.headers().contains_key("request-id"));
}

#[tokio::test]
async fn replication_lag_hides_a_new_user_for_a_few_lookups() {
    let mut tenant = fixture("tenant.json");
    tenant.users[1].replication_lag_lookups = 2;
    let t = Tenant::with(tenant).await;
    let path = format!("{V1}/users/{ALEX}");
    assert_eq!(t.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(t.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(t.get(&path).await.status(), StatusCode::OK);
}

// ---- Temporary Access Pass methods ---------------------------------------------------------

#[tokio::test]
async fn create_returns_the_value_once() {
    let t = Tenant::start("tenant.json").await;
    let response = t
        .post(
            &taps(ALEX),
            json!({ "lifetimeInMinutes": 120, "isUsableOnce": true }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: TapMethod = response.json().await.unwrap();
    assert_eq!(
        created.context.as_deref(),
        Some(
            "https://graph.microsoft.com/v1.0/$metadata#users('alex.wilber@contoso.com')/authentication/temporaryAccessPassMethods/$entity"
        )
    );
    assert_eq!(
        created.odata_type.as_deref(),
        Some("#microsoft.graph.temporaryAccessPassAuthenticationMethod")
    );
    let value = created.temporary_access_pass.clone().unwrap();
    assert_eq!(value.len(), 8);
    assert!(value.chars().any(|c| c.is_ascii_digit()));
    assert!(value.chars().any(|c| !c.is_ascii_alphanumeric()));
    assert_eq!(created.lifetime_in_minutes, 120);
    assert!(created.is_usable_once && created.is_usable);
    assert_eq!(created.method_usability_reason, "EnabledByPolicy");
    assert_eq!(created.start_date_time, created.created_date_time);

    let list: TapMethodList = t.get(&taps(ALEX)).await.json().await.unwrap();
    assert_eq!(
        list.context,
        "https://graph.microsoft.com/v1.0/$metadata#users('alex.wilber@contoso.com')/authentication/temporaryAccessPassMethods"
    );
    assert_eq!(list.value.len(), 1);
    assert_eq!(list.value[0].id, created.id);
    assert_eq!(list.value[0].temporary_access_pass, None);
    assert!(list.value[0].odata_type.is_none());

    let one: TapMethod = t
        .get(&format!("{}/{}", taps(ALEX), created.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one.temporary_access_pass, None);
    assert!(one.odata_type.is_some());

    // Only the inspection route shows the value again.
    let state = t.sim.state();
    let alex = state["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["userPrincipalName"] == ALEX)
        .unwrap();
    assert_eq!(
        alex["temporaryAccessPasses"][0]["temporaryAccessPass"],
        value
    );
    assert!(state["_note"].as_str().unwrap().contains("testing only"));
}

#[tokio::test]
async fn a_user_has_at_most_one_pass() {
    // Graph's behaviour by default: a create replaces the pass the user has.
    let t = Tenant::start("tenant.json").await;
    let list: TapMethodList = t.get(&taps(ADELE)).await.json().await.unwrap();
    assert_eq!(list.value.len(), 1, "the fixture gives Adele a pass");
    let (status, created) = t.create_pass(ADELE, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let list: TapMethodList = t.get(&taps(ADELE)).await.json().await.unwrap();
    assert_eq!(list.value.len(), 1);
    assert_eq!(list.value[0].id, created["id"].as_str().unwrap());

    // Refusing instead, when the tenant asks for it: catches a client that skips the delete.
    let mut tenant = fixture("tenant.json");
    tenant.existing_pass_on_create = ExistingPassRule::Reject;
    let t = Tenant::with(tenant).await;
    let list: TapMethodList = t.get(&taps(ADELE)).await.json().await.unwrap();
    let existing = &list.value[0].id;
    let (status, body) = graph_error(t.post(&taps(ADELE), json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.error.message.contains("only have one"),
        "{}",
        body.error.message
    );
    let delete = t
        .call(Method::DELETE, &format!("{}/{existing}", taps(ADELE)), None)
        .await;
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    let again = t
        .call(Method::DELETE, &format!("{}/{existing}", taps(ADELE)), None)
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let (status, _) = t.create_pass(ADELE, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn policy_bounds_and_defaults_apply_to_create() {
    let t = Tenant::start("tenant.json").await;
    let policy: TapPolicyConfiguration = t
        .get(&format!(
            "{V1}/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        policy.odata_type,
        "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration"
    );
    assert_eq!(policy.id, "TemporaryAccessPass");
    assert_eq!(policy.state, "enabled");
    assert_eq!(
        (
            policy.default_lifetime_in_minutes,
            policy.minimum_lifetime_in_minutes,
            policy.maximum_lifetime_in_minutes,
            policy.default_length,
            policy.is_usable_once
        ),
        (60, 60, 480, 8, false)
    );
    assert_eq!(policy.include_targets[0]["id"], "all_users");
    assert!(policy.exclude_targets.is_empty());

    for lifetime in [30, 481, -5] {
        let (status, body) = graph_error(
            t.post(&taps(ALEX), json!({ "lifetimeInMinutes": lifetime }))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.error.message.contains("between 60 and 480"),
            "{}",
            body.error.message
        );
    }
    let (status, body) = graph_error(
        t.post(&taps(ALEX), json!({ "lifetimeInMinutes": "sixty" }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.error.message.contains("Edm.Int32"));
    let (status, created) = t.create_pass(ALEX, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["lifetimeInMinutes"], 60);
    assert_eq!(created["isUsableOnce"], false);
}

#[tokio::test]
async fn a_disabled_policy_refuses_every_pass() {
    let t = Tenant::start("tenants/policy-disabled.json").await;
    let (status, body) = graph_error(t.post(&taps(ALEX), json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.error
            .message
            .contains("UserCredentialPolicy does not allow creating"),
        "{}",
        body.error.message
    );
}

#[tokio::test]
async fn a_one_time_policy_forces_one_time_passes() {
    let t = Tenant::start("tenants/one-time-forced.json").await;
    let (status, body) =
        graph_error(t.post(&taps(ALEX), json!({ "isUsableOnce": false })).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.error.message.contains("one-time"),
        "{}",
        body.error.message
    );
    let (status, created) = t.create_pass(ALEX, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["isUsableOnce"], true);
}

#[tokio::test]
async fn usability_follows_start_time_expiry_and_targeting() {
    let mut tenant = fixture("tenant.json");
    tenant.users[2].tap_excluded_by_policy = true; // Isabelle
    let t = Tenant::with(tenant).await;
    let format = &time::format_description::well_known::Rfc3339;
    let in_an_hour = (time::OffsetDateTime::now_utc() + time::Duration::hours(1))
        .format(format)
        .unwrap();
    let (status, created) = t
        .create_pass(ALEX, json!({ "startDateTime": in_an_hour }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["isUsable"], false);
    assert_eq!(created["methodUsabilityReason"], "NotYetValid");

    let ten_minutes_ago = (time::OffsetDateTime::now_utc() - time::Duration::minutes(10))
        .format(format)
        .unwrap();
    let (status, body) = graph_error(
        t.post(&taps(ADELE), json!({ "startDateTime": ten_minutes_ago }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.error.message.contains("past"));

    let adele: TapMethodList = t.get(&taps(ADELE)).await.json().await.unwrap();
    assert_eq!(adele.value[0].method_usability_reason, "Expired");
    assert!(!adele.value[0].is_usable);

    let (status, excluded) = t
        .create_pass("isabelle.dubois@contoso.com", json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(excluded["methodUsabilityReason"], "DisabledByPolicy");
    assert_eq!(excluded["isUsable"], false);
}

#[tokio::test]
async fn guests_can_be_read_but_get_no_pass() {
    let t = Tenant::start("tenant.json").await;
    let guest = GUEST.replace('#', "%23");
    let user: Value = t
        .get(&format!("{V1}/users/{guest}?$select=userType"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["userType"], "Guest");
    assert_eq!(t.get(&taps(&guest)).await.status(), StatusCode::OK);
    let (status, body) = graph_error(t.post(&taps(&guest), json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body.error.message,
        "Temporary Access Pass cannot be added to an external guest user."
    );
}

// ---- sendMail ----------------------------------------------------------------------------

fn mail_to(address: &str) -> Value {
    json!({
        "message": {
            "subject": "A Temporary Access Pass was created for your account",
            "body": { "contentType": "HTML", "content": "<p>Hello</p>" },
            "toRecipients": [{ "emailAddress": { "address": address } }],
            "attachments": [{
                "@odata.type": "#microsoft.graph.fileAttachment",
                "name": "header.png", "contentType": "image/png",
                "contentBytes": "iVBORw0KGgo=", "contentId": "header", "isInline": true
            }]
        },
        "saveToSentItems": true
    })
}

#[tokio::test]
async fn send_mail_is_accepted_into_the_outbox() {
    let t = Tenant::start("tenant.json").await;
    let response = t
        .post(
            &format!("{V1}/users/{SENDER}/sendMail"),
            mail_to("someone@fabrikam.com"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let request_id = response.headers()["request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(response.bytes().await.unwrap().is_empty());

    let outbox = t.sim.outbox();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].sender, SENDER);
    assert_eq!(outbox[0].request_id, request_id);
    assert_eq!(
        outbox[0].body["message"]["toRecipients"][0]["emailAddress"]["address"],
        "someone@fabrikam.com"
    );
    let over_http: Value = t
        .http
        .get(t.url("/_sim/outbox"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_http[0]["sender"], SENDER);

    let mut broken = mail_to(ADELE);
    broken["message"]["toRecipients"] = json!([]);
    let (status, body) = graph_error(
        t.post(&format!("{V1}/users/{SENDER}/sendMail"), broken)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body.error.code, "ErrorInvalidRecipients");
    let mut no_subject = mail_to(ADELE);
    no_subject["message"]
        .as_object_mut()
        .unwrap()
        .remove("subject");
    let (status, body) = graph_error(
        t.post(&format!("{V1}/users/{SENDER}/sendMail"), no_subject)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body.error.code, "ErrorInvalidRequest");
    assert_eq!(t.sim.outbox().len(), 1);
}

#[tokio::test]
async fn a_sender_needs_a_mailbox() {
    let t = Tenant::start("tenant.json").await;
    let (status, body) = graph_error(
        t.post("/v1.0/users/noreply@contoso.com/sendMail", mail_to(ADELE))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body.error.code, "MailboxNotEnabledForRESTAPI");
    assert_eq!(
        body.error.message,
        "The mailbox is either inactive, soft-deleted, or is hosted on-premise."
    );
    let (status, body) = graph_error(
        t.post("/v1.0/users/ghost@contoso.com/sendMail", mail_to(ADELE))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body.error.code, "ErrorInvalidUser");
    assert!(t.sim.outbox().is_empty());
}

// ---- faults and throttling -----------------------------------------------------------------

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

// ---- inspection --------------------------------------------------------------------------

#[tokio::test]
async fn inspection_routes_need_no_token_and_are_not_logged() {
    let t = Tenant::start("tenant.json").await;
    t.get(&format!("{V1}/users/{ADELE}?$select=id")).await;
    let state: Value = t
        .http
        .get(t.url("/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["users"].as_array().unwrap().len(), 12);
    assert_eq!(state["policy"]["maximumLifetimeInMinutes"], 480);
    let requests: Value = t
        .http
        .get(t.url("/_sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths: Vec<&str> = requests
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/msi/token", "/v1.0/users/adele.vance@contoso.com"]);
    assert_eq!(requests[1]["query"], "$select=id");
    assert_eq!(requests[1]["status"], 200);
}

#[tokio::test]
async fn unsupported_methods_and_paths_get_graph_errors() {
    let t = Tenant::start("tenant.json").await;
    let (status, _) = graph_error(
        t.call(
            Method::PATCH,
            &format!("{V1}/users/{ADELE}"),
            Some(json!({})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, body) = graph_error(t.get(&format!("{V1}/groups")).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body.error.message,
        "Resource not found for the segment 'groups'."
    );
}
