//! Token endpoints: the managed-identity endpoint Azure Automation and App Service expose
//! (`IDENTITY_ENDPOINT`, and the legacy `MSI_ENDPOINT` protocol), and Entra's v2.0 token
//! endpoint for client credentials.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::form;
use crate::state::{SimulatorState, lock};
use crate::tenant_file::ExpiresOnFormat;

/// `GET /msi/token?resource=…&api-version=2019-08-01` with `X-IDENTITY-HEADER` (Automation,
/// App Service), or `api-version=2017-09-01` with `secret` (hybrid workers, legacy). Without
/// `api-version` the endpoint answers as for 2019-08-01: Azure Automation's own sample sends none.
pub(crate) async fn managed_identity_token(
    State(sim): State<Arc<SimulatorState>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let pairs = form::decode_pairs(uri.query().unwrap_or_default());
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (secret, client_id) = match form::find(&pairs, "api-version") {
        // The identity header is this protocol's guard; `Metadata: true` belongs to the VM
        // metadata service, and clients such as azure-identity do not send it here.
        None | Some("2019-08-01") => (header("x-identity-header"), form::find(&pairs, "client_id")),
        Some("2017-09-01") => (header("secret"), form::find(&pairs, "clientid")),
        Some(other) => {
            return msi_error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "api-version '{other}' is not supported; use 2019-08-01 (or 2017-09-01 with the secret header)"
                ),
            );
        }
    };
    match secret {
        None => {
            return msi_error(
                StatusCode::BAD_REQUEST,
                "The identity header (X-IDENTITY-HEADER, or secret for api-version 2017-09-01) is missing.",
            );
        }
        Some(s) if s != sim.identity_header.expose() => {
            return msi_error(
                StatusCode::UNAUTHORIZED,
                "The identity header does not match this endpoint.",
            );
        }
        Some(_) => {}
    }
    let Some(resource) = form::find(&pairs, "resource").filter(|r| !r.is_empty()) else {
        return msi_error(
            StatusCode::BAD_REQUEST,
            "The 'resource' query parameter is required.",
        );
    };
    if client_id.is_some_and(|c| !c.eq_ignore_ascii_case(&sim.app.client_id)) {
        return msi_error(
            StatusCode::BAD_REQUEST,
            "Unable to load the requested managed identity: no identity with this client id is assigned.",
        );
    }
    managed_identity_answer(&sim, resource)
}

/// A managed-identity token response for `resource`, `expires_on` in the tenant's format.
pub(crate) fn managed_identity_answer(sim: &SimulatorState, resource: &str) -> Response {
    let now = OffsetDateTime::now_utc();
    let (token, issued) = lock(&sim.tokens).issue(&sim.app.roles, resource, now);
    let expires_on = match sim.app.expires_on_format {
        ExpiresOnFormat::EpochString => json!(issued.expires_at.unix_timestamp().to_string()),
        ExpiresOnFormat::EpochNumber => json!(issued.expires_at.unix_timestamp()),
        ExpiresOnFormat::DateTime => json!(managed_identity_date(issued.expires_at)),
    };
    let body = json!({
        "access_token": token.expose(),
        "expires_on": expires_on,
        "resource": resource,
        "token_type": "Bearer",
        "client_id": sim.app.client_id,
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// `11/29/2026 10:00:00 +00:00`, as the 2017-09-01 protocol writes `expires_on`.
fn managed_identity_date(t: OffsetDateTime) -> String {
    format!(
        "{:02}/{:02}/{:04} {:02}:{:02}:{:02} +00:00",
        u8::from(t.month()),
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub(crate) fn msi_error(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "statusCode": status.as_u16(),
        "message": message,
        "correlationId": uuid::Uuid::new_v4().to_string(),
    });
    (status, axum::Json(body)).into_response()
}

/// `POST /{tenant}/oauth2/v2.0/token` with `grant_type=client_credentials`.
pub(crate) async fn client_credentials_token(
    State(sim): State<Arc<SimulatorState>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = form::decode_pairs(&String::from_utf8_lossy(&body));
    let field = |name: &str| form::find(&pairs, name).unwrap_or_default();
    let tenant_id = lock(&sim.tenant).tenant_id.clone();
    if !tenant.eq_ignore_ascii_case(&tenant_id) {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID \
                 and are signing into the correct cloud."
            ),
        );
    }
    if field("grant_type") != "client_credentials" {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type; this endpoint serves client_credentials.",
        );
    }
    if !field("client_id").eq_ignore_ascii_case(&sim.app.client_id) {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{}' was not found in the directory '{tenant_id}'.",
                field("client_id")
            ),
        );
    }
    if field("client_secret") != sim.app.client_secret.expose() {
        return aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the \
             client secret value, not the client secret ID.",
        );
    }
    let scope = field("scope");
    if !scope.ends_with("/.default") {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {scope} is not valid. Client credential flows must \
                 have a scope value with /.default suffixed to the resource identifier."
            ),
        );
    }
    let now = OffsetDateTime::now_utc();
    let audience = scope.trim_end_matches("/.default");
    let (token, issued) = lock(&sim.tokens).issue(&sim.app.roles, audience, now);
    let expires_in = (issued.expires_at - now).whole_seconds();
    let body = json!({
        "token_type": "Bearer",
        "expires_in": expires_in,
        "ext_expires_in": expires_in,
        "access_token": token.expose(),
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Entra's OAuth error shape.
fn aad_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    let now = OffsetDateTime::now_utc();
    let timestamp = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let trace_id = uuid::Uuid::new_v4().to_string();
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let body: Value = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {description} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    (status, axum::Json(body)).into_response()
}
