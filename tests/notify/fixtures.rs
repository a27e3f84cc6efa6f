//! Notices and images shared by the notify tests.

use tap_runbook::address::EmailAddress;
use tap_runbook::notify::{
    Branding, Color, HttpsUrl, InlineImage, InlineImages, Language, LanguageChoice, LanguageReason,
    Notice, PhoneNumber, RenderedEmail, ServiceDesk, choose_time_zone, render,
};
use time::macros::datetime;

/// A real 2×1 PNG.
pub const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x7B, 0x40, 0xE8,
    0xDD, 0x00, 0x00, 0x00, 0x0F, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xE0, 0x8F, 0x59, 0x71,
    0xB3, 0x49, 0x1B, 0x00, 0x08, 0x87, 0x02, 0x9A, 0x66, 0xBA, 0x41, 0x91, 0x00, 0x00, 0x00, 0x00,
    0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// An https setting, as the input stage would have parsed it.
pub fn https(url: &str) -> Option<HttpsUrl> {
    Some(HttpsUrl::parse(url).expect("an https URL"))
}

/// An email setting, as the input stage would have parsed it.
pub fn email(address: &str) -> Option<EmailAddress> {
    Some(EmailAddress::parse(address).expect("an email address"))
}

/// A phone setting, as the input stage would have parsed it.
pub fn phone(number: &str) -> Option<PhoneNumber> {
    Some(PhoneNumber::parse(number).expect("a phone number"))
}

/// A user with nothing optional set.
pub fn bare_notice() -> Notice {
    Notice {
        user_principal_name: "adele@contoso.com".into(),
        display_name: None,
        start: datetime!(2026-11-29 10:00 UTC),
        lifetime_minutes: 240,
        is_usable_once: true,
        time_zone: choose_time_zone(None, None),
        service_desk: ServiceDesk::default(),
        branding: Branding::default(),
    }
}

/// A user with every Service Desk and branding setting filled in.
pub fn full_notice() -> Notice {
    Notice {
        display_name: Some("Adele Vance".into()),
        lifetime_minutes: 90,
        is_usable_once: false,
        service_desk: ServiceDesk {
            display_name: Some("Contoso IT Service Desk".into()),
            email: email("servicedesk@contoso.com"),
            phone: phone("+49 (0)89 1234-567"),
            portal_url: https("https://help.contoso.com/"),
            ticket_url: https("https://help.contoso.com/tickets/new?category=access"),
        },
        branding: Branding {
            header_image_url: https("https://cdn.contoso.com/header.png"),
            footer_image_url: https("https://cdn.contoso.com/footer.png"),
            footer_link: https("https://www.contoso.com/"),
            accent_color: Color::parse("#5C2D91"),
            text_color: Color::parse("#1F2328"),
        },
        ..bare_notice()
    }
}

/// A header-only PNG of the given size: enough for the layout's width and height.
pub fn png_of_size(width: u32, height: u32) -> Vec<u8> {
    let mut png = TINY_PNG[..16].to_vec();
    png.extend_from_slice(&width.to_be_bytes());
    png.extend_from_slice(&height.to_be_bytes());
    png.extend_from_slice(&TINY_PNG[24..]);
    png
}

/// Both branding images as the fetcher would have produced them.
pub fn both_images() -> InlineImages {
    InlineImages {
        header: Some(InlineImage {
            content_id: "header-image".into(),
            content_type: "image/png".into(),
            bytes: png_of_size(1200, 300),
            name: "header.png".into(),
        }),
        footer: Some(InlineImage {
            content_id: "footer-image".into(),
            content_type: "image/png".into(),
            bytes: png_of_size(160, 40),
            name: "footer.png".into(),
        }),
    }
}

/// The email in `language`, chosen by override.
pub fn render_in(language: Language, notice: &Notice, images: &InlineImages) -> RenderedEmail {
    let choice = LanguageChoice {
        language,
        reason: LanguageReason::Override,
    };
    render(notice, &choice, images).expect("the shipped templates render")
}

/// The HTML without the `<wbr>` break points, to look for text as a reader sees it.
pub fn without_break_points(html: &str) -> String {
    html.replace("<wbr>", "")
}
