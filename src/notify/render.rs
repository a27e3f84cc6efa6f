//! Turning a [`Notice`] into the subject and HTML body of the email.

use std::collections::BTreeMap;

use handlebars::Handlebars;
use serde::Serialize;

use super::NotifyError;
use super::branding::{InlineImage, InlineImages};
use super::catalog::Catalog;
use super::color::Color;
use super::dates::{end_of, format_date_time, format_lifetime};
use super::image::pixel_size;
use super::language::LanguageChoice;
use super::links::{HttpsUrl, SafeHref};
use super::notice::{Notice, ServiceDesk};
use crate::text::strip_unsafe;

/// The one HTML layout; the words come from the catalogs.
const LAYOUT: &str = include_str!("../../templates/email.html.hbs");

/// The content column of the 640 px layout, inside its 32 px side padding.
const CONTENT_WIDTH: u32 = 576;
/// Footer images are logos, not banners.
const FOOTER_IMAGE_MAX_WIDTH: u32 = 240;
/// No image is shown taller than this, whatever its header says.
const MAX_IMAGE_HEIGHT: u32 = 600;

/// A ready email: what to put in the sendMail body, and what the caller should log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    /// Plain-text subject line.
    pub subject: String,
    /// The complete HTML document.
    pub html: String,
    /// Configuration that was worked around (a phone number shown without a link), one
    /// sentence each, for the Warning stream.
    pub warnings: Vec<String>,
}

/// Renders the email in the chosen language. Values from the notice are HTML-escaped;
/// links are made only by [`SafeHref`] from the notice's validated values. A phone number
/// without its country code is shown unlinked and reported in [`RenderedEmail::warnings`].
pub fn render(
    notice: &Notice,
    choice: &LanguageChoice,
    images: &InlineImages,
) -> Result<RenderedEmail, NotifyError> {
    let language = choice.language;
    let catalog = Catalog::load(language)?;
    let mut warnings = Vec::new();

    let mut engine = Handlebars::new();
    engine.set_strict_mode(true);

    // Both come from Graph. Escaping keeps markup out; stripping keeps out the controls and
    // direction marks that would reorder what the user reads (a name that shows a different
    // account or a reversed link text).
    let upn = strip_unsafe(notice.user_principal_name.trim());
    let upn = upn.trim();
    let display_name = notice.display_name.as_deref().map(strip_unsafe);
    let display_name = display_name
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty());
    // The catalog fragments see only these two values, both escaped on the way in.
    let fragment_values = FragmentValues {
        upn,
        display_name: display_name.unwrap_or_default(),
    };
    let text_templates = serde_json::to_value(&catalog.text).map_err(NotifyError::Context)?;
    let mut text = BTreeMap::new();
    for (key, template) in text_templates.as_object().into_iter().flatten() {
        let template = template.as_str().unwrap_or_default();
        let fragment = engine
            .render_template(template, &fragment_values)
            .map_err(|source| NotifyError::render(format!("{language}.text.{key}"), source))?;
        text.insert(key.clone(), fragment);
    }

    let accent = notice
        .branding
        .accent_color
        .unwrap_or(Color::DEFAULT_ACCENT);
    let text_color = notice.branding.text_color.unwrap_or(Color::DEFAULT_TEXT);

    let usage = if notice.is_usable_once {
        &text["usage_once"]
    } else {
        &text["usage_multiple"]
    };
    let details = Details {
        account: upn,
        valid_from: format_date_time(&catalog, notice.start, &notice.time_zone),
        valid_until: format_date_time(
            &catalog,
            end_of(notice.start, notice.lifetime_minutes),
            &notice.time_zone,
        ),
        duration: format_lifetime(language, &catalog, notice.lifetime_minutes),
        usage: usage.clone(),
    };

    let context = LayoutContext {
        lang: language.code(),
        subject: &catalog.subject,
        preheader: &catalog.preheader,
        accent,
        on_accent: accent.readable_text_on(),
        text_color,
        display_name,
        details,
        service_desk: ServiceDeskView::new(&notice.service_desk, &mut warnings),
        header_image: images
            .header
            .as_ref()
            .map(|image| ImageView::new(image, CONTENT_WIDTH)),
        footer_image: images
            .footer
            .as_ref()
            .map(|image| ImageView::new(image, FOOTER_IMAGE_MAX_WIDTH)),
        footer_link: notice.branding.footer_link.as_ref().map(SafeHref::https),
        text,
    };
    let html = engine
        .render_template(LAYOUT, &context)
        .map_err(|source| NotifyError::render("email.html.hbs".to_owned(), source))?;

    Ok(RenderedEmail {
        subject: catalog.subject,
        html,
        warnings,
    })
}

#[derive(Serialize)]
struct FragmentValues<'a> {
    upn: &'a str,
    display_name: &'a str,
}

/// What the layout sees. `text` holds rendered catalog fragments (the only values the
/// layout inserts unescaped); everything else is escaped by handlebars.
#[derive(Serialize)]
struct LayoutContext<'a> {
    lang: &'static str,
    subject: &'a str,
    preheader: &'a str,
    accent: Color,
    on_accent: Color,
    text_color: Color,
    display_name: Option<&'a str>,
    text: BTreeMap<String, String>,
    details: Details<'a>,
    service_desk: ServiceDeskView,
    header_image: Option<ImageView>,
    footer_image: Option<ImageView>,
    footer_link: Option<SafeHref>,
}

#[derive(Serialize)]
struct Details<'a> {
    account: &'a str,
    valid_from: String,
    valid_until: String,
    duration: String,
    /// A catalog fragment, like `text`.
    usage: String,
}

#[derive(Serialize)]
struct ImageView {
    src: SafeHref,
    width: Option<u32>,
    height: Option<u32>,
}

impl ImageView {
    /// Scales the image down to fit `max_width` × [`MAX_IMAGE_HEIGHT`], keeping its aspect
    /// ratio, so Outlook for Windows (which ignores CSS `max-width`) cannot blow up the
    /// layout, whatever size the image's header claims.
    fn new(image: &InlineImage, max_width: u32) -> ImageView {
        let size = pixel_size(&image.bytes).map(|size| fit(size, (max_width, MAX_IMAGE_HEIGHT)));
        ImageView {
            src: SafeHref::cid(&image.content_id),
            width: size.map(|(width, _)| width),
            height: size.map(|(_, height)| height),
        }
    }
}

/// `(width, height)` scaled down, if needed, to fit within `bounds`; never below 1 × 1.
fn fit((width, height): (u32, u32), (max_width, max_height): (u32, u32)) -> (u32, u32) {
    let (w, h) = (u64::from(width), u64::from(height));
    let (max_w, max_h) = (u64::from(max_width), u64::from(max_height));
    // Compare the ratios w/max_w and h/max_h without dividing: the larger one decides.
    let (w, h) = if w <= max_w && h <= max_h {
        (w, h)
    } else if w * max_h >= h * max_w {
        (max_w, h * max_w / w)
    } else {
        (w * max_h / h, max_h)
    };
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX).max(1);
    (clamp(w), clamp(h))
}

/// A link with its visible text; the text is the address itself, so the reader sees
/// where a link goes before following it.
#[derive(Serialize)]
struct LinkView {
    href: Option<SafeHref>,
    label: String,
}

#[derive(Serialize)]
struct ServiceDeskView {
    /// Signs the email, and heads the contact block when there is one.
    name: Option<String>,
    /// Whether there is a way to reach the desk, i.e. a contact block to point to.
    has_contacts: bool,
    email: Option<LinkView>,
    phone: Option<LinkView>,
    portal: Option<LinkView>,
    ticket: Option<LinkView>,
}

impl ServiceDeskView {
    /// The configured Service Desk; a national phone number is shown without a link.
    fn new(desk: &ServiceDesk, warnings: &mut Vec<String>) -> ServiceDeskView {
        let name = desk
            .display_name
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        let email = desk.email.as_ref().map(|email| LinkView {
            href: Some(SafeHref::mailto(email)),
            label: email.as_str().to_owned(),
        });
        let phone = desk.phone.as_ref().map(|phone| {
            let href = SafeHref::tel(phone);
            if href.is_none() {
                // A national number still helps a reader in that country; only the
                // tap-to-call link would dial wrongly from abroad.
                warnings.push(format!(
                    "ServiceDeskPhone {:?} shown without a link: not in international format (+country code)",
                    phone.as_str()
                ));
            }
            LinkView {
                href,
                label: phone.as_str().to_owned(),
            }
        });
        let portal = desk.portal_url.as_ref().map(LinkView::configured);
        let ticket = desk.ticket_url.as_ref().map(LinkView::configured);
        let has_contacts =
            email.is_some() || phone.is_some() || portal.is_some() || ticket.is_some();
        ServiceDeskView {
            name,
            has_contacts,
            email,
            phone,
            portal,
            ticket,
        }
    }
}

impl LinkView {
    /// A link labelled with the URL as configured when it differs from the parsed one only by
    /// the `/` the parser adds; otherwise the parsed one, so a look-alike host is shown in the
    /// form the link really goes to.
    fn configured(url: &HttpsUrl) -> LinkView {
        let href = SafeHref::https(url);
        let written = url.written();
        let label = if href.as_str().strip_suffix('/') == Some(written) {
            written.to_owned()
        } else {
            href.as_str().to_owned()
        };
        LinkView {
            label,
            href: Some(href),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_sizes_fit_the_layout_whatever_the_header_claims() {
        assert_eq!(fit((300, 60), (576, 600)), (300, 60));
        assert_eq!(fit((1152, 100), (576, 600)), (576, 50));
        assert_eq!(fit((1, u32::MAX), (576, 600)), (1, 600));
        assert_eq!(fit((u32::MAX, u32::MAX), (240, 600)), (240, 240));
        assert_eq!(fit((u32::MAX, 1), (240, 600)), (240, 1));
    }

    #[test]
    fn the_layout_inserts_unescaped_only_catalog_fragments() {
        for (i, _) in LAYOUT.match_indices("{{{") {
            let rest = &LAYOUT[i + 3..];
            assert!(
                rest.starts_with("text.") || rest.starts_with("details.usage}}}"),
                "unescaped value in the layout: {}",
                &rest[..rest.len().min(40)]
            );
        }
    }
}
