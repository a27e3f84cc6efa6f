//! What the email says, as plain data. The pass is deliberately not part of it.

use time::OffsetDateTime;

use super::color::Color;
use super::links::HttpsUrl;
use super::local_time::TimeZoneChoice;
use super::phone::PhoneNumber;
use crate::address::EmailAddress;

/// Everything the notification email needs to know about the new pass and who to call.
///
/// There is no field for the pass value, and there must never be one: the email tells the
/// user *that* a pass exists; the pass itself reaches them through a separate channel.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The account the pass was created for, shown to the user.
    pub user_principal_name: String,
    /// The user's display name for the greeting, when Graph returned one.
    pub display_name: Option<String>,
    /// When the pass becomes usable.
    pub start: OffsetDateTime,
    /// How long the pass stays usable after `start`.
    pub lifetime_minutes: u32,
    /// Whether the pass works for one sign-in only.
    pub is_usable_once: bool,
    /// The zone the times are shown in (with UTC beside them).
    pub time_zone: TimeZoneChoice,
    /// How the user reaches IT; every part is optional.
    pub service_desk: ServiceDesk,
    /// The tenant's look: colours and image URLs.
    pub branding: Branding,
}

/// Contact details of the IT Service Desk, as configured and validated.
#[derive(Debug, Clone, Default)]
pub struct ServiceDesk {
    /// Name shown as the sender's signature and the heading of the contact block.
    pub display_name: Option<String>,
    /// Address for a `mailto:` link.
    pub email: Option<EmailAddress>,
    /// Number for a `tel:` link when in international format (`+49 89 1234-567`).
    pub phone: Option<PhoneNumber>,
    /// Self-service portal.
    pub portal_url: Option<HttpsUrl>,
    /// Where to open a ticket.
    pub ticket_url: Option<HttpsUrl>,
}

/// The tenant's branding, as configured and validated.
#[derive(Debug, Clone, Default)]
pub struct Branding {
    /// Image above the message, fetched and attached inline.
    pub header_image_url: Option<HttpsUrl>,
    /// Image in the footer, fetched and attached inline.
    pub footer_image_url: Option<HttpsUrl>,
    /// Where the footer image (or, without one, a footer link) points.
    pub footer_link: Option<HttpsUrl>,
    /// For the heading band and links; the default accent when unset.
    pub accent_color: Option<Color>,
    /// For body text; the default text colour when unset.
    pub text_color: Option<Color>,
}
