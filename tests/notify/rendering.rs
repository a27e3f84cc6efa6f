//! What the rendered email says, per language, and how it is laid out.

use tap_runbook::notify::{InlineImages, Language};

use super::fixtures::{bare_notice, both_images, full_notice, render_in};

fn snapshot(name: &str, html: &str) {
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, html);
    });
}

#[test]
fn full_email_per_language() {
    for language in Language::ALL {
        let email = render_in(language, &full_notice(), &both_images());
        assert!(
            email.warnings.is_empty(),
            "{language}: {:?}",
            email.warnings
        );
        snapshot(
            &format!("notify_full_{language}"),
            &format!("Subject: {}\n\n{}", email.subject, email.html),
        );
    }
}

#[test]
fn bare_email_without_anything_optional() {
    let email = render_in(Language::En, &bare_notice(), &InlineImages::default());
    assert!(email.warnings.is_empty(), "{:?}", email.warnings);
    snapshot(
        "notify_bare_en",
        &format!("Subject: {}\n\n{}", email.subject, email.html),
    );
    for absent in ["<img", "<a ", "mailto:", "tel:", "cid:"] {
        assert!(!email.html.contains(absent), "{absent}");
    }
    assert!(email.html.contains("Hello,"));
    assert!(
        email
            .html
            .contains("contact your IT department immediately")
    );
    assert!(email.html.contains("Your IT department</p>"));
}

#[test]
fn the_facts_appear_in_every_language() {
    let expectations = [
        (
            Language::En,
            "29 November 2026, 10:00 UTC",
            "1 hour and 30 minutes",
            "Hello Adele Vance,",
        ),
        (
            Language::De,
            "29. November 2026, 10:00 UTC",
            "1 Stunde und 30 Minuten",
            "Guten Tag Adele Vance,",
        ),
        (
            Language::Fr,
            "29 novembre 2026 à 10:00 UTC",
            "1 heure et 30 minutes",
            "Bonjour Adele Vance,",
        ),
        (
            Language::Es,
            "29 de noviembre de 2026, 10:00 UTC",
            "1 hora y 30 minutos",
            "Hola, Adele Vance:",
        ),
        (
            Language::It,
            "29 novembre 2026, ore 10:00 UTC",
            "1 ora e 30 minuti",
            "Gentile Adele Vance,",
        ),
        (
            Language::Nl,
            "29 november 2026 om 10:00 UTC",
            "1 uur en 30 minuten",
            "Beste Adele Vance,",
        ),
    ];
    for (language, start, lifetime, greeting) in expectations {
        let email = render_in(language, &full_notice(), &both_images());
        let html = &email.html;
        assert!(html.contains(&format!("lang=\"{language}\"")), "{language}");
        for expected in [
            start,
            lifetime,
            greeting,
            "<strong>adele@contoso.com</strong>",
        ] {
            assert!(html.contains(expected), "{language}: {expected:?} missing");
        }
        assert!(html.contains("<title>"), "{language}");
        assert!(!email.subject.is_empty());
    }
}

#[test]
fn end_time_and_single_use_are_stated() {
    let email = render_in(Language::De, &bare_notice(), &InlineImages::default());
    assert!(email.html.contains("29. November 2026, 14:00 UTC"));
    assert!(email.html.contains("4 Stunden"));
    assert!(email.html.contains("Einmalig"));
    let multi = render_in(Language::De, &full_notice(), &InlineImages::default());
    assert!(multi.html.contains("Mehrfach"));
}

#[test]
fn the_layout_is_outlook_safe() {
    let html = render_in(Language::En, &full_notice(), &both_images()).html;
    for forbidden in [
        "display:flex",
        "display:grid",
        "class=",
        "<style",
        "<script",
        "position:",
    ] {
        assert!(!html.contains(forbidden), "{forbidden}");
    }
    assert!(html.contains(r#"width="640""#));
    assert!(html.contains(r##"bgcolor="#5C2D91""##));
    assert!(html.contains("color:#1F2328"));
    assert!(html.contains("<!--[if mso]>"));
}

#[test]
fn wide_images_are_scaled_for_outlook() {
    let html = render_in(Language::En, &full_notice(), &both_images()).html;
    assert!(html.contains(r#"<img src="cid:header-image" width="576" height="144""#));
    assert!(html.contains(r#"<img src="cid:footer-image" width="160" height="40""#));
    assert!(html.contains(r#"<a href="https://www.contoso.com/""#));
}

#[test]
fn footer_link_without_image_is_shown_as_a_link() {
    let html = render_in(Language::En, &full_notice(), &InlineImages::default()).html;
    assert!(html.contains(
        r#"<a href="https://www.contoso.com/" style="color:#57606A; text-decoration:underline;">https://www.contoso.com/</a>"#
    ));
    assert!(!html.contains("cid:"));
}

#[test]
fn service_desk_links_are_built_by_us() {
    let html = render_in(Language::En, &full_notice(), &InlineImages::default()).html;
    assert!(html.contains(r#"href="mailto:servicedesk@contoso.com""#));
    assert!(html.contains(r#"href="tel:+49891234567""#));
    assert!(html.contains(">+49 (0)89 1234-567</a>"));
    assert!(html.contains(r#"href="https://help.contoso.com/tickets/new?category&#x3D;access""#));
    assert!(html.contains("contact the IT Service Desk immediately using the details below"));
    assert!(html.contains("Contoso IT Service Desk</p>"));
}

#[test]
fn a_light_accent_gets_dark_heading_text() {
    let mut notice = full_notice();
    notice.branding.accent_color = tap_runbook::notify::Color::parse("#FFD700");
    let html = render_in(Language::En, &notice, &InlineImages::default()).html;
    assert!(html.contains("background-color:#FFD700"));
    assert!(html.contains("color:#1B1B1B;\">Temporary Access Pass created"));
}
