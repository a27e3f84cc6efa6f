//! `POST /users/{sender}/sendMail`: Exchange's checks, then the outbox.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::Value;

use crate::envelope::{GraphError, RequestContext};
use crate::records::OutboxEntry;
use crate::state::{SimulatorState, lock};
use crate::tenant::{SimulatedTenant, SimulatedUser};

pub(crate) fn send(
    sim: &SimulatorState,
    ctx: &RequestContext,
    sender: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, GraphError> {
    let sender_id = mailbox_owner(&lock(&sim.tenant), sender)?
        .profile
        .id
        .clone();
    let is_mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("text/plain"));
    let body = if is_mime {
        validate_mime(body)?
    } else {
        let body: Value = serde_json::from_slice(body).map_err(|e| {
            invalid_request(format!(
                "Unable to read JSON request payload. Please ensure Content-Type header is set \
                 and payload is of valid JSON format. ({e})"
            ))
        })?;
        validate_message(&camel_case_keys(&body))?;
        body
    };
    lock(&sim.outbox).push(OutboxEntry {
        sender: sender.to_owned(),
        sender_id,
        body,
        request_id: ctx.request_id.clone(),
    });
    Ok(StatusCode::ACCEPTED.into_response())
}

/// The user whose Exchange Online mailbox `key` (id, UPN or address) names, refused in
/// Exchange's words when there is no such user or the user has no mailbox.
pub(super) fn mailbox_owner<'t>(
    tenant: &'t SimulatedTenant,
    key: &str,
) -> Result<&'t SimulatedUser, GraphError> {
    let user = tenant.mail_sender(key).ok_or_else(|| {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "ErrorInvalidUser",
            format!("The requested user '{key}' is invalid."),
        )
    })?;
    if !user.profile.mailbox {
        return Err(GraphError::new(
            StatusCode::NOT_FOUND,
            "MailboxNotEnabledForRESTAPI",
            "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
        ));
    }
    Ok(user)
}

/// Graph reads property names without regard to the case of their first letter (SDKs send
/// `Message`, `Subject`); the checks below see them in the documented camelCase.
fn camel_case_keys(value: &Value) -> Value {
    match value {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let mut chars = k.chars();
                    let key = match chars.next() {
                        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                        None => String::new(),
                    };
                    (key, camel_case_keys(v))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(camel_case_keys).collect()),
        other => other.clone(),
    }
}

fn invalid_request(message: impl Into<String>) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", message)
}

/// The shape the client sends: subject, HTML or text body, at least one recipient (To, Cc or
/// Bcc) with an address, file attachments with valid base64. Recipients are not resolved:
/// Exchange accepts any well-formed external address.
fn validate_message(body: &Value) -> Result<(), GraphError> {
    let message = body
        .get("message")
        .filter(|m| m.is_object())
        .ok_or_else(|| invalid_request("The request body must contain a 'message' object."))?;
    if !message.get("subject").is_some_and(Value::is_string) {
        return Err(invalid_request("The message must have a string 'subject'."));
    }
    let content_type = message
        .pointer("/body/contentType")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    if !matches!(content_type.as_deref(), Some("html" | "text")) {
        return Err(invalid_request(
            "The message 'body' must have a 'contentType' of 'HTML' or 'Text'.",
        ));
    }
    if !message
        .pointer("/body/content")
        .is_some_and(Value::is_string)
    {
        return Err(invalid_request(
            "The message 'body' must have a string 'content'.",
        ));
    }
    // Exchange needs someone to deliver to; To, Cc and Bcc all count.
    let recipients: Vec<&Value> = ["toRecipients", "ccRecipients", "bccRecipients"]
        .iter()
        .filter_map(|field| message.get(*field).and_then(Value::as_array))
        .flatten()
        .collect();
    if recipients.is_empty() {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidRecipients",
            "At least one recipient is required, but none were found.",
        ));
    }
    for recipient in recipients {
        let address = recipient
            .pointer("/emailAddress/address")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if address.matches('@').count() != 1 || address.starts_with('@') || address.ends_with('@') {
            return Err(GraphError::new(
                StatusCode::BAD_REQUEST,
                "ErrorInvalidRecipients",
                format!("At least one recipient isn't valid: '{address}' is not an email address."),
            ));
        }
    }
    if let Some(attachments) = message.get("attachments") {
        let attachments = attachments
            .as_array()
            .ok_or_else(|| invalid_request("'attachments' must be an array."))?;
        for attachment in attachments {
            validate_attachment(attachment)?;
        }
    }
    // The reference's own example sends `"saveToSentItems": "false"`; Graph reads the string.
    let save = body.get("saveToSentItems").unwrap_or(&Value::Null);
    let readable = match save {
        Value::Null | Value::Bool(_) => true,
        Value::String(s) => s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false"),
        _ => false,
    };
    if !readable {
        return Err(invalid_request(
            "'saveToSentItems' must be a boolean (true or false).",
        ));
    }
    Ok(())
}

/// The MIME form (`Content-Type: text/plain`): a base64 RFC 822 message that names at least one
/// recipient. Kept in the outbox as the base64 text it arrived as.
fn validate_mime(body: &Bytes) -> Result<Value, GraphError> {
    let text = String::from_utf8_lossy(body);
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let mime = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(|_| {
            GraphError::new(
                StatusCode::BAD_REQUEST,
                "ErrorMimeContentInvalidBase64String",
                "Invalid base64 string for MIME content.",
            )
        })?;
    let mime = String::from_utf8_lossy(&mime);
    let headers = mime.split("\r\n\r\n").next().unwrap_or_default();
    let has_recipient = headers.lines().any(|line| {
        let name = line.split(':').next().unwrap_or_default().trim();
        ["to", "cc", "bcc"]
            .iter()
            .any(|r| name.eq_ignore_ascii_case(r))
            && line.contains('@')
    });
    if !has_recipient {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidRecipients",
            "At least one recipient is required, but none were found.",
        ));
    }
    Ok(Value::String(compact))
}

fn validate_attachment(attachment: &Value) -> Result<(), GraphError> {
    let is_file = attachment
        .get("@odata.type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("#microsoft.graph.fileAttachment"));
    if !is_file {
        return Err(invalid_request(
            "Each attachment must have '@odata.type': '#microsoft.graph.fileAttachment'.",
        ));
    }
    if !attachment.get("name").is_some_and(Value::is_string) {
        return Err(invalid_request(
            "Each attachment must have a string 'name'.",
        ));
    }
    let decodes = attachment
        .get("contentBytes")
        .and_then(Value::as_str)
        .is_some_and(|b| base64::engine::general_purpose::STANDARD.decode(b).is_ok());
    if !decodes {
        return Err(invalid_request(
            "Each attachment must have 'contentBytes' in base64.",
        ));
    }
    Ok(())
}
