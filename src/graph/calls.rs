//! The typed Graph calls of the workflow, each one [`GraphRequest`] through the one loop.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::client::{Expect, GraphClient, GraphRequest, OnNotFound};
use super::error::{GraphCall, GraphError, GraphErrorKind};
use super::model::{
    Collection, CreatePass, CreatedPass, CreatedPassBody, GraphUser, MAILBOX_TIME_ZONE_QUERY,
    MailboxSettings, TapMethod, TapPolicy, USER_QUERY,
};
use super::path::{UserRef, encode_segment};

/// How a delete ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// Graph removed the pass (204).
    Removed,
    /// There was no such pass any more (404).
    AlreadyGone,
}

const TAP_POLICY_PATH: &str =
    "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass";

impl GraphClient {
    /// Reads the user by UPN or object id. A 404 is looked up again a few times before it is
    /// reported, because a user created moments ago may not have replicated yet.
    pub async fn get_user(&self, user: &UserRef) -> Result<GraphUser, GraphError> {
        let request = GraphRequest {
            query: Some(USER_QUERY),
            on_not_found: OnNotFound::WaitForReplication,
            ..get(GraphCall::User, user.path())
        };
        self.send_for(&request).await
    }

    /// Reads the tenant's Temporary Access Pass policy. Without the optional
    /// `Policy.Read.AuthenticationMethod` permission this fails with
    /// [`GraphError::is_permission_denied`].
    pub async fn get_tap_policy(&self) -> Result<TapPolicy, GraphError> {
        self.send_for(&get(GraphCall::Policy, TAP_POLICY_PATH.to_owned()))
            .await
    }

    /// Lists the user's existing passes (without their values).
    pub async fn list_passes(&self, user_id: &str) -> Result<Vec<TapMethod>, GraphError> {
        let request = get(GraphCall::ListPasses, passes_path(user_id));
        let passes: Collection<TapMethod> = self.send_for(&request).await?;
        Ok(passes.value)
    }

    /// Deletes one pass. A 404 means it is gone already: it expired, another administrator or
    /// job removed it, or an earlier unanswered try of this call did.
    pub async fn delete_pass(&self, user_id: &str, pass_id: &str) -> Result<Deleted, GraphError> {
        let request = GraphRequest {
            call: GraphCall::DeletePass,
            method: Method::DELETE,
            path: format!("{}/{}", passes_path(user_id), encode_segment(pass_id)),
            query: None,
            body: None,
            expect: Expect::Nothing,
            on_not_found: OnNotFound::Fail,
            reply_by: None,
        };
        match self.send(&request).await {
            Ok(_) => Ok(Deleted::Removed),
            Err(e) if e.is_not_found() => Ok(Deleted::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    /// Creates the pass. A request that may have been sent without an answer fails with
    /// [`GraphErrorKind::Ambiguous`]: the caller reconciles before creating again.
    /// An answer not there by `reply_by` counts as unanswered.
    pub async fn create_pass(
        &self,
        user_id: &str,
        pass: &CreatePass,
        reply_by: Option<tokio::time::Instant>,
    ) -> Result<CreatedPass, GraphError> {
        let body = serde_json::to_value(pass).expect("CreatePass serializes");
        let request = GraphRequest {
            reply_by,
            ..post(
                GraphCall::CreatePass,
                passes_path(user_id),
                &body,
                Expect::Json,
            )
        };
        let created: CreatedPassBody = self.send_for(&request).await?;
        Ok(created.into_created(pass))
    }

    /// Reads the time zone of the user's mailbox settings: a Windows name
    /// (`W. Europe Standard Time`) or an IANA name; `None` when none is set. Without the
    /// optional `MailboxSettings.Read` permission this fails with
    /// [`GraphError::is_permission_denied`], and for a user without an Exchange Online
    /// mailbox with a 404.
    pub async fn get_mailbox_time_zone(&self, user: &str) -> Result<Option<String>, GraphError> {
        let request = GraphRequest {
            query: Some(MAILBOX_TIME_ZONE_QUERY),
            ..get(
                GraphCall::MailboxTimeZone,
                format!("{}/mailboxSettings", UserRef::new(user).path()),
            )
        };
        let settings: MailboxSettings = self.send_for(&request).await?;
        Ok(settings.time_zone)
    }

    /// Sends `message` (a sendMail request body) as `sender`. Never repeated after a try
    /// that may have been delivered ([`GraphErrorKind::Ambiguous`]).
    pub async fn send_mail(&self, sender: &str, message: &Value) -> Result<(), GraphError> {
        let path = format!("{}/sendMail", UserRef::new(sender).path());
        let request = post(GraphCall::SendMail, path, message, Expect::Nothing);
        self.send(&request).await.map(drop)
    }

    /// Sends and decodes the success body into `T`.
    async fn send_for<T: DeserializeOwned>(
        &self,
        request: &GraphRequest<'_>,
    ) -> Result<T, GraphError> {
        let value = self.send(request).await?.unwrap_or(Value::Null);
        serde_json::from_value(value).map_err(|e| {
            // A change that succeeded but whose answer we cannot use must be reconciled.
            let kind = if request.method == Method::POST {
                GraphErrorKind::Ambiguous
            } else {
                GraphErrorKind::InvalidResponse
            };
            GraphError::new(
                kind,
                request.call,
                format!("Graph's answer does not have the documented shape: {e}"),
            )
        })
    }
}

fn passes_path(user_id: &str) -> String {
    format!(
        "{}/authentication/temporaryAccessPassMethods",
        UserRef::new(user_id).path()
    )
}

fn get(call: GraphCall, path: String) -> GraphRequest<'static> {
    GraphRequest {
        call,
        method: Method::GET,
        path,
        query: None,
        body: None,
        expect: Expect::Json,
        on_not_found: OnNotFound::Fail,
        reply_by: None,
    }
}

fn post<'a>(call: GraphCall, path: String, body: &'a Value, expect: Expect) -> GraphRequest<'a> {
    GraphRequest {
        call,
        method: Method::POST,
        path,
        query: None,
        body: Some(body),
        expect,
        on_not_found: OnNotFound::Fail,
        reply_by: None,
    }
}
