//! The simulated tenant, driven over HTTP as a client would. Shared support lives here; each
//! module tests one area.

mod conformance;
mod csdl;
mod faults;
mod fidelity;
mod inspection;
mod mail;
mod mailbox_settings;
mod passes;
mod permissions;
mod routes;
mod tenant_file;
mod tokens;
mod users;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use graph_sim::{
    CaFile, ExistingPassRule, ExpiresOnFormat, FaultSpec, RetryAfter, Simulator, SimulatorError,
    TenantFile, banner,
};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

const V1: &str = "/v1.0";
const ADELE_ID: &str = "0a5e7f3c-1d2b-4c8e-9f6a-7b3c2d1e0f91";
const ADELE: &str = "adele.vance@contoso.com";
const ALEX: &str = "alex.wilber@contoso.com";
const GUEST: &str = "nestor_fabrikam.com#EXT#@contoso.onmicrosoft.com";
const SENDER: &str = "it-service@contoso.com";

/// The workspace's tenant files (`fixtures/`), which the client's tests and the README's
/// commands use too.
fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn fixture(name: &str) -> TenantFile {
    TenantFile::load(fixtures().join(name)).unwrap_or_else(|e| panic!("{e}"))
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

    /// An inspection route's answer (`/_sim/…`, no token), as JSON.
    async fn inspect(&self, path: &str) -> Value {
        let response = self.http.get(self.url(path)).send().await.unwrap();
        response.json().await.unwrap()
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

fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

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
