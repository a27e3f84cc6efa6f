//! `/users/{u}/authentication/temporaryAccessPassMethods[/{id}]`: list, create, get, delete.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::graph_path::ApiVersion;
use crate::envelope::{GraphError, odata_json};
use crate::pass::TemporaryAccessPass;
use crate::state::{SimulatorState, lock};
use crate::tenant::PassRequest;

const ODATA_TYPE: &str = "#microsoft.graph.temporaryAccessPassAuthenticationMethod";

/// `…#users('key')/authentication/temporaryAccessPassMethods`, with the key as addressed.
fn collection_context(version: ApiVersion, key: &str) -> String {
    format!(
        "{}#users('{}')/authentication/temporaryAccessPassMethods",
        version.metadata(),
        key.replace('\'', "''")
    )
}

/// A single method as Graph returns it from create and get: context and type first.
fn entity(
    version: ApiVersion,
    key: &str,
    pass: &TemporaryAccessPass,
    now: OffsetDateTime,
    disabled: bool,
    include_value: bool,
) -> Value {
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        format!("{}/$entity", collection_context(version, key)).into(),
    );
    body.insert("@odata.type".into(), ODATA_TYPE.into());
    body.extend(pass.to_graph(now, disabled, include_value));
    Value::Object(body)
}

pub(crate) fn list(
    sim: &SimulatorState,
    version: ApiVersion,
    key: &str,
    now: OffsetDateTime,
) -> Result<Response, GraphError> {
    let mut tenant = lock(&sim.tenant);
    let user = tenant.lookup(key)?.clone();
    let disabled = tenant.disabled_for(&user);
    let value: Vec<Value> = user
        .passes
        .iter()
        .map(|p| Value::Object(p.to_graph(now, disabled, false)))
        .collect();
    let body = json!({ "@odata.context": collection_context(version, key), "value": value });
    Ok(odata_json(StatusCode::OK, &body))
}

pub(crate) fn get(
    sim: &SimulatorState,
    version: ApiVersion,
    key: &str,
    id: &str,
    now: OffsetDateTime,
) -> Result<Response, GraphError> {
    let mut tenant = lock(&sim.tenant);
    let user = tenant.lookup(key)?.clone();
    let disabled = tenant.disabled_for(&user);
    let pass = user
        .passes
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(id))
        .ok_or_else(|| method_not_found(id))?;
    let body = entity(version, key, pass, now, disabled, false);
    Ok(odata_json(StatusCode::OK, &body))
}

pub(crate) fn create(
    sim: &SimulatorState,
    version: ApiVersion,
    key: &str,
    headers: &HeaderMap,
    body: &Bytes,
    now: OffsetDateTime,
) -> Result<Response, GraphError> {
    require_json(headers)?;
    let request = parse_request(body)?;
    let created = lock(&sim.tenant).create_pass(key, request, now)?;
    let body = entity(version, key, &created.pass, now, created.disabled, true);
    let mut response = odata_json(StatusCode::CREATED, &body);
    // Graph names the new method by the owner's object id, on the host the client addressed.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("graph.microsoft.com");
    let location = format!(
        "{}://{host}/{}/users/{}/authentication/temporaryAccessPassMethods/{}",
        sim.scheme,
        version.as_str(),
        created.user_id,
        created.pass.id
    );
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// Graph's OData layer reads a write body only as JSON: without a `Content-Type` it answers 400,
/// with another media type 415.
fn require_json(headers: &HeaderMap) -> Result<(), GraphError> {
    let Some(content_type) = headers.get(header::CONTENT_TYPE) else {
        return Err(GraphError::invalid_payload(
            "Write requests (excluding DELETE) must contain the Content-Type header declaration.",
        ));
    };
    let media_type = content_type
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media_type == "application/json" {
        return Ok(());
    }
    Err(GraphError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "RequestBodyRead",
        format!(
            "A supported MIME type could not be found that matches the content type of the \
             response. None of the supported type(s) 'application/json' matches the content \
             type '{media_type}'."
        ),
    ))
}

pub(crate) fn delete(sim: &SimulatorState, key: &str, id: &str) -> Result<Response, GraphError> {
    let mut tenant = lock(&sim.tenant);
    let user = tenant.lookup(key)?;
    let before = user.passes.len();
    user.passes.retain(|p| !p.id.eq_ignore_ascii_case(id));
    if user.passes.len() == before {
        return Err(method_not_found(id));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn method_not_found(id: &str) -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "itemNotFound",
        format!("The temporaryAccessPassAuthenticationMethod '{id}' was not found."),
    )
}

/// Reads a create body, refusing what Graph's OData layer refuses: non-JSON, wrong types,
/// properties the type does not have.
fn parse_request(body: &Bytes) -> Result<PassRequest, GraphError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(GraphError::invalid_payload(
            "Empty Payload. JSON content expected.",
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        GraphError::invalid_payload(format!(
            "Unable to read JSON request payload. Please ensure Content-Type header is set and \
             payload is of valid JSON format. ({e})"
        ))
    })?;
    let Value::Object(fields) = value else {
        return Err(GraphError::invalid_payload(
            "The request payload must be a JSON object.",
        ));
    };
    let type_error = |v: &Value, edm: &str| {
        GraphError::invalid_payload(format!(
            "Cannot convert the literal '{v}' to the expected type '{edm}'."
        ))
    };
    let mut request = PassRequest::default();
    for (name, value) in &fields {
        match name.as_str() {
            _ if value.is_null() => {}
            "lifetimeInMinutes" => {
                request.lifetime_in_minutes = Some(
                    value
                        .as_i64()
                        .ok_or_else(|| type_error(value, "Edm.Int32"))?,
                );
            }
            "isUsableOnce" => {
                request.is_usable_once = Some(
                    value
                        .as_bool()
                        .ok_or_else(|| type_error(value, "Edm.Boolean"))?,
                );
            }
            "startDateTime" => {
                let start = value
                    .as_str()
                    .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
                    .ok_or_else(|| type_error(value, "Edm.DateTimeOffset"))?;
                request.start_date_time = Some(start);
            }
            // Annotations and read-only properties are accepted and ignored, as Graph does.
            n if n.starts_with("@odata.") => {}
            "id"
            | "temporaryAccessPass"
            | "createdDateTime"
            | "isUsable"
            | "methodUsabilityReason" => {}
            other => {
                return Err(GraphError::invalid_payload(format!(
                    "The property '{other}' does not exist on type \
                     'microsoft.graph.temporaryAccessPassAuthenticationMethod'. Make sure to \
                     only use property names that are defined by the type."
                )));
            }
        }
    }
    Ok(request)
}
