//! Graph failures: the one parser for Graph's error envelope, and the mapping to the job's
//! stable error codes.

use serde::Deserialize;

use crate::job::{ErrorCode, GraphErrorInfo, JobError};
use crate::text::cut;

/// Which Graph call failed; it decides what a 403 or a 404 means to the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphCall {
    /// `GET /users/{u}`.
    User,
    /// `GET /policies/authenticationMethodsPolicy/…/TemporaryAccessPass`.
    Policy,
    /// `GET /users/{id}/authentication/temporaryAccessPassMethods`.
    ListPasses,
    /// `DELETE /users/{id}/authentication/temporaryAccessPassMethods/{pass}`.
    DeletePass,
    /// `POST /users/{id}/authentication/temporaryAccessPassMethods`.
    CreatePass,
    /// `POST /users/{sender}/sendMail`.
    SendMail,
    /// `GET /users/{u}/mailboxSettings?$select=timeZone`.
    MailboxTimeZone,
}

impl GraphCall {
    fn describe(self) -> &'static str {
        match self {
            Self::User => "reading the user",
            Self::Policy => "reading the Temporary Access Pass policy",
            Self::ListPasses => "listing the user's passes",
            Self::DeletePass => "deleting an existing pass",
            Self::CreatePass => "creating the pass",
            Self::SendMail => "sending the notification",
            Self::MailboxTimeZone => "reading the user's mailbox time zone",
        }
    }

    /// The permission to grant when Graph answers 403, in the words an admin searches for.
    fn missing_permission(self) -> &'static str {
        match self {
            Self::User => "the application permission User.Read.All",
            Self::Policy => "the application permission Policy.Read.AuthenticationMethod",
            Self::ListPasses | Self::DeletePass | Self::CreatePass => {
                "the application permission UserAuthenticationMethod.ReadWrite.All"
            }
            Self::SendMail => {
                "the application permission Mail.Send, or an Exchange application access policy that includes the sender mailbox"
            }
            Self::MailboxTimeZone => "the application permission MailboxSettings.Read",
        }
    }
}

impl std::fmt::Display for GraphCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// What kind of failure it was, as far as retrying and reconciling are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphErrorKind {
    /// Graph answered with an error status that retrying does not fix (400, 403, 404, …).
    Rejected,
    /// Still 429 after every try.
    Throttled,
    /// Still 5xx or no connection after every try.
    Unavailable,
    /// The job's deadline came first.
    Timeout,
    /// The request was sent but no usable answer came back, so it may or may not have taken
    /// effect. Only for calls that change something and are not safe to repeat blindly.
    Ambiguous,
    /// No token, or Graph refused a freshly issued one.
    AuthenticationFailed,
    /// A success status with a body that does not fit the documented shape.
    InvalidResponse,
}

/// A failed Graph call, with what Graph said about it. Never contains a token or the pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct GraphError {
    /// What kind of failure.
    pub kind: GraphErrorKind,
    /// Which call.
    pub call: GraphCall,
    /// The HTTP status of the last answer, if there was one.
    pub status: Option<u16>,
    /// Graph's error code, e.g. `Authorization_RequestDenied`.
    pub code: Option<String>,
    /// Graph's message, or ours when Graph gave none.
    pub message: String,
    /// Graph's `request-id`, for a support case.
    pub request_id: Option<String>,
}

impl GraphError {
    /// A failure without an HTTP answer (transport, deadline, token).
    pub(crate) fn new(kind: GraphErrorKind, call: GraphCall, message: impl Into<String>) -> Self {
        Self {
            kind,
            call,
            status: None,
            code: None,
            message: message.into(),
            request_id: None,
        }
    }

    /// A failure built from an HTTP answer: the envelope's code, message and request id, the
    /// `request-id` header when the body has none.
    pub(crate) fn from_response(
        kind: GraphErrorKind,
        call: GraphCall,
        status: u16,
        header_request_id: Option<String>,
        body: &[u8],
    ) -> Self {
        let envelope = ErrorEnvelope::parse(body);
        let message = envelope
            .as_ref()
            .and_then(|e| e.message.as_deref())
            .filter(|m| !m.trim().is_empty())
            .map(|m| cut(m, MAX_MESSAGE_BYTES))
            .unwrap_or_else(|| format!("HTTP {status} without a Graph error message"));
        let short = |text: String| cut(&text, MAX_ID_BYTES);
        Self {
            kind,
            call,
            status: Some(status),
            code: envelope.as_ref().and_then(|e| e.code.clone()).map(short),
            message,
            request_id: envelope
                .and_then(|e| e.request_id)
                .or(header_request_id)
                .map(short),
        }
    }

    /// Graph refused for lack of a permission (403). For the policy read this means the
    /// optional `Policy.Read.AuthenticationMethod` is not granted, which the job tolerates.
    pub fn is_permission_denied(&self) -> bool {
        self.kind == GraphErrorKind::Rejected && self.status == Some(403)
    }

    /// Graph said the addressed object does not exist (404).
    pub fn is_not_found(&self) -> bool {
        self.kind == GraphErrorKind::Rejected && self.status == Some(404)
    }

    /// Graph refused because the Temporary Access Pass policy does not allow a pass for this
    /// user, e.g. "UserCredentialPolicy does not allow …".
    pub fn is_policy_refusal(&self) -> bool {
        if self.kind != GraphErrorKind::Rejected {
            return false;
        }
        let message = self.message.to_ascii_lowercase();
        message.contains("credentialpolicy")
            || (message.contains("policy") && message.contains("does not allow"))
    }

    /// The lifetime range Graph named when it refused a create's `lifetimeInMinutes`
    /// ("Invalid LifetimeInMinutes specified. The valid range between 60 and 480.").
    pub fn lifetime_range(&self) -> Option<(u32, u32)> {
        if self.kind != GraphErrorKind::Rejected
            || self.call != GraphCall::CreatePass
            || self.status != Some(400)
        {
            return None;
        }
        let lower = self.message.to_ascii_lowercase();
        let at = lower.find("lifetimeinminutes")?;
        let rest = &lower[at..];
        let mut numbers = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .filter_map(|n| n.parse::<u32>().ok());
        let (min, max) = (numbers.next()?, numbers.next()?);
        (min <= max).then_some((min, max))
    }

    /// A short account for a retry line: the status and code when Graph answered, else what
    /// happened to the connection.
    pub(crate) fn summary(&self) -> String {
        match (self.status, &self.code) {
            (Some(status), Some(code)) => format!("HTTP {status} {code}"),
            (Some(status), None) => format!("HTTP {status}"),
            (None, _) => self.message.clone(),
        }
    }

    fn describe(&self) -> String {
        let mut text = format!("Graph failed while {}", self.call);
        if let Some(status) = self.status {
            text.push_str(&format!(": HTTP {status}"));
        }
        if let Some(code) = &self.code {
            text.push_str(&format!(" {code}"));
        }
        text.push_str(&format!(": {}", self.message));
        text
    }

    /// The job's error record: a stable code and a message that tells the operator what to
    /// fix, with Graph's status, code and request id.
    pub fn to_job_error(&self) -> JobError {
        use GraphErrorKind as K;
        let (code, message) = match self.kind {
            K::AuthenticationFailed => (ErrorCode::AuthenticationFailed, self.to_string()),
            K::Throttled => (
                ErrorCode::Throttled,
                format!("{} (still throttled after every retry)", self),
            ),
            K::Unavailable | K::Ambiguous => (ErrorCode::GraphUnavailable, self.to_string()),
            K::Timeout => (ErrorCode::Timeout, self.to_string()),
            K::InvalidResponse => (ErrorCode::Unexpected, self.to_string()),
            K::Rejected => self.rejected_code(),
        };
        JobError {
            code,
            message,
            graph: self.status.map(|status| GraphErrorInfo {
                status,
                code: self.code.clone(),
                request_id: self.request_id.clone(),
            }),
            problems: Vec::new(),
        }
    }

    fn rejected_code(&self) -> (ErrorCode, String) {
        if self.status == Some(401) {
            return (ErrorCode::AuthenticationFailed, self.to_string());
        }
        if self.is_policy_refusal() {
            return (
                ErrorCode::PolicyDisabled,
                format!(
                    "{self} (the Temporary Access Pass policy does not allow a pass for this user)"
                ),
            );
        }
        let access_denied = self.is_permission_denied()
            || self.code.as_deref() == Some("ErrorAccessDenied")
            || self.code.as_deref() == Some("Authorization_RequestDenied");
        if access_denied {
            return (
                ErrorCode::PermissionDenied,
                format!("{self} (grant {})", self.call.missing_permission()),
            );
        }
        if self.lifetime_range().is_some() {
            // The workflow words it with the requested lifetime (`lifetime_outside_policy`).
            return (ErrorCode::LifetimeOutsidePolicy, self.to_string());
        }
        if self.call == GraphCall::User && self.is_not_found() {
            return (ErrorCode::UserNotFound, self.to_string());
        }
        (ErrorCode::Unexpected, self.to_string())
    }
}

/// The most of Graph's error message a record keeps. Graph's messages are a sentence or two;
/// a longer one is cut, so an answer cannot flood the log and the result record (the message
/// appears in both).
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// The most of an error code or request id a record keeps: both are short identifiers.
const MAX_ID_BYTES: usize = 128;

/// Graph's error envelope:
/// `{"error":{"code","message","innerError":{"request-id","date","client-request-id"}}}`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ErrorEnvelope {
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
}

impl ErrorEnvelope {
    /// Parses the envelope; `None` when the body is not one.
    pub(crate) fn parse(body: &[u8]) -> Option<Self> {
        #[derive(Deserialize)]
        struct Outer {
            error: Inner,
        }
        #[derive(Deserialize)]
        struct Inner {
            code: Option<String>,
            message: Option<String>,
            #[serde(rename = "innerError", alias = "innererror")]
            inner_error: Option<InnerError>,
        }
        #[derive(Deserialize)]
        struct InnerError {
            #[serde(rename = "request-id")]
            request_id: Option<String>,
        }
        let outer: Outer = serde_json::from_slice(body).ok()?;
        Some(Self {
            code: outer.error.code,
            message: outer.error.message,
            request_id: outer.error.inner_error.and_then(|i| i.request_id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(call: GraphCall, status: u16, body: &str) -> GraphError {
        GraphError::from_response(
            GraphErrorKind::Rejected,
            call,
            status,
            None,
            body.as_bytes(),
        )
    }

    #[test]
    fn envelope_with_inner_error() {
        let body = br#"{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist.",
            "innerError":{"date":"2026-11-29T10:00:00","request-id":"r-1","client-request-id":"c-1"}}}"#;
        assert_eq!(
            ErrorEnvelope::parse(body),
            Some(ErrorEnvelope {
                code: Some("Request_ResourceNotFound".into()),
                message: Some("Resource 'x' does not exist.".into()),
                request_id: Some("r-1".into()),
            })
        );
        assert_eq!(ErrorEnvelope::parse(b"<html>"), None);
    }

    #[test]
    fn header_request_id_when_the_body_has_none() {
        let e = GraphError::from_response(
            GraphErrorKind::Rejected,
            GraphCall::User,
            500,
            Some("h-1".into()),
            b"oops",
        );
        assert_eq!(e.request_id.as_deref(), Some("h-1"));
        assert_eq!(e.message, "HTTP 500 without a Graph error message");
    }

    #[test]
    fn forbidden_names_the_permission_per_call() {
        let body = r#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}"#;
        for (call, permission) in [
            (GraphCall::User, "User.Read.All"),
            (
                GraphCall::ListPasses,
                "UserAuthenticationMethod.ReadWrite.All",
            ),
            (
                GraphCall::DeletePass,
                "UserAuthenticationMethod.ReadWrite.All",
            ),
            (
                GraphCall::CreatePass,
                "UserAuthenticationMethod.ReadWrite.All",
            ),
            (GraphCall::SendMail, "Mail.Send"),
        ] {
            let job = rejected(call, 403, body).to_job_error();
            assert_eq!(job.code, ErrorCode::PermissionDenied);
            assert!(job.message.contains(permission), "{}", job.message);
            assert_eq!(job.graph.unwrap().status, 403);
        }
        let mail = rejected(
            GraphCall::SendMail,
            403,
            r#"{"error":{"code":"ErrorAccessDenied","message":"Access is denied."}}"#,
        );
        assert!(
            mail.to_job_error()
                .message
                .contains("application access policy")
        );
    }

    #[test]
    fn long_messages_codes_and_ids_are_cut_and_marked() {
        let huge = "x".repeat(400_000);
        let body = serde_json::json!({"error": {"code": huge, "message": format!("é{huge}"),
            "innerError": {"request-id": huge}}});
        let e = rejected(GraphCall::User, 400, &body.to_string());
        assert!(
            e.message.len() < MAX_MESSAGE_BYTES + 40,
            "{}",
            e.message.len()
        );
        assert!(
            e.message.ends_with("… [cut: 400002 bytes in all]"),
            "{}",
            &e.message[1000..]
        );
        assert!(e.code.as_ref().unwrap().len() < 200);
        assert!(e.request_id.as_ref().unwrap().len() < 200);
        assert!(e.to_job_error().message.len() < 2 * MAX_MESSAGE_BYTES);
    }

    #[test]
    fn stable_codes() {
        let not_found = rejected(GraphCall::User, 404, "{}");
        assert_eq!(not_found.to_job_error().code, ErrorCode::UserNotFound);
        let policy = rejected(
            GraphCall::CreatePass,
            400,
            r#"{"error":{"code":"badRequest","message":"UserCredentialPolicy does not allow the creation of Temporary Access Pass for this user."}}"#,
        );
        assert_eq!(policy.to_job_error().code, ErrorCode::PolicyDisabled);
        let unauthorized = rejected(GraphCall::User, 401, "{}");
        assert_eq!(
            unauthorized.to_job_error().code,
            ErrorCode::AuthenticationFailed
        );
        let lifetime = rejected(
            GraphCall::CreatePass,
            400,
            r#"{"error":{"code":"badRequest","message":"Invalid LifetimeInMinutes specified. The valid range between 60 and 480."}}"#,
        );
        assert_eq!(lifetime.lifetime_range(), Some((60, 480)));
        assert_eq!(
            lifetime.to_job_error().code,
            ErrorCode::LifetimeOutsidePolicy
        );
        let other = rejected(GraphCall::CreatePass, 400, "{}");
        assert_eq!(other.lifetime_range(), None);
        assert_eq!(other.to_job_error().code, ErrorCode::Unexpected);
        for (kind, code) in [
            (GraphErrorKind::Throttled, ErrorCode::Throttled),
            (GraphErrorKind::Unavailable, ErrorCode::GraphUnavailable),
            (GraphErrorKind::Ambiguous, ErrorCode::GraphUnavailable),
            (GraphErrorKind::Timeout, ErrorCode::Timeout),
            (
                GraphErrorKind::AuthenticationFailed,
                ErrorCode::AuthenticationFailed,
            ),
            (GraphErrorKind::InvalidResponse, ErrorCode::Unexpected),
        ] {
            let e = GraphError::new(kind, GraphCall::ListPasses, "x");
            assert_eq!(e.to_job_error().code, code);
            assert!(e.to_job_error().graph.is_none());
        }
    }
}
