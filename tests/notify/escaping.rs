//! Hostile or broken configuration: escaped, refused, reported — and never the pass.

use tap_runbook::notify::{InlineImages, Language, Notice, recipient, sendmail_body};

use super::fixtures::{bare_notice, full_notice, render_in, without_break_points};

fn render_en(notice: &Notice) -> tap_runbook::notify::RenderedEmail {
    render_in(Language::En, notice, &InlineImages::default())
}

#[test]
fn markup_in_names_is_escaped() {
    let mut notice = full_notice();
    notice.display_name = Some("<script>alert(1)</script>".into());
    notice.service_desk.display_name = Some("Help \"Desk\" <b>O'Brien</b> & Co".into());
    let email = render_en(&notice);
    assert!(!email.html.contains("<script"));
    assert!(!email.html.contains("<b>"));
    assert!(
        email
            .html
            .contains("Hello &#60;script&#62;alert(1)&#60;/script&#62;,")
    );
    assert!(
        email
            .html
            .contains("Help &#34;Desk&#34; &#60;b&#62;O&#39;Brien&#60;/b&#62; &#38; Co")
    );
    assert!(email.warnings.is_empty(), "{:?}", email.warnings);
}

#[test]
fn markup_in_the_upn_is_escaped() {
    let mut notice = bare_notice();
    notice.user_principal_name = "a\"><img src=x onerror=alert(1)>@contoso.com".into();
    let html = without_break_points(&render_en(&notice).html);
    assert!(!html.contains("<img"));
    assert!(html.contains("a&#34;&#62;&#60;img src=x onerror=alert(1)&#62;@contoso.com"));
}

/// A display name from Graph with a right-to-left override shows "Adele" reversed, and one
/// with line breaks or controls can break the layout of a plain-text view.
#[test]
fn direction_marks_and_controls_from_graph_stay_out_of_the_email() {
    let mut notice = full_notice();
    notice.display_name = Some("\u{202e}eleda\u{202c} Vance\r\n\u{1b}[2J\u{2066}x\u{2069}".into());
    notice.user_principal_name = "adele\u{200f}@contoso.com".into();
    let email = render_en(&notice);
    for mark in [
        '\u{202e}', '\u{202c}', '\u{2066}', '\u{2069}', '\u{200f}', '\u{1b}',
    ] {
        assert!(!email.html.contains(mark), "{mark:?} reached the email");
    }
    assert!(
        email.html.contains("Hello eleda Vance[2Jx,"),
        "{}",
        email.html
    );
    assert!(without_break_points(&email.html).contains("adele@contoso.com"));
}

#[test]
fn unsafe_urls_are_left_out_with_a_warning() {
    let mut notice = full_notice();
    notice.service_desk.portal_url = Some("javascript:alert(1)".into());
    notice.service_desk.ticket_url = Some("http://help.contoso.com/new".into());
    notice.branding.footer_link = Some("data:text/html;base64,PHNjcmlwdD4=".into());
    let email = render_en(&notice);
    for absent in [
        "javascript:",
        "http://help",
        "data:",
        "Self-service portal",
        "Open a ticket",
    ] {
        assert!(!email.html.contains(absent), "{absent}");
    }
    assert_eq!(email.warnings.len(), 3, "{:?}", email.warnings);
    assert!(
        email.warnings[0]
            .starts_with("ServiceDeskPortalUrl \"javascript:alert(1)\" left out: only https")
    );
    assert!(email.warnings[1].starts_with("ServiceDeskTicketUrl"));
    assert!(email.warnings[2].starts_with("BrandingFooterLink"));
}

#[test]
fn a_url_with_quotes_cannot_break_out_of_the_attribute() {
    let mut notice = full_notice();
    notice.service_desk.portal_url =
        Some("https://help.contoso.com/\" onmouseover=\"alert(1)".into());
    let html = render_en(&notice).html;
    assert!(!html.contains("\" onmouseover"));
    assert!(html.contains(r#"href="https://help.contoso.com/%22%20onmouseover=%22alert(1)""#));
}

#[test]
fn the_portal_link_shows_the_url_as_configured() {
    let mut notice = full_notice();
    notice.service_desk.portal_url = Some("https://help.contoso.com".into());
    let html = without_break_points(&render_en(&notice).html);
    assert!(
        html.contains(r#"href="https://help.contoso.com/""#)
            && html.contains(">https://help.contoso.com</a>"),
        "{html}"
    );
}

#[test]
fn mailto_is_encoded_or_refused() {
    let mut notice = full_notice();
    notice.service_desk.email = Some("help?bcc=boss&x@contoso.com".into());
    let email = render_en(&notice);
    assert!(
        email
            .html
            .contains(r#"href="mailto:help%3Fbcc%3Dboss%26x@contoso.com""#)
    );
    assert!(without_break_points(&email.html).contains(">help?bcc=boss&#38;x@contoso.com</a>"));

    notice.service_desk.email = Some("\"it\"@contoso.com?cc=evil@example.com".into());
    let email = render_en(&notice);
    assert!(!email.html.contains("mailto:"));
    assert!(!email.html.contains("evil@example.com"));
    assert_eq!(email.warnings.len(), 1);
    assert!(email.warnings[0].starts_with("ServiceDeskEmail"));
}

#[test]
fn phone_numbers_are_linked_only_in_international_form() {
    let mut notice = full_notice();
    notice.service_desk.phone = Some("089 1234567".into());
    let email = render_en(&notice);
    assert!(!email.html.contains("tel:"));
    assert!(email.html.contains(">089 1234567</div>"));
    assert_eq!(email.warnings.len(), 1);

    notice.service_desk.phone = Some("javascript:alert(1)".into());
    let email = render_en(&notice);
    assert!(!email.html.contains("javascript"));
    assert!(email.warnings[0].contains("left out"));
}

#[test]
fn invalid_colours_fall_back_with_a_warning() {
    let mut notice = full_notice();
    notice.branding.accent_color = Some("red\" onload=\"x".into());
    notice.branding.text_color = Some("#12345".into());
    let email = render_en(&notice);
    assert!(!email.html.contains("onload"));
    assert!(email.html.contains("background-color:#0F5CA8"));
    assert!(email.html.contains("color:#24292F"));
    assert_eq!(email.warnings.len(), 2, "{:?}", email.warnings);
    assert!(email.warnings[0].starts_with("BrandingAccentColor"));
    assert!(email.warnings[1].starts_with("BrandingTextColor"));
}

#[test]
fn a_desk_with_only_refused_values_is_not_shown() {
    let mut notice = bare_notice();
    notice.service_desk.portal_url = Some("ftp://help.contoso.com".into());
    let email = render_en(&notice);
    assert!(!email.html.contains("IT Service Desk"));
    assert!(
        email
            .html
            .contains("contact your IT department immediately")
    );
    assert_eq!(email.warnings.len(), 1);
}

#[test]
fn the_pass_has_no_way_into_the_email() {
    // What the workflow holds while it notifies: the pass lives in its own variable and
    // the notice cannot take it. Nothing pass-like may show up in what we send.
    let pass = tap_runbook::secret::Secret::new("Qx7$kP2!mZ9#");
    for language in Language::ALL {
        let notice = full_notice();
        let email = render_in(language, &notice, &InlineImages::default());
        let body = sendmail_body(
            &recipient(Some("adele@contoso.com"), &notice.user_principal_name),
            &email,
            &[],
        );
        let everything = format!("{}{}{body}", email.subject, email.html);
        assert!(!everything.contains(pass.expose()), "{language}");
        assert!(!everything.contains("temporaryAccessPass\""), "{language}");
    }
}

#[test]
fn a_desk_name_alone_signs_the_email_but_promises_no_details() {
    let mut notice = bare_notice();
    notice.service_desk.display_name = Some("Contoso IT".into());
    let html = render_en(&notice).html;
    assert!(html.contains("Kind regards,<br>Contoso IT</p>"));
    assert!(!html.contains("details below"));
    assert!(!html.contains("border-top:2px"));
}
