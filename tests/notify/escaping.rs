//! Hostile or broken configuration: escaped, refused, reported — and never the pass.

use tap_runbook::address::EmailAddress;
use tap_runbook::notify::{
    Color, HttpsUrl, InlineImages, Language, LinkRefused, Notice, PhoneNumber, recipient,
    sendmail_body,
};
use time::OffsetDateTime;

use super::fixtures::{bare_notice, full_notice, https, phone, render_in};

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
            .contains("Hello &lt;script&gt;alert(1)&lt;/script&gt;,")
    );
    assert!(
        email
            .html
            .contains("Help &quot;Desk&quot; &lt;b&gt;O&#x27;Brien&lt;/b&gt; &amp; Co")
    );
    assert!(email.warnings.is_empty(), "{:?}", email.warnings);
}

#[test]
fn markup_in_the_upn_is_escaped() {
    let mut notice = bare_notice();
    notice.user_principal_name = "a\"><img src=x onerror=alert(1)>@contoso.com".into();
    let html = render_en(&notice).html;
    assert!(!html.contains("<img"));
    assert!(html.contains("a&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;@contoso.com"));
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
    assert!(email.html.contains("adele@contoso.com"));
}

/// `javascript:`, `http:` and `data:` never become a link: they are no [`HttpsUrl`], and the
/// input stage refuses them, naming each setting, before any email exists.
#[test]
fn unsafe_urls_cannot_reach_the_email() {
    let (portal, ticket, footer) = (
        "javascript:alert(1)",
        "http://help.contoso.com/new",
        "data:text/html;base64,PHNjcmlwdD4=",
    );
    for url in [portal, ticket, footer] {
        assert_eq!(HttpsUrl::parse(url), Err(LinkRefused::NotHttps), "{url}");
    }
    let invocation = serde_json::json!({
        "UserName": "adele@contoso.com", "CallerName": "op", "ServiceDeskPortalUrl": portal,
        "ServiceDeskTicketUrl": ticket, "BrandingFooterLink": footer,
    });
    let err = tap_runbook::input::prepare(
        invocation.to_string().as_bytes(),
        None,
        OffsetDateTime::now_utc(),
    )
    .unwrap_err();
    let fields: Vec<&str> = err.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "parameters.ServiceDeskPortalUrl",
            "parameters.ServiceDeskTicketUrl",
            "parameters.BrandingFooterLink"
        ]
    );
    assert!(
        err.problems[0]
            .problem
            .starts_with("\"javascript:alert(1)\" is not an https URL"),
        "{}",
        err.problems[0].problem
    );
}

#[test]
fn a_url_with_quotes_cannot_break_out_of_the_attribute() {
    let mut notice = full_notice();
    notice.service_desk.portal_url = https("https://help.contoso.com/\" onmouseover=\"alert(1)");
    let html = render_en(&notice).html;
    assert!(!html.contains("\" onmouseover"));
    assert!(html.contains(r#"href="https://help.contoso.com/%22%20onmouseover&#x3D;%22alert(1)""#));
}

#[test]
fn the_portal_link_shows_the_url_as_configured() {
    let mut notice = full_notice();
    notice.service_desk.portal_url = https("https://help.contoso.com");
    let html = render_en(&notice).html;
    assert!(
        html.contains(r#"href="https://help.contoso.com/""#)
            && html.contains(">https://help.contoso.com</a>"),
        "{html}"
    );
}

#[test]
fn mailto_is_encoded_or_refused() {
    let mut notice = full_notice();
    notice.service_desk.email = EmailAddress::parse("help?bcc=boss&x@contoso.com");
    let email = render_en(&notice);
    assert!(
        email
            .html
            .contains(r#"href="mailto:help%3Fbcc%3Dboss%26x@contoso.com""#)
    );
    assert!(
        email
            .html
            .contains(">help?bcc&#x3D;boss&amp;x@contoso.com</a>")
    );
    // A quoted local part or a second recipient is no email address at all.
    assert_eq!(
        EmailAddress::parse("\"it\"@contoso.com?cc=evil@example.com"),
        None
    );
}

#[test]
fn phone_numbers_are_linked_only_in_international_form() {
    let mut notice = full_notice();
    notice.service_desk.phone = phone("089 1234567");
    let email = render_en(&notice);
    assert!(!email.html.contains("tel:"));
    assert!(email.html.contains(">089 1234567</td>"));
    assert_eq!(email.warnings.len(), 1);
    assert!(email.warnings[0].contains("shown without a link"));

    assert_eq!(PhoneNumber::parse("javascript:alert(1)"), None);
}

#[test]
fn unset_colours_are_the_defaults_and_invalid_ones_are_no_colours() {
    let mut notice = full_notice();
    notice.branding.accent_color = None;
    notice.branding.text_color = None;
    let email = render_en(&notice);
    assert!(email.html.contains("background-color:#0F5CA8"));
    assert!(email.html.contains("color:#24292F"));
    assert!(email.warnings.is_empty(), "{:?}", email.warnings);
    for bad in ["red\" onload=\"x", "#12345"] {
        assert_eq!(Color::parse(bad), None, "{bad}");
    }
}

#[test]
fn a_desk_without_contacts_is_not_shown() {
    assert_eq!(
        HttpsUrl::parse("ftp://help.contoso.com"),
        Err(LinkRefused::NotHttps)
    );
    let email = render_en(&bare_notice());
    assert!(!email.html.contains("IT Service Desk"));
    assert!(
        email
            .html
            .contains("contact your IT department immediately")
    );
    assert!(email.warnings.is_empty(), "{:?}", email.warnings);
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
