//! The validated request: everything downstream needs, typed, so nothing after the input stage
//! sees raw JSON or re-checks a value.

use time::OffsetDateTime;

use super::merge::ResolvedParameters;
use super::rules::TypedValue;
use super::user_name::UserName;
use super::value::ParamValue;
use crate::address::EmailAddress;
use crate::notify::{Branding, Color, HttpsUrl, PhoneNumber, ServiceDesk};

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
    pub email_from: Option<EmailAddress>,
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
    /// Builds the request from parameters the merge has resolved without problems: then every
    /// parameter has a value, its manifest default at least, or it was required and given.
    pub(super) fn from_parameters(
        job_id: Option<String>,
        p: ResolvedParameters,
        warnings: Vec<String>,
        notes: Vec<String>,
    ) -> Self {
        let service_desk = ServiceDesk {
            display_name: p.text("ServiceDeskDisplayName"),
            email: p.typed("ServiceDeskEmail", TypedValue::email),
            phone: p.typed("ServiceDeskPhone", TypedValue::phone),
            portal_url: p.typed("ServiceDeskPortalUrl", TypedValue::https),
            ticket_url: p.typed("ServiceDeskTicketUrl", TypedValue::https),
        };
        let branding = Branding {
            header_image_url: p.typed("BrandingHeaderImageUrl", TypedValue::https),
            footer_image_url: p.typed("BrandingFooterImageUrl", TypedValue::https),
            footer_link: p.typed("BrandingFooterLink", TypedValue::https),
            accent_color: p.typed("BrandingAccentColor", TypedValue::color),
            text_color: p.typed("BrandingTextColor", TypedValue::color),
        };
        Self {
            job_id,
            user: p
                .typed("UserName", TypedValue::user)
                .unwrap_or_else(|| unresolved("UserName")),
            // The manifest's minimum keeps it positive.
            lifetime_in_minutes: u32::try_from(p.required_int("LifetimeInMinutes"))
                .unwrap_or_else(|_| unresolved("LifetimeInMinutes")),
            one_time_use_only: p.required_flag("OneTimeUseOnly"),
            start_date_time: p.typed("StartDateTime", TypedValue::start),
            notify_user: p.required_flag("NotifyUser"),
            language_override: p.text("LanguageOverride"),
            email_from: p.typed("EmailFrom", TypedValue::email),
            service_desk,
            branding,
            caller_name: p
                .text("CallerName")
                .unwrap_or_else(|| unresolved("CallerName")),
            parameters: p,
            warnings,
            notes,
        }
    }
}

/// A merge without problems resolves every parameter; anything else is a defect.
fn unresolved<T>(name: &str) -> T {
    panic!("the merge resolved no valid {name}")
}

impl ResolvedParameters {
    /// The typed value of `name`, `None` when it is not set.
    fn typed<T>(&self, name: &str, pick: fn(&TypedValue) -> Option<T>) -> Option<T> {
        self.get(name)?.typed.as_ref().and_then(pick)
    }

    fn required(&self, name: &str) -> &ParamValue {
        self.get(name)
            .map(|p| &p.value)
            .unwrap_or_else(|| unresolved(name))
    }

    fn required_int(&self, name: &str) -> i32 {
        match self.required(name) {
            ParamValue::Int32(i) => *i,
            _ => unresolved(name),
        }
    }

    fn required_flag(&self, name: &str) -> bool {
        match self.required(name) {
            ParamValue::Boolean(b) => *b,
            _ => unresolved(name),
        }
    }
}

impl TypedValue {
    fn user(&self) -> Option<UserName> {
        match self {
            Self::User(v) => Some(v.clone()),
            _ => None,
        }
    }

    fn start(&self) -> Option<OffsetDateTime> {
        match self {
            Self::Start(v) => Some(*v),
            _ => None,
        }
    }

    fn email(&self) -> Option<EmailAddress> {
        match self {
            Self::Email(v) => Some(v.clone()),
            _ => None,
        }
    }

    fn phone(&self) -> Option<PhoneNumber> {
        match self {
            Self::Phone(v) => Some(v.clone()),
            _ => None,
        }
    }

    fn https(&self) -> Option<HttpsUrl> {
        match self {
            Self::Https(v) => Some(v.clone()),
            _ => None,
        }
    }

    fn color(&self) -> Option<Color> {
        match self {
            Self::Color(v) => Some(*v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::prepare;

    #[test]
    fn defaults_come_from_the_manifest_and_values_arrive_typed() {
        let request = prepare(
            br##"{"UserName":"0c9d3b4e-1f2a-4b5c-8d7e-9f0a1b2c3d4e","CallerName":"op",
                 "StartDateTime":"2999-01-01T09:00:00+01:00","ServiceDeskPhone":"089 1234567",
                 "BrandingAccentColor":"#00a1f1","ServiceDeskPortalUrl":" https://help.contoso.com"}"##,
            None,
            OffsetDateTime::now_utc(),
        )
        .unwrap();
        assert!(matches!(request.user, UserName::ObjectId(_)));
        assert_eq!(request.lifetime_in_minutes, 240);
        assert!(request.one_time_use_only);
        assert!(!request.notify_user);
        assert_eq!(
            request.start_date_time,
            Some(time::macros::datetime!(2999-01-01 08:00 UTC))
        );
        let desk = &request.service_desk;
        assert_eq!(
            desk.phone.as_ref().map(PhoneNumber::as_str),
            Some("089 1234567")
        );
        assert_eq!(
            desk.portal_url.as_ref().map(HttpsUrl::written),
            Some("https://help.contoso.com")
        );
        assert_eq!(desk.email, None);
        assert_eq!(
            request
                .branding
                .accent_color
                .map(|c| c.to_string())
                .as_deref(),
            Some("#00A1F1")
        );
    }
}
