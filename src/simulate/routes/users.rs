//! `GET /users/{id | userPrincipalName}` with `$select`.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};

use super::form;
use super::graph_path::ApiVersion;
use crate::simulate::envelope::{GraphError, odata_json};
use crate::simulate::state::{SimulatorState, lock};
use crate::simulate::tenant::DEFAULT_USER_PROPERTIES;

pub(crate) fn get(
    sim: &SimulatorState,
    version: ApiVersion,
    key: &str,
    query: Option<&str>,
) -> Result<Response, GraphError> {
    let pairs = form::decode_pairs(query.unwrap_or_default());
    let select = form::find(&pairs, "$select").filter(|s| !s.trim().is_empty());
    let mut tenant = lock(&sim.tenant);
    let user = tenant.lookup(key)?;
    let all = user.graph_properties();

    let mut body = Map::new();
    match select {
        Some(select) => {
            let selected: Vec<&str> = select.split(',').map(str::trim).collect();
            body.insert(
                "@odata.context".into(),
                format!(
                    "{}#users({})/$entity",
                    version.metadata(),
                    selected.join(",")
                )
                .into(),
            );
            for name in selected {
                let (canonical, value) = all
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .ok_or_else(|| {
                        GraphError::new(
                            StatusCode::BAD_REQUEST,
                            "Request_BadRequest",
                            format!(
                                "Could not find a property named '{name}' on type 'microsoft.graph.user'."
                            ),
                        )
                    })?;
                body.insert(canonical.clone(), value.clone());
            }
        }
        None => {
            body.insert(
                "@odata.context".into(),
                format!("{}#users/$entity", version.metadata()).into(),
            );
            for name in DEFAULT_USER_PROPERTIES {
                body.insert((*name).to_owned(), all[*name].clone());
            }
        }
    }
    Ok(odata_json(StatusCode::OK, &Value::Object(body)))
}
