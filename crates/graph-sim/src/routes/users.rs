//! `GET /users/{id | userPrincipalName}` with `$select`.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::form;
use super::graph_path::ApiVersion;
use crate::envelope::{GraphError, odata_json};
use crate::state::{SimulatorState, lock};
use crate::tenant::DEFAULT_USER_PROPERTIES;

/// What Graph answers for a `user` property the tenant file does not model.
#[derive(Clone, Copy)]
enum Unset {
    Null,
    /// Collections are empty rather than null.
    Empty,
    /// A non-nullable scalar: the value Graph reports when nothing was set.
    Fixed(fn() -> Value),
}

/// Every structural property of `microsoft.graph.user` in Graph's v1.0 metadata that the
/// tenant file does not model, so `$select` of any of them answers as Graph does; the
/// conformance test holds this list to the metadata extract in `tests/data`.
const UNMODELLED_USER_PROPERTIES: &[(&str, Unset)] = &[
    ("deletedDateTime", Unset::Null),
    ("ageGroup", Unset::Null),
    ("assignedLicenses", Unset::Empty),
    ("assignedPlans", Unset::Empty),
    ("authorizationInfo", Unset::Null),
    ("city", Unset::Null),
    ("companyName", Unset::Null),
    ("consentProvidedForMinor", Unset::Null),
    ("country", Unset::Null),
    ("createdDateTime", Unset::Null),
    ("creationType", Unset::Null),
    ("customSecurityAttributes", Unset::Null),
    ("department", Unset::Null),
    ("employeeHireDate", Unset::Null),
    ("employeeId", Unset::Null),
    ("employeeLeaveDateTime", Unset::Null),
    ("employeeOrgData", Unset::Null),
    ("employeeType", Unset::Null),
    ("externalUserState", Unset::Null),
    ("externalUserStateChangeDateTime", Unset::Null),
    ("faxNumber", Unset::Null),
    ("identities", Unset::Empty),
    ("imAddresses", Unset::Empty),
    ("isManagementRestricted", Unset::Null),
    ("isResourceAccount", Unset::Null),
    ("lastPasswordChangeDateTime", Unset::Null),
    ("legalAgeGroupClassification", Unset::Null),
    ("licenseAssignmentStates", Unset::Empty),
    ("mailNickname", Unset::Null),
    ("onPremisesDistinguishedName", Unset::Null),
    ("onPremisesDomainName", Unset::Null),
    ("onPremisesExtensionAttributes", Unset::Null),
    ("onPremisesImmutableId", Unset::Null),
    ("onPremisesLastSyncDateTime", Unset::Null),
    ("onPremisesProvisioningErrors", Unset::Empty),
    ("onPremisesSamAccountName", Unset::Null),
    ("onPremisesSecurityIdentifier", Unset::Null),
    ("onPremisesSyncEnabled", Unset::Null),
    ("onPremisesUserPrincipalName", Unset::Null),
    ("otherMails", Unset::Empty),
    ("passwordPolicies", Unset::Null),
    ("passwordProfile", Unset::Null),
    ("postalCode", Unset::Null),
    ("preferredDataLocation", Unset::Null),
    ("print", Unset::Null),
    ("provisionedPlans", Unset::Empty),
    ("proxyAddresses", Unset::Empty),
    ("securityIdentifier", Unset::Null),
    ("serviceProvisioningErrors", Unset::Empty),
    ("showInAddressList", Unset::Null),
    ("signInActivity", Unset::Null),
    ("signInSessionsValidFromDateTime", Unset::Null),
    ("state", Unset::Null),
    ("streetAddress", Unset::Null),
    ("mailboxSettings", Unset::Null),
    ("deviceEnrollmentLimit", Unset::Fixed(|| json!(5))),
    ("aboutMe", Unset::Null),
    ("birthday", Unset::Fixed(|| json!("0001-01-01T00:00:00Z"))),
    ("hireDate", Unset::Fixed(|| json!("0001-01-01T00:00:00Z"))),
    ("interests", Unset::Empty),
    ("mySite", Unset::Null),
    ("pastProjects", Unset::Empty),
    ("preferredName", Unset::Null),
    ("responsibilities", Unset::Empty),
    ("schools", Unset::Empty),
    ("skills", Unset::Empty),
];

/// The canonical name and value of `name` (matched case-insensitively, as Graph does), from
/// the modelled properties or the unmodelled defaults; `None` for a name `user` does not have.
fn selected(all: &Map<String, Value>, name: &str) -> Option<(String, Value)> {
    if let Some((canonical, value)) = all.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
        return Some((canonical.clone(), value.clone()));
    }
    let (canonical, unset) = UNMODELLED_USER_PROPERTIES
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))?;
    let value = match unset {
        Unset::Null => Value::Null,
        Unset::Empty => Value::Array(Vec::new()),
        Unset::Fixed(value) => value(),
    };
    Some(((*canonical).to_owned(), value))
}

pub(crate) fn get(
    sim: &SimulatorState,
    version: ApiVersion,
    key: &str,
    query: Option<&str>,
) -> Result<Response, GraphError> {
    let pairs = form::decode_pairs(query.unwrap_or_default());
    let select = form::find(&pairs, "$select").filter(|s| !s.trim().is_empty());
    let mut tenant = lock(&sim.tenant);
    let user = tenant.lookup(key)?;
    let all = user.graph_properties();

    let mut body = Map::new();
    match select {
        Some(select) => {
            let names: Vec<&str> = select.split(',').map(str::trim).collect();
            body.insert(
                "@odata.context".into(),
                format!("{}#users({})/$entity", version.metadata(), names.join(",")).into(),
            );
            for name in names {
                let (canonical, value) = selected(&all, name).ok_or_else(|| {
                    GraphError::new(
                        StatusCode::BAD_REQUEST,
                        "Request_BadRequest",
                        format!(
                            "Could not find a property named '{name}' on type 'microsoft.graph.user'."
                        ),
                    )
                })?;
                body.insert(canonical, value);
            }
        }
        None => {
            body.insert(
                "@odata.context".into(),
                format!("{}#users/$entity", version.metadata()).into(),
            );
            for name in DEFAULT_USER_PROPERTIES {
                body.insert((*name).to_owned(), all[*name].clone());
            }
        }
    }
    Ok(odata_json(StatusCode::OK, &body.into()))
}
