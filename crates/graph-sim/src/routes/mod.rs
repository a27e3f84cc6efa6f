//! The simulator's HTTP surface: Graph, the token endpoints, and the inspection routes.

mod arc_identity;
mod form;
mod graph;
mod graph_path;
mod identity;
mod inspect;
mod mail;
mod mailbox_settings;
mod passes;
mod policy;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use super::pipeline::pipeline;
use super::state::SimulatorState;

/// Every route. The pipeline (latency, faults, throttle, request log) wraps Graph and the
/// token endpoints but not `/_sim/*`, so inspecting never disturbs what is inspected.
pub(crate) fn router(state: Arc<SimulatorState>) -> Router {
    let served = Router::new()
        .route("/msi/token", get(identity::managed_identity_token))
        .route(
            "/metadata/identity/oauth2/token",
            get(arc_identity::arc_token),
        )
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(identity::client_credentials_token),
        )
        .fallback(graph::dispatch)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pipeline,
        ));
    served.merge(inspect::router()).with_state(state)
}
