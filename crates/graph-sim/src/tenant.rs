//! The simulated tenant's directory at run time: users, their passes, and the rules Graph
//! enforces when a pass is created.

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use super::envelope::GraphError;
use super::pass::{TemporaryAccessPass, generate_pass_value, new_id};
use super::tenant_file::{
    ExistingPassRule, PolicyState, TapPolicy, TenantFile, UserRecord, UserType,
};
use crate::time_format::format_rfc3339;

/// How far in the past a requested `startDateTime` may lie, to absorb clock skew.
const START_TOLERANCE: Duration = Duration::minutes(5);

/// A user of the simulated directory.
#[derive(Debug, Clone)]
pub(crate) struct SimulatedUser {
    pub profile: UserRecord,
    pub passes: Vec<TemporaryAccessPass>,
    /// Lookups still answered 404, modelling replication lag after the user was created.
    hidden_lookups: u32,
}

/// A create request's settings, already parsed from the body.
#[derive(Debug, Clone, Default)]
pub(crate) struct PassRequest {
    /// Signed, so a negative request is refused by the range check rather than the parser.
    pub lifetime_in_minutes: Option<i64>,
    pub is_usable_once: Option<bool>,
    pub start_date_time: Option<OffsetDateTime>,
}

/// A pass just created, with what the create response needs besides it.
#[derive(Debug, Clone)]
pub(crate) struct CreatedPass {
    pub pass: TemporaryAccessPass,
    /// Whether the user is outside the policy's targets.
    pub disabled: bool,
    /// The owner's object id, for the `Location` header.
    pub user_id: String,
}

/// Users, passes and the TAP policy.
#[derive(Debug)]
pub(crate) struct SimulatedTenant {
    pub tenant_id: String,
    pub policy: TapPolicy,
    existing_pass_rule: ExistingPassRule,
    users: Vec<SimulatedUser>,
}

impl SimulatedTenant {
    pub fn new(file: &TenantFile, now: OffsetDateTime) -> Self {
        let policy = file.policy.clone();
        let users = file
            .users
            .iter()
            .map(|record| {
                let passes = record
                    .temporary_access_passes
                    .iter()
                    .map(|p| {
                        let created = p.created_date_time.unwrap_or(now);
                        TemporaryAccessPass {
                            id: p.id.clone().unwrap_or_else(new_id),
                            value: p
                                .temporary_access_pass
                                .clone()
                                .unwrap_or_else(|| generate_pass_value(policy.default_length)),
                            created,
                            start: p.start_date_time.unwrap_or(created),
                            lifetime_minutes: p
                                .lifetime_in_minutes
                                .unwrap_or(policy.default_lifetime_in_minutes),
                            is_usable_once: p.is_usable_once.unwrap_or(policy.is_usable_once),
                            used: p.used,
                        }
                    })
                    .collect();
                let mut profile = record.clone();
                profile.temporary_access_passes.clear();
                SimulatedUser {
                    hidden_lookups: record.replication_lag_lookups,
                    profile,
                    passes,
                }
            })
            .collect();
        Self {
            tenant_id: file.tenant_id.clone(),
            policy,
            existing_pass_rule: file.existing_pass_on_create,
            users,
        }
    }

    /// The user addressed by a Graph path segment (object id or UPN, case-insensitive).
    /// Counts the lookup against the user's replication lag.
    pub fn lookup(&mut self, key: &str) -> Result<&mut SimulatedUser, GraphError> {
        let user = self
            .users
            .iter_mut()
            .find(|u| {
                u.profile.id.eq_ignore_ascii_case(key)
                    || u.profile.user_principal_name.to_lowercase() == key.to_lowercase()
            })
            .ok_or_else(|| GraphError::user_not_found(key))?;
        if user.hidden_lookups > 0 {
            user.hidden_lookups -= 1;
            return Err(GraphError::user_not_found(key));
        }
        Ok(user)
    }

    /// The mailbox owner Exchange resolves for `/users/{sender}/sendMail`: id, UPN or address.
    pub fn mail_sender(&self, key: &str) -> Option<&SimulatedUser> {
        let key = key.to_lowercase();
        self.users.iter().find(|u| {
            u.profile.id.to_lowercase() == key
                || u.profile.user_principal_name.to_lowercase() == key
                || u.profile.mail.as_deref().map(str::to_lowercase) == Some(key.clone())
        })
    }

    /// Whether passes of this user are out of the policy's reach.
    pub fn disabled_for(&self, user: &SimulatedUser) -> bool {
        self.policy.state == PolicyState::Disabled || user.profile.tap_excluded_by_policy
    }

    /// Creates a pass for the user at `key`, enforcing what Entra enforces.
    pub fn create_pass(
        &mut self,
        key: &str,
        request: PassRequest,
        now: OffsetDateTime,
    ) -> Result<CreatedPass, GraphError> {
        let policy = self.policy.clone();
        let rule = self.existing_pass_rule;
        let user = self.lookup(key)?;
        if user.profile.user_type == UserType::Guest {
            return Err(GraphError::bad_request(
                "Temporary Access Pass cannot be added to an external guest user.",
            ));
        }
        if policy.state == PolicyState::Disabled {
            return Err(GraphError::bad_request(
                "Converged UserCredentialPolicy does not allow creating or updating the \
                 TemporaryAccessPass authentication method: the method is disabled in the \
                 tenant's authentication methods policy.",
            ));
        }
        let (min, max) = (
            policy.minimum_lifetime_in_minutes,
            policy.maximum_lifetime_in_minutes,
        );
        let requested = request
            .lifetime_in_minutes
            .unwrap_or(i64::from(policy.default_lifetime_in_minutes));
        let lifetime = u32::try_from(requested)
            .ok()
            .filter(|l| (min..=max).contains(l))
            .ok_or_else(|| {
                // Graph's own wording, which clients parse for the range.
                GraphError::bad_request(format!(
                    "Invalid LifetimeInMinutes specified. The valid range between {min} and {max}."
                ))
            })?;
        if policy.is_usable_once && request.is_usable_once == Some(false) {
            return Err(GraphError::bad_request(
                "The Temporary Access Pass policy requires one-time use: a pass with \
                 isUsableOnce false cannot be created.",
            ));
        }
        if let Some(start) = request.start_date_time
            && start < now - START_TOLERANCE
        {
            return Err(GraphError::bad_request(format!(
                "The startDateTime {} is in the past; it must be now or later.",
                format_rfc3339(start)
            )));
        }
        if let Some(existing) = user.passes.first() {
            match rule {
                ExistingPassRule::Reject => {
                    return Err(GraphError::bad_request(format!(
                        "A user can only have one Temporary Access Pass. Delete the existing \
                         one (id {}) before creating a new one.",
                        existing.id
                    )));
                }
                ExistingPassRule::Replace => user.passes.clear(),
            }
        }
        let pass = TemporaryAccessPass {
            id: new_id(),
            value: generate_pass_value(policy.default_length),
            created: now,
            start: request.start_date_time.unwrap_or(now),
            lifetime_minutes: lifetime,
            is_usable_once: policy.is_usable_once || request.is_usable_once.unwrap_or(false),
            used: false,
        };
        user.passes.push(pass.clone());
        Ok(CreatedPass {
            pass,
            disabled: user.profile.tap_excluded_by_policy,
            user_id: user.profile.id.clone(),
        })
    }

    /// Everything in the tenant, pass values included: for `/_sim/state` only.
    pub fn snapshot(&self, now: OffsetDateTime) -> Value {
        let users: Vec<Value> = self
            .users
            .iter()
            .map(|u| {
                let disabled = self.disabled_for(u);
                let passes: Vec<Value> = u
                    .passes
                    .iter()
                    .map(|p| Value::Object(p.to_graph(now, disabled, true)))
                    .collect();
                let mut user = u.graph_properties();
                user.insert("mailbox".into(), json!(u.profile.mailbox));
                user.insert("mailboxTimeZone".into(), json!(u.profile.mailbox_time_zone));
                user.insert(
                    "tapExcludedByPolicy".into(),
                    json!(u.profile.tap_excluded_by_policy),
                );
                user.insert("temporaryAccessPasses".into(), Value::Array(passes));
                Value::Object(user)
            })
            .collect();
        json!({
            "_note": "Simulated tenant inspection: pass values are shown here for testing only; \
                      Microsoft Graph returns a pass value once, in the create response.",
            "tenantId": self.tenant_id,
            "policy": self.policy,
            "users": users,
        })
    }
}

/// The properties Graph returns for `GET /users/{id}` without `$select`.
pub(crate) const DEFAULT_USER_PROPERTIES: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

impl SimulatedUser {
    /// Every user property the simulator knows, under Graph's names.
    pub fn graph_properties(&self) -> serde_json::Map<String, Value> {
        let p = &self.profile;
        let Value::Object(map) = json!({
            "businessPhones": [],
            "displayName": p.display_name,
            "givenName": p.given_name,
            "jobTitle": p.job_title,
            "mail": p.mail,
            "mobilePhone": null,
            "officeLocation": null,
            "preferredLanguage": p.preferred_language,
            "surname": p.surname,
            "userPrincipalName": p.user_principal_name,
            "id": p.id,
            "accountEnabled": true,
            "userType": p.user_type,
            "usageLocation": p.usage_location,
        }) else {
            unreachable!("json! of an object literal is an object")
        };
        map
    }
}
