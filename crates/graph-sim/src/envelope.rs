//! Graph's response conventions: the error envelope, the request ids on every response, and
//! the OData JSON content type.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;

/// The ids Graph attaches to one request: `request-id` is ours, `client-request-id` echoes the
/// client's header (or repeats `request-id` when the client sent none).
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    pub request_id: String,
    pub client_request_id: String,
}

impl RequestContext {
    pub fn new(headers: &HeaderMap) -> Self {
        let request_id = uuid::Uuid::new_v4().to_string();
        let client_request_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map_or_else(|| request_id.clone(), str::to_owned);
        Self {
            request_id,
            client_request_id,
        }
    }

    fn stamp(&self, response: &mut Response) {
        let headers = response.headers_mut();
        for (name, value) in [
            ("request-id", &self.request_id),
            ("client-request-id", &self.client_request_id),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        }
    }
}

/// The challenge Graph sends with every 401: where to get a token, and for which resource.
const BEARER_CHALLENGE: &str = "Bearer realm=\"\", \
     authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", \
     client_id=\"00000003-0000-0000-c000-000000000000\"";

/// A Graph error, rendered as `{"error":{"code","message","innerError":{…}}}`.
#[derive(Debug, Clone)]
pub(crate) struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub retry_after: Option<String>,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, value: String) -> Self {
        self.retry_after = Some(value);
        self
    }

    /// 400 with the lower-camel code the authentication-methods service uses.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "badRequest", message)
    }

    /// 400 for payloads that do not fit the OData type.
    pub fn invalid_payload(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 404 for a user that does not exist, worded as the directory service words it.
    pub fn user_not_found(segment: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{segment}' does not exist or one of its queried reference-property \
                 objects are not present."
            ),
        )
    }

    /// 403 for a token whose app lacks the route's permission.
    pub fn insufficient_privileges() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }

    /// 401 for a missing, unknown or expired bearer token.
    pub fn invalid_token(message: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }

    /// The envelope for a status injected by a fault or the throttle.
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status.as_u16() {
            429 => (
                "TooManyRequests",
                "Too many requests. Retry after the interval in the Retry-After header.",
            ),
            503 => (
                "serviceNotAvailable",
                "The service is temporarily unavailable. Retry after the interval in the Retry-After header.",
            ),
            504 => (
                "gatewayTimeout",
                "The gateway did not receive a timely response.",
            ),
            500 => ("generalException", "An internal server error occurred."),
            401 => (
                "InvalidAuthenticationToken",
                "Access token validation failure.",
            ),
            403 => (
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            ),
            404 => ("itemNotFound", "The resource could not be found."),
            _ => (
                "simulatedFault",
                "A fault injected by the simulated tenant.",
            ),
        };
        Self::new(status, code, message)
    }

    /// The full response, with request ids inside the body and in the headers.
    pub fn render(&self, ctx: &RequestContext) -> Response {
        let date = OffsetDateTime::now_utc();
        let date = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            date.year(),
            u8::from(date.month()),
            date.day(),
            date.hour(),
            date.minute(),
            date.second()
        );
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": date,
                    "request-id": ctx.request_id,
                    "client-request-id": ctx.client_request_id,
                }
            }
        });
        let mut response = odata_json(self.status, &body);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(BEARER_CHALLENGE),
            );
        }
        if let Some(v) = self
            .retry_after
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// Marks a response whose body the pipeline still has to render, because only the pipeline
/// knows the request ids.
#[derive(Debug, Clone)]
struct PendingGraphError(GraphError);

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(PendingGraphError(self));
        response
    }
}

/// Renders a pending error envelope and stamps the request ids on any response.
pub(crate) fn finish(mut response: Response, ctx: &RequestContext) -> Response {
    if let Some(PendingGraphError(error)) = response.extensions_mut().remove() {
        response = error.render(ctx);
    }
    ctx.stamp(&mut response);
    response
}

/// A JSON response with the content type Graph sends.
pub(crate) fn odata_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
        ),
    );
    response
}
