//! `GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass`.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::graph_path::ApiVersion;
use crate::envelope::odata_json;
use crate::state::{SimulatorState, lock};

/// The policy shaped like the Graph reference example; targets are always all users, since
/// per-user exclusion is modelled by the user's `tapExcludedByPolicy` flag.
pub(crate) fn get(sim: &SimulatorState, version: ApiVersion) -> Response {
    let policy = lock(&sim.tenant).policy.clone();
    let body = json!({
        "@odata.context": format!("{}#authenticationMethodConfigurations/$entity", version.metadata()),
        "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
        "id": "TemporaryAccessPass",
        "state": policy.state,
        "defaultLifetimeInMinutes": policy.default_lifetime_in_minutes,
        "defaultLength": policy.default_length,
        "minimumLifetimeInMinutes": policy.minimum_lifetime_in_minutes,
        "maximumLifetimeInMinutes": policy.maximum_lifetime_in_minutes,
        "isUsableOnce": policy.is_usable_once,
        "includeTargets@odata.context": format!(
            "{}#policies/authenticationMethodsPolicy/authenticationMethodConfigurations('TemporaryAccessPass')/microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration/includeTargets",
            version.metadata()
        ),
        "includeTargets": [
            { "targetType": "group", "id": "all_users", "isRegistrationRequired": false }
        ],
        "excludeTargets": [],
    });
    odata_json(StatusCode::OK, &body)
}
