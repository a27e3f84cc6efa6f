//! The user notification email: language choice, rendering from the
//! layout and message catalogs in `templates/` (compiled in), branding images as inline
//! attachments, and the sendMail request body.
//!
//! The pass never reaches this module: [`Notice`] has no field for it. The email says
//! that a pass exists; IT hands over the pass itself through another channel.
//!
//! A caller's sequence: [`choose_language`] and [`choose_time_zone`] → [`fetch_branding`] → [`render`] →
//! [`sendmail_body`] (→ [`write_outbox`] for previews). Every `warnings` entry and every
//! [`ImageFailure`] is for the Warning stream (its detail for Verbose); none stops the email.

mod branding;
mod catalog;
mod color;
mod dates;
mod destination;
mod image;
mod language;
mod links;
mod local_time;
mod markup;
mod message;
mod notice;
mod phone;
mod render;

pub use branding::{
    BrandingError, IMAGE_TIMEOUT, ImageFailure, ImageFetcher, ImageSlot, InlineImage, InlineImages,
    MAX_IMAGE_BYTES, fetch_branding, fetch_image,
};
pub use color::Color;
pub use destination::{DestinationRefused, Destinations, is_public};
pub use image::ImageFormat;
pub use language::{
    Language, LanguageChoice, LanguageReason, SHIPPED_LANGUAGES, UnknownLanguage, choose_language,
};
pub use links::{HttpsUrl, LinkRefused, SafeHref};
pub use local_time::{TimeZoneChoice, TimeZoneReason, choose_time_zone};
pub use message::{OutboxEntry, recipient, sendmail_body, write_outbox};
pub use notice::{Branding, Notice, ServiceDesk};
pub use phone::PhoneNumber;
pub use render::{RenderedEmail, render};

/// Why an email could not be rendered. These are defects of the shipped templates, not
/// of the input: every input problem is worked around and reported as a warning.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// An embedded message catalog does not parse.
    #[error("the {language} message catalog is invalid: {source}")]
    Catalog {
        /// The catalog's language.
        language: Language,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The layout did not render.
    #[error("the email layout failed: {0}")]
    Render(#[source] askama::Error),
}
