//! The Azure Arc Connected Machine agent's identity endpoint: a token request without a key
//! is answered 401 with `WWW-Authenticate: Basic realm=<file>`, the agent having just written
//! a fresh random key to that file; the request repeated with `Authorization: Basic <key>`
//! gets the token. Only a client that can read the agent's tokens folder can answer.

use std::path::Path;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::form;
use super::identity::{managed_identity_answer, msi_error};
use crate::pass::{new_id, random_alphanumeric};
use crate::state::{SimulatorState, lock};

/// `GET /metadata/identity/oauth2/token?api-version=2020-06-01&resource=…` with `Metadata: true`.
pub(crate) async fn arc_token(
    State(sim): State<Arc<SimulatorState>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Some(folder) = sim.app.arc_key_folder.as_deref() else {
        return msi_error(
            StatusCode::NOT_FOUND,
            "This tenant does not simulate an Azure Arc agent (app.arcKeyFolder is not set).",
        );
    };
    let pairs = form::decode_pairs(uri.query().unwrap_or_default());
    if !matches!(
        form::find(&pairs, "api-version"),
        Some("2019-11-01" | "2020-06-01")
    ) {
        return msi_error(
            StatusCode::BAD_REQUEST,
            "api-version is missing or not supported; use 2020-06-01.",
        );
    }
    let metadata = headers.get("metadata").and_then(|v| v.to_str().ok());
    if !metadata.is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return msi_error(
            StatusCode::BAD_REQUEST,
            "Required metadata header not specified.",
        );
    }
    let Some(resource) = form::find(&pairs, "resource").filter(|r| !r.is_empty()) else {
        return msi_error(
            StatusCode::BAD_REQUEST,
            "The 'resource' query parameter is required.",
        );
    };
    if ["client_id", "object_id", "msi_res_id"]
        .iter()
        .any(|p| form::find(&pairs, p).is_some())
    {
        return msi_error(
            StatusCode::BAD_REQUEST,
            "An Azure Arc-enabled server has only a system-assigned identity.",
        );
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    match basic {
        Some(key) if take_challenge(&sim, key) => managed_identity_answer(&sim, resource),
        _ => challenge(&sim, folder),
    }
}

/// Whether `key` is the content of an outstanding challenge's file; that file is then used up.
fn take_challenge(sim: &SimulatorState, key: &str) -> bool {
    let mut outstanding = lock(&sim.arc_challenges);
    let Some(i) = outstanding
        .iter()
        .position(|file| std::fs::read_to_string(file).is_ok_and(|content| content == key))
    else {
        return false;
    };
    let _ = std::fs::remove_file(outstanding.remove(i));
    true
}

/// Writes a fresh key file and answers 401 naming it.
fn challenge(sim: &SimulatorState, folder: &Path) -> Response {
    let file = folder.join(format!("{}.key", new_id()));
    if let Err(e) = std::fs::write(&file, random_alphanumeric(48)) {
        return msi_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!(
                "cannot write the challenge key file in {}: {e}",
                folder.display()
            ),
        );
    }
    let realm = format!("Basic realm={}", file.display());
    lock(&sim.arc_challenges).push(file);
    let mut response = msi_error(
        StatusCode::UNAUTHORIZED,
        "A key from the agent's tokens folder is required; read the file named by WWW-Authenticate.",
    );
    if let Ok(value) = HeaderValue::from_str(&realm) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response.into_response()
}
