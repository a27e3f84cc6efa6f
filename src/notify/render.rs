//! Turning a [`Notice`] into the subject and HTML body of the email.
//!
//! The layout (`templates/email.html`) is compiled into the binary by askama, so a run
//! parses no template: it fills in typed values and writes the HTML.

use askama::Template;

use super::NotifyError;
use super::branding::{InlineImage, InlineImages};
use super::catalog::{Catalog, Texts};
use super::color::Color;
use super::dates::{end_of, format_date_time, format_lifetime};
use super::image::pixel_size;
use super::language::LanguageChoice;
use super::links::{HttpsUrl, SafeHref};
use super::markup::Markup;
use super::notice::{Notice, ServiceDesk};
use crate::text::strip_unsafe;

/// The content column of the 640 px layout, inside its 24 px side padding.
const CONTENT_WIDTH: u32 = 592;
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

    // Both come from Graph. Escaping keeps markup out; stripping keeps out the controls and
    // direction marks that would reorder what the user reads (a name that shows a different
    // account or a reversed link text).
    let upn = strip_unsafe(notice.user_principal_name.trim());
    let display_name = notice.display_name.as_deref().map(strip_unsafe);
    let greeting = match display_name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => {
            catalog.text.greeting_named.with_value("display_name", name)
        }
        _ => catalog.text.greeting.clone(),
    };

    let accent = notice
        .branding
        .accent_color
        .unwrap_or(Color::DEFAULT_ACCENT);
    let text_color = notice.branding.text_color.unwrap_or(Color::DEFAULT_TEXT);

    let text = &catalog.text;
    let end = end_of(notice.start, notice.lifetime_minutes);
    let facts = vec![
        // With break points, so a phone wraps the account at a separator.
        Fact::new(&text.label_account, Markup::breakable(upn.trim())),
        Fact::text(
            &text.label_valid_from,
            &format_date_time(&catalog, notice.start, &notice.time_zone),
        ),
        Fact::text(
            &text.label_duration,
            &format_lifetime(language, &catalog, notice.lifetime_minutes),
        ),
        Fact::text(
            &text.label_valid_until,
            &format_date_time(&catalog, end, &notice.time_zone),
        ),
        Fact::new(
            &text.label_usage,
            if notice.is_usable_once {
                text.usage_once.clone()
            } else {
                text.usage_multiple.clone()
            },
        ),
    ];
    let service_desk = ServiceDeskView::new(&notice.service_desk, text, &mut warnings);
    let footer_link = notice.branding.footer_link.as_ref().map(Link::configured);

    let layout = Layout {
        lang: language.code(),
        subject: &catalog.subject,
        preheader: &catalog.preheader,
        accent,
        on_accent: accent.readable_text_on(),
        text_color,
        text,
        greeting,
        facts,
        service_desk,
        header_image: images
            .header
            .as_ref()
            .map(|image| ImageView::new(image, CONTENT_WIDTH)),
        footer_image: images
            .footer
            .as_ref()
            .map(|image| ImageView::new(image, FOOTER_IMAGE_MAX_WIDTH)),
        footer_link,
    };
    let html = layout.render().map_err(NotifyError::Render)?;

    Ok(RenderedEmail {
        subject: catalog.subject,
        html,
        warnings,
    })
}

/// What the layout shows; every field but the [`Markup`] ones is escaped by askama.
#[derive(Template)]
#[template(path = "email.html")]
struct Layout<'a> {
    lang: &'static str,
    subject: &'a str,
    preheader: &'a str,
    accent: Color,
    on_accent: Color,
    text_color: Color,
    text: &'a Texts,
    greeting: Markup,
    facts: Vec<Fact<'a>>,
    service_desk: ServiceDeskView<'a>,
    header_image: Option<ImageView>,
    footer_image: Option<ImageView>,
    footer_link: Option<Link>,
}

/// One row of the facts table.
struct Fact<'a> {
    label: &'a Markup,
    value: Markup,
}

impl<'a> Fact<'a> {
    fn new(label: &'a Markup, value: Markup) -> Fact<'a> {
        Fact { label, value }
    }

    fn text(label: &'a Markup, value: &str) -> Fact<'a> {
        Fact::new(label, Markup::escaped(value))
    }
}

struct ImageView {
    src: SafeHref,
    size: Option<PixelSize>,
}

/// The `width` and `height` attributes of an image.
struct PixelSize {
    width: u32,
    height: u32,
}

impl ImageView {
    /// Scales the image down to fit `max_width` × [`MAX_IMAGE_HEIGHT`], keeping its aspect
    /// ratio, so Outlook for Windows (which ignores CSS `max-width`) cannot blow up the
    /// layout, whatever size the image's header claims.
    fn new(image: &InlineImage, max_width: u32) -> ImageView {
        let size = pixel_size(&image.bytes).map(|size| {
            let (width, height) = fit(size, (max_width, MAX_IMAGE_HEIGHT));
            PixelSize { width, height }
        });
        ImageView {
            src: SafeHref::cid(&image.content_id),
            size,
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
struct Link {
    href: SafeHref,
    label: Markup,
}

/// One way to reach the desk: a label and the address, linked when it can be.
struct Contact<'a> {
    label: &'a Markup,
    href: Option<SafeHref>,
    text: Markup,
}

impl<'a> Contact<'a> {
    fn link(label: &'a Markup, link: Link) -> Contact<'a> {
        Contact {
            label,
            href: Some(link.href),
            text: link.label,
        }
    }
}

struct ServiceDeskView<'a> {
    /// Signs the email, and heads the contact block when there is one.
    name: Option<String>,
    /// Email, phone, portal and ticket, those that are set, in that order; when there are
    /// none, there is no contact block to point to.
    contacts: Vec<Contact<'a>>,
}

impl<'a> ServiceDeskView<'a> {
    /// The configured Service Desk; a national phone number is shown without a link.
    fn new(desk: &ServiceDesk, text: &'a Texts, warnings: &mut Vec<String>) -> ServiceDeskView<'a> {
        let name = desk
            .display_name
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        let mut contacts = Vec::new();
        if let Some(email) = &desk.email {
            let link = Link {
                href: SafeHref::mailto(email),
                label: Markup::breakable(email.as_str()),
            };
            contacts.push(Contact::link(&text.label_email, link));
        }
        if let Some(phone) = &desk.phone {
            let href = SafeHref::tel(phone);
            if href.is_none() {
                // A national number still helps a reader in that country; only the
                // tap-to-call link would dial wrongly from abroad.
                warnings.push(format!(
                    "ServiceDeskPhone {:?} shown without a link: not in international format (+country code)",
                    phone.as_str()
                ));
            }
            contacts.push(Contact {
                label: &text.label_phone,
                href,
                text: Markup::escaped(phone.as_str()),
            });
        }
        for (label, url) in [
            (&text.label_portal, &desk.portal_url),
            (&text.label_ticket, &desk.ticket_url),
        ] {
            if let Some(url) = url {
                contacts.push(Contact::link(label, Link::configured(url)));
            }
        }
        ServiceDeskView { name, contacts }
    }
}

impl Link {
    /// A link labelled with the URL as the admin wrote it, when that shows the host the link
    /// really goes to; otherwise with the parsed URL, so a look-alike (an international name
    /// shown in its `xn--` form, a numeric address, `\` read as `/`) is shown as the parser
    /// reads it.
    fn configured(url: &HttpsUrl) -> Link {
        let href = SafeHref::https(url);
        let written = url.written();
        let label = if shows_its_host(written, &href) {
            Markup::breakable(written)
        } else {
            Markup::breakable(href.as_str())
        };
        Link { label, href }
    }
}

/// Whether `written` is plain ASCII (no spaces, no backslash) and names exactly the host and
/// port that `href`, its parsed form, goes to.
fn shows_its_host(written: &str, href: &SafeHref) -> bool {
    let plain = written.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    let authority = |url: &str| {
        let rest = url.split_once("://").map_or("", |(_, rest)| rest);
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        rest[..end].to_ascii_lowercase()
    };
    plain && !written.is_empty() && authority(written) == authority(href.as_str())
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
    fn the_layout_escapes_everything_but_markup() {
        let layout = include_str!("../../templates/email.html");
        for bypass in ["|safe", "| safe", "raw %}", "raw -%}"] {
            assert!(!layout.contains(bypass), "{bypass}");
        }
    }

    #[test]
    fn a_url_is_shown_as_written_when_that_shows_where_it_goes() {
        let label = |written: &str| {
            let link = Link::configured(&HttpsUrl::parse(written).unwrap());
            link.label.to_string().replace("<wbr>", "")
        };
        assert_eq!(
            label("https://help.contoso.com"),
            "https://help.contoso.com"
        );
        assert_eq!(
            label(" https://Help.Contoso.com/IT "),
            "https://Help.Contoso.com/IT"
        );
        assert_eq!(
            label("https://help.contoso.com/a/../b"),
            "https://help.contoso.com/a/../b"
        );
        for (written, shown) in [
            ("https://bücher.example/", "https://xn--bcher-kva.example/"),
            ("https://2130706433/", "https://127.0.0.1/"),
            (
                "https://evil.example\\@help.contoso.com/",
                "https://evil.example/@help.contoso.com/",
            ),
            (
                "https://help.contoso.com/a b",
                "https://help.contoso.com/a%20b",
            ),
            ("https://help.contoso.com:443/", "https://help.contoso.com/"),
        ] {
            assert_eq!(label(written), shown, "{written}");
        }
    }
}
