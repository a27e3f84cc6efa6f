//! `GET /users/{id | userPrincipalName}/mailboxSettings` with `$select`: Exchange answers for
//! the mailbox, so a user without one is refused in Exchange's words.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};

use super::form;
use super::graph_path::ApiVersion;
use super::mail::mailbox_owner;
use crate::envelope::{GraphError, odata_json};
use crate::state::{SimulatorState, lock};

/// The properties of `microsoft.graph.mailboxSettings` in Graph's v1.0 metadata. Only the
/// time zone is modelled; the others answer `null`, as for a mailbox that never set them.
const MAILBOX_SETTINGS_PROPERTIES: &[&str] = &[
    "archiveFolder",
    "automaticRepliesSetting",
    "dateFormat",
    "delegateMeetingMessageDeliveryOptions",
    "language",
    "timeFormat",
    "timeZone",
    "userPurpose",
    "workingHours",
];

pub(crate) fn get(
    sim: &SimulatorState,
    version: ApiVersion,
    key: &str,
    query: Option<&str>,
) -> Result<Response, GraphError> {
    let (user_id, time_zone) = {
        let tenant = lock(&sim.tenant);
        let user = mailbox_owner(&tenant, key)?;
        (
            user.profile.id.clone(),
            user.profile.mailbox_time_zone.clone(),
        )
    };
    let pairs = form::decode_pairs(query.unwrap_or_default());
    let (selected, context) = match form::find(&pairs, "$select").filter(|s| !s.trim().is_empty()) {
        Some(select) => {
            let names: Vec<&str> = select.split(',').map(str::trim).collect();
            let context = format!("({})", names.join(","));
            (names, context)
        }
        None => (MAILBOX_SETTINGS_PROPERTIES.to_vec(), String::new()),
    };
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        format!(
            "{}#users('{user_id}')/mailboxSettings{context}",
            version.metadata()
        )
        .into(),
    );
    for name in selected {
        let canonical = MAILBOX_SETTINGS_PROPERTIES
            .iter()
            .find(|p| p.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "RequestBroker--ParseUri",
                    format!(
                        "Could not find a property named '{name}' on type 'microsoft.graph.mailboxSettings'."
                    ),
                )
            })?;
        let value = match *canonical {
            "timeZone" => time_zone.clone().map_or(Value::Null, Value::String),
            _ => Value::Null,
        };
        body.insert((*canonical).to_owned(), value);
    }
    Ok(odata_json(StatusCode::OK, &body.into()))
}
