//! The validated request: everything downstream needs, typed, so nothing after the input stage
//! sees raw JSON or re-checks a value.

use time::OffsetDateTime;

use super::merge::ResolvedParameters;
use super::rules::{is_object_id, parse_start};
use crate::notify::{Branding, ServiceDesk};

/// The user the pass is for, as the caller named them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserName {
    /// A user principal name, `local@domain`.
    Upn(String),
    /// An Entra object id (GUID).
    ObjectId(String),
}

impl UserName {
    /// The name as given.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Upn(s) | Self::ObjectId(s) => s,
        }
    }
}

/// A fully validated request to create a pass.
#[derive(Debug, Clone)]
pub struct TapRequest {
    pub job_id: Option<String>,
    pub user: UserName,
    pub lifetime_in_minutes: u32,
    pub one_time_use_only: bool,
    /// When the pass starts, in UTC; `None` means now.
    pub start_date_time: Option<OffsetDateTime>,
    pub notify_user: bool,
    /// A shipped language code, or `None` to choose from the user's profile.
    pub language_override: Option<String>,
    pub email_from: Option<String>,
    pub service_desk: ServiceDesk,
    pub branding: Branding,
    pub caller_name: String,
    /// Every parameter with its source, for `validate` and the Verbose stream.
    pub parameters: ResolvedParameters,
    /// Non-fatal input problems, to be logged as warnings.
    pub warnings: Vec<String>,
    /// Input details for the Verbose stream.
    pub notes: Vec<String>,
}

impl TapRequest {
    /// Builds the request from parameters the merge has resolved without problems.
    pub(super) fn from_parameters(
        job_id: Option<String>,
        p: ResolvedParameters,
        warnings: Vec<String>,
        notes: Vec<String>,
    ) -> Self {
        let user_name = p.text("UserName").unwrap_or_default();
        let user = if is_object_id(&user_name) {
            UserName::ObjectId(user_name)
        } else {
            UserName::Upn(user_name)
        };
        Self {
            job_id,
            user,
            lifetime_in_minutes: p
                .int("LifetimeInMinutes")
                .and_then(|i| u32::try_from(i).ok())
                .unwrap_or(240),
            one_time_use_only: p.flag("OneTimeUseOnly"),
            start_date_time: p.text("StartDateTime").and_then(|s| parse_start(&s)),
            notify_user: p.flag("NotifyUser"),
            language_override: p.text("LanguageOverride"),
            email_from: p.text("EmailFrom"),
            service_desk: ServiceDesk {
                display_name: p.text("ServiceDeskDisplayName"),
                email: p.text("ServiceDeskEmail"),
                phone: p.text("ServiceDeskPhone"),
                portal_url: p.text("ServiceDeskPortalUrl"),
                ticket_url: p.text("ServiceDeskTicketUrl"),
            },
            branding: Branding {
                header_image_url: p.text("BrandingHeaderImageUrl"),
                footer_image_url: p.text("BrandingFooterImageUrl"),
                footer_link: p.text("BrandingFooterLink"),
                accent_color: p.text("BrandingAccentColor"),
                text_color: p.text("BrandingTextColor"),
            },
            caller_name: p.text("CallerName").unwrap_or_default(),
            parameters: p,
            warnings,
            notes,
        }
    }
}
