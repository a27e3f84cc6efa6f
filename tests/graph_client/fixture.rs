//! A Graph client wired to a scripted loopback server, with a managed-identity token from the
//! same server and an in-memory job log.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tap_runbook::auth::Credential;
use tap_runbook::graph::{GraphClient, GraphConfig};
use tap_runbook::job::{JobLog, MemorySink};
use tap_runbook::net::{
    Cloud, Environment, HttpSettings, RetryPolicy, build_http_client, validate_graph_url,
};
use tokio::time::Instant;

use super::server::{MockServer, Recorded, Reply};

pub const ACCESS_TOKEN: &str = "eyJ0eXAi.first-access-token.sig";
pub const REFRESHED_TOKEN: &str = "eyJ0eXAi.second-access-token.sig";
pub const IDENTITY_SECRET: &str = "identity-header-value-8c1f";
pub const PASS: &str = "Qx7#kT2p!";
pub const USER_ID: &str = "0c9d6a7e-1b2c-4d5e-8f90-a1b2c3d4e5f6";

/// The production policy with millisecond waits.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_tries: 5,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        retry_after_cap: Duration::from_millis(300),
        user_lag_retries: 3,
        user_lag_delay: Duration::from_millis(20),
    }
}

/// A managed-identity token response.
pub fn token_reply(token: &str) -> Reply {
    let expires_on = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    Reply::json(
        200,
        json!({"access_token": token, "expires_on": expires_on.to_string(),
               "resource": "https://graph.microsoft.com", "token_type": "Bearer"}),
    )
}

/// The scripted user's pass collection.
pub fn passes() -> String {
    format!("/v1.0/users/{USER_ID}/authentication/temporaryAccessPassMethods")
}

pub fn user_json() -> serde_json::Value {
    json!({"id": USER_ID, "userPrincipalName": "adele@contoso.com", "mail": "adele@contoso.com",
           "usageLocation": "DE", "preferredLanguage": "de-AT", "userType": "Member",
           "displayName": "Adele Vance"})
}

pub fn created_pass_json() -> serde_json::Value {
    json!({"id": "pass-1", "temporaryAccessPass": PASS, "createdDateTime": "2026-11-29T10:00:00Z",
           "startDateTime": "2026-11-29T10:00:00Z", "lifetimeInMinutes": 60, "isUsableOnce": true,
           "isUsable": true, "methodUsabilityReason": "EnabledByPolicy"})
}

pub struct Fixture {
    pub server: MockServer,
    pub client: GraphClient,
    pub log: MemorySink,
}

impl Fixture {
    pub async fn new() -> Self {
        Self::with_config(|_| {}).await
    }

    pub async fn with_config(tweak: impl FnOnce(&mut GraphConfig)) -> Self {
        let server = MockServer::start().await;
        server.route(
            "GET",
            "/msi/token",
            vec![token_reply(ACCESS_TOKEN), token_reply(REFRESHED_TOKEN)],
        );
        let env: Environment = [
            ("IDENTITY_ENDPOINT", format!("{}/msi/token", server.url())),
            ("IDENTITY_HEADER", IDENTITY_SECRET.to_owned()),
        ]
        .into_iter()
        .collect();
        let http = build_http_client(&HttpSettings::default()).unwrap();
        let credential = Credential::from_environment(&env, Cloud::Global, &http).unwrap();
        let (log, sink) = JobLog::memory();
        let base = validate_graph_url(&server.url()).unwrap();
        let mut config = GraphConfig::new(base, Instant::now() + Duration::from_secs(10));
        config.retry = fast_retry();
        config.request_timeout = Duration::from_secs(2);
        tweak(&mut config);
        let client = GraphClient::new(config, http, Arc::new(credential), log);
        Self {
            server,
            client,
            log: sink,
        }
    }

    /// The Graph requests (not the token requests) the server received.
    pub fn graph_requests(&self) -> Vec<Recorded> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/v1.0/"))
            .collect()
    }

    /// The token requests the server received.
    pub fn token_requests(&self) -> usize {
        self.server.requests_to("GET", "/msi/token").len()
    }

    /// The job log as text, after checking no secret reached it.
    pub fn log_text(&self) -> String {
        let text = self.log.contents();
        for secret in [ACCESS_TOKEN, REFRESHED_TOKEN, IDENTITY_SECRET, PASS] {
            assert!(!text.contains(secret), "a secret reached the log:\n{text}");
        }
        text
    }
}
