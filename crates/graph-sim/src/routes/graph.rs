//! The Graph entry point: bearer token, route, app-role check, handler.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use super::graph_path::{self, GraphResource};
use super::{mail, mailbox_settings, passes, policy, users};
use crate::envelope::{GraphError, RequestContext};
use crate::state::{SimulatorState, lock};

/// Roles that allow reading users.
const USER_READ: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
/// Roles that allow reading Temporary Access Pass methods.
const TAP_READ: &[&str] = &[
    "UserAuthenticationMethod.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "UserAuthMethod-TAP.Read.All",
    "UserAuthMethod-TAP.ReadWrite.All",
];
/// Roles that allow creating and deleting Temporary Access Pass methods.
const TAP_WRITE: &[&str] = &[
    "UserAuthenticationMethod.ReadWrite.All",
    "UserAuthMethod-TAP.ReadWrite.All",
];
/// Roles that allow reading the authentication methods policy.
const POLICY_READ: &[&str] = &[
    "Policy.Read.AuthenticationMethod",
    "Policy.ReadWrite.AuthenticationMethod",
];
/// Roles that allow sending mail as any user.
const MAIL_SEND: &[&str] = &["Mail.Send"];
/// Roles that allow reading any user's mailbox settings.
const MAILBOX_SETTINGS_READ: &[&str] = &["MailboxSettings.Read", "MailboxSettings.ReadWrite"];

/// One thing a Graph request asks for.
enum GraphOperation {
    GetUser(String),
    ListPasses(String),
    CreatePass(String),
    GetPass(String, String),
    DeletePass(String, String),
    GetPolicy,
    SendMail(String),
    GetMailboxSettings(String),
}

impl GraphOperation {
    /// The operation for a method on a resource; `None` when the method is not served there.
    fn new(method: &Method, resource: GraphResource) -> Option<Self> {
        Some(match (method, resource) {
            (&Method::GET, GraphResource::User(u)) => Self::GetUser(u),
            (&Method::GET, GraphResource::Passes(u)) => Self::ListPasses(u),
            (&Method::POST, GraphResource::Passes(u)) => Self::CreatePass(u),
            (&Method::GET, GraphResource::Pass(u, id)) => Self::GetPass(u, id),
            (&Method::DELETE, GraphResource::Pass(u, id)) => Self::DeletePass(u, id),
            (&Method::GET, GraphResource::TapPolicy) => Self::GetPolicy,
            (&Method::POST, GraphResource::SendMail(u)) => Self::SendMail(u),
            (&Method::GET, GraphResource::MailboxSettings(u)) => Self::GetMailboxSettings(u),
            _ => return None,
        })
    }

    /// App roles of which the token needs one.
    fn accepted_roles(&self) -> &'static [&'static str] {
        match self {
            Self::GetUser(_) => USER_READ,
            Self::ListPasses(_) | Self::GetPass(..) => TAP_READ,
            Self::CreatePass(_) | Self::DeletePass(..) => TAP_WRITE,
            Self::GetPolicy => POLICY_READ,
            Self::SendMail(_) => MAIL_SEND,
            Self::GetMailboxSettings(_) => MAILBOX_SETTINGS_READ,
        }
    }

    /// The refusal when the token lacks the role: Exchange answers for mailboxes in its own
    /// words.
    fn denial(&self) -> GraphError {
        match self {
            Self::SendMail(_) | Self::GetMailboxSettings(_) => GraphError::new(
                StatusCode::FORBIDDEN,
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again.",
            ),
            _ => GraphError::insufficient_privileges(),
        }
    }
}

/// Serves every path under `/v1.0` and `/beta`.
pub(crate) async fn dispatch(
    State(sim): State<Arc<SimulatorState>>,
    Extension(ctx): Extension<RequestContext>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(&sim, &ctx, &method, &uri, &headers, &body).unwrap_or_else(IntoResponse::into_response)
}

fn serve(
    sim: &SimulatorState,
    ctx: &RequestContext,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, GraphError> {
    let now = OffsetDateTime::now_utc();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let roles = lock(&sim.tokens)
        .check(authorization, now)
        .map_err(|rejection| GraphError::invalid_token(rejection.message()))?
        .roles
        .clone();
    let (version, resource) = graph_path::parse(uri.path())?;
    let operation = GraphOperation::new(method, resource).ok_or_else(|| {
        GraphError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            format!("The HTTP method '{method}' is not allowed for this resource."),
        )
    })?;
    let accepted = operation.accepted_roles();
    if !roles.iter().any(|r| accepted.contains(&r.as_str())) {
        return Err(operation.denial());
    }
    match operation {
        GraphOperation::GetUser(user) => users::get(sim, version, &user, uri.query()),
        GraphOperation::ListPasses(user) => passes::list(sim, version, &user, now),
        GraphOperation::CreatePass(user) => passes::create(sim, version, &user, headers, body, now),
        GraphOperation::GetPass(user, id) => passes::get(sim, version, &user, &id, now),
        GraphOperation::DeletePass(user, id) => passes::delete(sim, &user, &id),
        GraphOperation::GetPolicy => Ok(policy::get(sim, version)),
        GraphOperation::SendMail(sender) => mail::send(sim, ctx, &sender, headers, body),
        GraphOperation::GetMailboxSettings(user) => {
            mailbox_settings::get(sim, version, &user, uri.query())
        }
    }
}
