//! The tenant file: the JSON document that describes a simulated tenant.
//!
//! Parsing is strict (unknown fields are refused) so a typo in a test fixture fails loudly
//! instead of silently simulating something else. Every error names the field at fault.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::error::SimulatorError;
use crate::secret::Secret;

/// A simulated tenant as read from a tenant file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantFile {
    /// Editors' schema hint; ignored.
    #[serde(default, rename = "$schema")]
    pub schema: Option<String>,
    /// Directory (tenant) id; the client-credentials route answers only for this tenant.
    pub tenant_id: String,
    /// The app registration (or managed identity) the runbook authenticates as.
    pub app: AppRegistration,
    /// The Temporary Access Pass authentication method policy.
    #[serde(default)]
    pub policy: TapPolicy,
    /// The directory's users.
    #[serde(default)]
    pub users: Vec<UserRecord>,
    /// Milliseconds added to every request (Graph and token routes), to model a remote service.
    #[serde(default)]
    pub latency_ms: u64,
    /// Faults injected into matching requests, first match wins.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// A write budget; requests over it are answered 429 with `Retry-After`.
    #[serde(default)]
    pub throttle: Option<ThrottleSpec>,
    /// What creating a pass does when the user already has one.
    #[serde(default)]
    pub existing_pass_on_create: ExistingPassRule,
}

/// The identity the client authenticates as, and what it is allowed to do.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppRegistration {
    /// Application (client) id; also the managed identity's client id.
    pub client_id: String,
    /// Client secret accepted by the client-credentials route.
    #[serde(deserialize_with = "deserialize_secret")]
    pub client_secret: Secret,
    /// Application permissions (app roles) granted, e.g. `User.Read.All`.
    pub roles: Vec<String>,
    /// Lifetime of issued access tokens.
    #[serde(default = "default_token_lifetime")]
    pub token_lifetime_seconds: u64,
    /// How the managed-identity route writes `expires_on`.
    #[serde(default)]
    pub expires_on_format: ExpiresOnFormat,
    /// The value clients must send as `X-IDENTITY-HEADER` (or legacy `secret`);
    /// a random one per start when absent.
    #[serde(default, deserialize_with = "deserialize_optional_secret")]
    pub identity_header: Option<Secret>,
    /// Serve the Azure Arc agent's challenge protocol, writing each challenge's key file to
    /// this folder; the client environment then names the Arc endpoint instead of
    /// Automation's.
    #[serde(default)]
    pub arc_key_folder: Option<PathBuf>,
}

fn default_token_lifetime() -> u64 {
    3599
}

fn deserialize_secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    String::deserialize(d).map(Secret::new)
}

fn deserialize_optional_secret<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Secret>, D::Error> {
    Option::<String>::deserialize(d).map(|s| s.map(Secret::new))
}

/// The formats Azure Automation's managed-identity endpoint has used for `expires_on`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ExpiresOnFormat {
    /// `"1795600000"`: epoch seconds as a JSON string (App Service 2019-08-01).
    #[default]
    EpochString,
    /// `1795600000`: epoch seconds as a JSON number.
    EpochNumber,
    /// `"11/29/2026 10:00:00 +00:00"`: a date-time text (the 2017-09-01 protocol).
    DateTime,
}

/// The tenant's Temporary Access Pass policy (`temporaryAccessPassAuthenticationMethodConfiguration`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TapPolicy {
    /// Whether the method is enabled in the tenant.
    #[serde(default)]
    pub state: PolicyState,
    /// Lifetime applied when a create request names none.
    #[serde(default = "default_lifetime")]
    pub default_lifetime_in_minutes: u32,
    /// Shortest lifetime a pass may have.
    #[serde(default = "default_lifetime")]
    pub minimum_lifetime_in_minutes: u32,
    /// Longest lifetime a pass may have.
    #[serde(default = "default_maximum_lifetime")]
    pub maximum_lifetime_in_minutes: u32,
    /// Length of generated passes, 8–48.
    #[serde(default = "default_length")]
    pub default_length: u32,
    /// When true every pass is one-time use and multi-use requests are refused.
    #[serde(default)]
    pub is_usable_once: bool,
}

fn default_lifetime() -> u32 {
    60
}

fn default_maximum_lifetime() -> u32 {
    480
}

fn default_length() -> u32 {
    8
}

impl Default for TapPolicy {
    /// Entra's documented defaults, but enabled (a disabled default would make every demo fail).
    fn default() -> Self {
        Self {
            state: PolicyState::Enabled,
            default_lifetime_in_minutes: default_lifetime(),
            minimum_lifetime_in_minutes: default_lifetime(),
            maximum_lifetime_in_minutes: default_maximum_lifetime(),
            default_length: default_length(),
            is_usable_once: false,
        }
    }
}

/// `state` of an authentication method configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicyState {
    /// Passes may be created.
    #[default]
    Enabled,
    /// Creating a pass is refused.
    Disabled,
}

/// One directory user.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserRecord {
    /// Object id (usually a GUID).
    pub id: String,
    /// Sign-in name; matched case-insensitively.
    pub user_principal_name: String,
    /// Primary SMTP address; `null` for users without one.
    #[serde(default)]
    pub mail: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Given name.
    #[serde(default)]
    pub given_name: Option<String>,
    /// Surname.
    #[serde(default)]
    pub surname: Option<String>,
    /// Job title.
    #[serde(default)]
    pub job_title: Option<String>,
    /// Two-letter country code, e.g. `DE`.
    #[serde(default)]
    pub usage_location: Option<String>,
    /// Language tag, e.g. `de-DE`.
    #[serde(default)]
    pub preferred_language: Option<String>,
    /// `Member` or `Guest`.
    #[serde(default)]
    pub user_type: UserType,
    /// Whether the user has an Exchange Online mailbox (needed to send mail as them).
    #[serde(default = "yes")]
    pub mailbox: bool,
    /// The time zone of the mailbox settings, in the format the Exchange admin set up: a
    /// Windows name (`W. Europe Standard Time`) or an IANA name (`Europe/Berlin`); `null`
    /// when none was chosen.
    #[serde(default)]
    pub mailbox_time_zone: Option<String>,
    /// Models policy targeting that leaves this user out: passes report `DisabledByPolicy`.
    #[serde(default)]
    pub tap_excluded_by_policy: bool,
    /// Models Entra replication lag: the first N lookups of this user answer 404.
    #[serde(default)]
    pub replication_lag_lookups: u32,
    /// Passes the user already has.
    #[serde(default)]
    pub temporary_access_passes: Vec<PassRecord>,
}

fn yes() -> bool {
    true
}

/// `userType` of a user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum UserType {
    /// A member of the tenant.
    #[default]
    Member,
    /// An invited external user.
    Guest,
}

/// A pass that exists when the simulator starts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PassRecord {
    /// Method id; a GUID is generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// The pass value; generated when absent.
    #[serde(default, deserialize_with = "deserialize_optional_secret")]
    pub temporary_access_pass: Option<Secret>,
    /// Creation time; now when absent.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub created_date_time: Option<OffsetDateTime>,
    /// Start of validity; the creation time when absent.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub start_date_time: Option<OffsetDateTime>,
    /// Lifetime; the policy default when absent.
    #[serde(default)]
    pub lifetime_in_minutes: Option<u32>,
    /// One-time use; the policy's setting when absent.
    #[serde(default)]
    pub is_usable_once: Option<bool>,
    /// A one-time pass that was already used to sign in (`OneTimeUsed`).
    #[serde(default)]
    pub used: bool,
}

/// A fault injected into requests that match `method` and `path`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSpec {
    /// HTTP method to match, case-insensitive; any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Path glob: `*` matches within one segment, `**` any number of segments.
    pub path: String,
    /// Answer with this status (and a Graph error envelope) instead of serving the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Retry-After` sent with `status`: seconds (may be fractional) or a text such as an HTTP date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<RetryAfter>,
    /// Error code in the envelope; derived from `status` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Error message in the envelope; derived from `status` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Wait this long before answering.
    #[serde(default)]
    pub delay_ms: u64,
    /// Serve the request, then drop the connection without a response.
    #[serde(default)]
    pub reset: bool,
    /// Serve the request, then send a truncated JSON body with the success status.
    #[serde(default)]
    pub malformed: bool,
    /// With `status`: serve the request first, so its effect happens, then answer with the
    /// status (a 500 after a create that Graph committed, a 404 for a pass already gone).
    #[serde(default)]
    pub after_effect: bool,
    /// With `status`: answer with this JSON document instead of an error envelope (e.g. a 200
    /// carrying another user than the one asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// How many matching requests the fault applies to; always when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

/// A `Retry-After` value as written in the tenant file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RetryAfter {
    /// Delay in seconds; fractions are sent as written (`0.5`).
    Seconds(f64),
    /// Sent verbatim, e.g. an HTTP date.
    Text(String),
}

impl RetryAfter {
    /// The header value.
    pub fn header_value(&self) -> String {
        match self {
            RetryAfter::Seconds(s) if s.fract() == 0.0 => format!("{}", *s as u64),
            RetryAfter::Seconds(s) => s.to_string(),
            RetryAfter::Text(t) => t.clone(),
        }
    }
}

/// A write budget per time window.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThrottleSpec {
    /// Writes (POST, PATCH, PUT, DELETE on Graph routes) allowed per window.
    pub writes_per_window: u32,
    /// Window length.
    pub window_ms: u64,
}

/// What creating a pass does when the user already has one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ExistingPassRule {
    /// Refuse with 400: the client must delete the old pass first (catches clients that skip it).
    Reject,
    /// Delete the old pass and create the new one, as the Graph reference describes.
    #[default]
    Replace,
}

impl TenantFile {
    /// Reads and validates a tenant file.
    pub fn load(path: impl AsRef<Path>) -> Result<TenantFile, SimulatorError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SimulatorError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates a tenant document held in memory.
    pub fn from_json(json: &str) -> Result<TenantFile, SimulatorError> {
        Self::parse(json, "tenant document")
    }

    fn parse(json: &str, origin: &str) -> Result<TenantFile, SimulatorError> {
        let de = &mut serde_json::Deserializer::from_str(json);
        let tenant: TenantFile = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = match e.path().to_string() {
                p if p == "." => "(document)".to_owned(),
                p => p,
            };
            SimulatorError::InvalidTenant {
                origin: origin.to_owned(),
                field,
                message: e.into_inner().to_string(),
            }
        })?;
        tenant
            .validate()
            .map_err(|(field, message)| SimulatorError::InvalidTenant {
                origin: origin.to_owned(),
                field,
                message,
            })?;
        Ok(tenant)
    }

    /// Checks what the types cannot: ranges, uniqueness, and consistent fault definitions.
    fn validate(&self) -> Result<(), (String, String)> {
        let fail = |field: &str, message: &str| Err((field.to_owned(), message.to_owned()));
        if self.tenant_id.trim().is_empty() {
            return fail("tenantId", "must not be empty");
        }
        if self.app.client_id.trim().is_empty() {
            return fail("app.clientId", "must not be empty");
        }
        if self.app.client_secret.expose().is_empty() {
            return fail("app.clientSecret", "must not be empty");
        }
        if self.app.token_lifetime_seconds == 0 {
            return fail("app.tokenLifetimeSeconds", "must be at least 1");
        }
        if self
            .app
            .arc_key_folder
            .as_ref()
            .is_some_and(|f| !f.is_absolute())
        {
            return fail("app.arcKeyFolder", "must be an absolute path");
        }
        self.policy.validate()?;
        let mut ids = HashSet::new();
        let mut upns = HashSet::new();
        for (i, user) in self.users.iter().enumerate() {
            let at = |field: &str| format!("users[{i}].{field}");
            if user.id.trim().is_empty() {
                return Err((at("id"), "must not be empty".into()));
            }
            if !ids.insert(user.id.to_lowercase()) {
                return Err((at("id"), format!("duplicate id {:?}", user.id)));
            }
            if user.user_principal_name.matches('@').count() != 1 {
                return Err((
                    at("userPrincipalName"),
                    "must be local@domain with exactly one @".into(),
                ));
            }
            if !upns.insert(user.user_principal_name.to_lowercase()) {
                return Err((
                    at("userPrincipalName"),
                    format!("duplicate {:?}", user.user_principal_name),
                ));
            }
            if user.temporary_access_passes.len() > 1 {
                return Err((
                    at("temporaryAccessPasses"),
                    "a user can have at most one Temporary Access Pass".into(),
                ));
            }
            for (j, pass) in user.temporary_access_passes.iter().enumerate() {
                if pass.lifetime_in_minutes == Some(0) {
                    return Err((
                        at(&format!("temporaryAccessPasses[{j}].lifetimeInMinutes")),
                        "must be at least 1".into(),
                    ));
                }
            }
        }
        for (i, fault) in self.faults.iter().enumerate() {
            fault
                .validate()
                .map_err(|(field, message)| (format!("faults[{i}].{field}"), message))?;
        }
        if let Some(t) = &self.throttle {
            if t.writes_per_window == 0 {
                return fail("throttle.writesPerWindow", "must be at least 1");
            }
            if t.window_ms == 0 {
                return fail("throttle.windowMs", "must be at least 1");
            }
        }
        Ok(())
    }
}

impl TapPolicy {
    fn validate(&self) -> Result<(), (String, String)> {
        let err = |field: &str, message: String| Err((format!("policy.{field}"), message));
        if !(8..=48).contains(&self.default_length) {
            return err(
                "defaultLength",
                format!("{} is outside 8–48", self.default_length),
            );
        }
        for (field, v) in [
            ("minimumLifetimeInMinutes", self.minimum_lifetime_in_minutes),
            ("maximumLifetimeInMinutes", self.maximum_lifetime_in_minutes),
            ("defaultLifetimeInMinutes", self.default_lifetime_in_minutes),
        ] {
            if !(10..=43200).contains(&v) {
                return err(field, format!("{v} is outside 10–43200 minutes"));
            }
        }
        if self.minimum_lifetime_in_minutes > self.maximum_lifetime_in_minutes {
            return err(
                "minimumLifetimeInMinutes",
                "must not exceed maximumLifetimeInMinutes".into(),
            );
        }
        if !(self.minimum_lifetime_in_minutes..=self.maximum_lifetime_in_minutes)
            .contains(&self.default_lifetime_in_minutes)
        {
            return err(
                "defaultLifetimeInMinutes",
                "must lie between minimumLifetimeInMinutes and maximumLifetimeInMinutes".into(),
            );
        }
        Ok(())
    }
}

impl FaultSpec {
    /// Checks that the fault is meaningful: a path, one effect, a real status.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let err = |field: &str, message: &str| Err((field.to_owned(), message.to_owned()));
        if !self.path.starts_with('/') {
            return err("path", "must start with /");
        }
        if let Some(m) = &self.method
            && (m.is_empty() || !m.chars().all(|c| c.is_ascii_alphabetic()))
        {
            return err("method", "must be an HTTP method such as GET or POST");
        }
        let effects = [self.status.is_some(), self.reset, self.malformed];
        if effects.iter().filter(|e| **e).count() > 1 {
            return err(
                "status",
                "status, reset and malformed are alternatives; use one",
            );
        }
        if self.delay_ms == 0 && !effects.iter().any(|e| *e) {
            return err(
                "path",
                "the fault does nothing: give status, delayMs, reset or malformed",
            );
        }
        if let Some(s) = self.status
            && !(100..=599).contains(&s)
        {
            return err("status", "must be an HTTP status code (100–599)");
        }
        if self.retry_after.is_some() && self.status.is_none() {
            return err("retryAfter", "only applies together with status");
        }
        if self.after_effect && self.status.is_none() {
            return err("afterEffect", "only applies together with status");
        }
        if self.body.is_some() && self.status.is_none() {
            return err("body", "only applies together with status");
        }
        if let Some(RetryAfter::Seconds(s)) = self.retry_after
            && !(s.is_finite() && s >= 0.0)
        {
            return err("retryAfter", "must be a non-negative number of seconds");
        }
        if self.times == Some(0) {
            return err("times", "must be at least 1 (omit it for always)");
        }
        Ok(())
    }
}
