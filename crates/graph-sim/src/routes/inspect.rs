//! Test-only inspection routes under `/_sim`. They need no token, see through every secret
//! the tenant holds, and exist only because this is a simulator.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::state::{SimulatorState, lock};
use crate::tenant_file::FaultSpec;

/// `/_sim/state`, `/_sim/outbox`, `/_sim/requests`, `POST /_sim/faults`, `POST /_sim/expire-tokens`.
pub(crate) fn router() -> Router<Arc<SimulatorState>> {
    Router::new()
        .route("/_sim/state", get(state))
        .route("/_sim/outbox", get(outbox))
        .route("/_sim/requests", get(requests))
        .route("/_sim/faults", post(add_faults))
        .route("/_sim/expire-tokens", post(expire_tokens))
}

async fn state(State(sim): State<Arc<SimulatorState>>) -> Json<Value> {
    Json(lock(&sim.tenant).snapshot(OffsetDateTime::now_utc()))
}

async fn outbox(State(sim): State<Arc<SimulatorState>>) -> Json<Value> {
    Json(json!(*lock(&sim.outbox)))
}

async fn requests(State(sim): State<Arc<SimulatorState>>) -> Json<Value> {
    Json(json!(*lock(&sim.requests)))
}

/// Arms one fault (an object) or several (an array), appended after the existing ones.
async fn add_faults(State(sim): State<Arc<SimulatorState>>, body: Bytes) -> Response {
    let parsed = serde_json::from_slice::<Value>(&body)
        .map_err(|e| e.to_string())
        .and_then(|v| {
            let list = if v.is_array() {
                v
            } else {
                Value::Array(vec![v])
            };
            serde_json::from_value::<Vec<FaultSpec>>(list).map_err(|e| e.to_string())
        })
        .and_then(|faults| {
            faults.iter().enumerate().try_for_each(|(i, f)| {
                f.validate()
                    .map_err(|(field, message)| format!("faults[{i}].{field}: {message}"))
            })?;
            Ok(faults)
        });
    match parsed {
        Ok(faults) => {
            let mut book = lock(&sim.faults);
            for fault in faults {
                book.add(fault);
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(message) => {
            (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
        }
    }
}

/// Makes every token issued so far expire, so the next Graph call answers 401.
async fn expire_tokens(State(sim): State<Arc<SimulatorState>>) -> StatusCode {
    lock(&sim.tokens).expire_all(OffsetDateTime::now_utc());
    StatusCode::NO_CONTENT
}
