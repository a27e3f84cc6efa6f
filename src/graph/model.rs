//! The Graph resources the job reads and writes, as typed values.

use serde::{Deserialize, Serialize, Serializer};
use time::OffsetDateTime;

use crate::secret::Secret;

/// The query for [`GraphUser`]: only the properties the job uses.
pub(crate) const USER_QUERY: &str =
    "$select=id,userPrincipalName,mail,usageLocation,preferredLanguage,userType,displayName";

/// The query for [`MailboxSettings`]: the time zone only.
pub(crate) const MAILBOX_TIME_ZONE_QUERY: &str = "$select=timeZone";

/// The part of the user's `mailboxSettings` the email uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MailboxSettings {
    /// A Windows zone name or an IANA name, in the format the Exchange admin set up.
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// The target user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphUser {
    /// The object id; later calls address the user by it.
    pub id: String,
    /// The user principal name.
    pub user_principal_name: String,
    /// The primary SMTP address, if the user has one.
    pub mail: Option<String>,
    /// Two-letter country code, e.g. `DE`.
    pub usage_location: Option<String>,
    /// Language tag, e.g. `de-AT`.
    pub preferred_language: Option<String>,
    /// `Member` or `Guest`.
    pub user_type: Option<String>,
    /// The display name.
    pub display_name: Option<String>,
}

/// The tenant's Temporary Access Pass policy (authentication method configuration).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TapPolicy {
    /// `enabled` or `disabled`.
    pub state: String,
    /// The lifetime Entra uses when none is requested.
    pub default_lifetime_in_minutes: Option<u32>,
    /// The shortest lifetime allowed.
    pub minimum_lifetime_in_minutes: Option<u32>,
    /// The longest lifetime allowed.
    pub maximum_lifetime_in_minutes: Option<u32>,
    /// Whether every pass must be one-time use.
    pub is_usable_once: Option<bool>,
    /// The pass length.
    pub default_length: Option<u32>,
}

impl TapPolicy {
    /// Whether the policy lets anyone have a pass at all.
    pub fn is_enabled(&self) -> bool {
        self.state.eq_ignore_ascii_case("enabled")
    }
}

/// An existing pass as listed: never with its value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TapMethod {
    /// The method id, used to delete it.
    pub id: String,
    /// When it was created (RFC 3339).
    pub created_date_time: Option<String>,
    /// When it becomes usable (RFC 3339).
    pub start_date_time: Option<String>,
    /// How long it is usable.
    pub lifetime_in_minutes: Option<u32>,
    /// Whether it works once.
    pub is_usable_once: Option<bool>,
    /// Whether it can be used right now.
    pub is_usable: Option<bool>,
    /// Why it can or cannot be used, e.g. `EnabledByPolicy`.
    pub method_usability_reason: Option<String>,
}

/// The create request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePass {
    /// How long the pass is usable.
    pub lifetime_in_minutes: u32,
    /// Whether it works once.
    pub is_usable_once: bool,
    /// When it becomes usable; Graph's default is now.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "rfc3339")]
    pub start_date_time: Option<OffsetDateTime>,
}

/// A start as the job writes every time: UTC, RFC 3339, milliseconds.
fn rfc3339<S: Serializer>(start: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match start {
        Some(t) => s.serialize_str(&crate::job::format_rfc3339(*t)),
        None => s.serialize_none(),
    }
}

/// The pass Graph created, with its value: the only time Graph returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedPass {
    /// The pass itself.
    pub temporary_access_pass: Secret,
    /// The method id (empty if Graph left it out).
    pub id: String,
    /// When it becomes usable (RFC 3339).
    pub start_date_time: Option<String>,
    /// How long it is usable.
    pub lifetime_in_minutes: u32,
    /// Whether it works once.
    pub is_usable_once: bool,
    /// Whether it can be used now.
    pub is_usable: Option<bool>,
    /// Why it can or cannot be used; `DisabledByPolicy` means policy targeting excludes
    /// the user.
    pub method_usability_reason: Option<String>,
    /// When it was created (RFC 3339).
    pub created_date_time: Option<String>,
}

/// The 201 body as it comes. Only the pass is required: an answer that carries the pass must
/// never be thrown away for a missing detail, since the value cannot be fetched again.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreatedPassBody {
    #[serde(deserialize_with = "secret")]
    temporary_access_pass: Secret,
    #[serde(default)]
    id: String,
    start_date_time: Option<String>,
    lifetime_in_minutes: Option<u32>,
    is_usable_once: Option<bool>,
    is_usable: Option<bool>,
    method_usability_reason: Option<String>,
    created_date_time: Option<String>,
}

impl CreatedPassBody {
    /// The created pass, with what was asked for where the answer is silent.
    pub(crate) fn into_created(self, asked: &CreatePass) -> CreatedPass {
        CreatedPass {
            temporary_access_pass: self.temporary_access_pass,
            id: self.id,
            start_date_time: self
                .start_date_time
                .or_else(|| asked.start_date_time.map(crate::job::format_rfc3339)),
            lifetime_in_minutes: self
                .lifetime_in_minutes
                .unwrap_or(asked.lifetime_in_minutes),
            is_usable_once: self.is_usable_once.unwrap_or(asked.is_usable_once),
            is_usable: self.is_usable,
            method_usability_reason: self.method_usability_reason,
            created_date_time: self.created_date_time,
        }
    }
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    String::deserialize(d).map(Secret::new)
}

/// Graph's collection wrapper.
#[derive(Debug, Deserialize)]
pub(crate) struct Collection<T> {
    pub value: Vec<T>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_pass_is_kept_even_when_details_are_missing() {
        let asked = CreatePass {
            lifetime_in_minutes: 90,
            is_usable_once: true,
            start_date_time: None,
        };
        let body: CreatedPassBody =
            serde_json::from_str(r#"{"temporaryAccessPass":"Xy7!abcd"}"#).unwrap();
        let created = body.into_created(&asked);
        assert_eq!(created.temporary_access_pass.expose(), "Xy7!abcd");
        assert_eq!(
            (created.lifetime_in_minutes, created.is_usable_once),
            (90, true)
        );
        let full: CreatedPassBody = serde_json::from_str(
            r#"{"temporaryAccessPass":"p","id":"m1","lifetimeInMinutes":60,"isUsableOnce":false}"#,
        )
        .unwrap();
        let created = full.into_created(&asked);
        assert_eq!(
            (
                created.id.as_str(),
                created.lifetime_in_minutes,
                created.is_usable_once
            ),
            ("m1", 60, false)
        );
        assert!(
            serde_json::from_str::<CreatedPassBody>(r#"{"id":"m1"}"#).is_err(),
            "no pass, no success"
        );
    }
}
