//! The sendMail request body, the recipient rule and the outbox files.

use base64::Engine;
use serde_json::json;
use tap_runbook::notify::{InlineImages, Language, recipient, sendmail_body, write_outbox};

use super::fixtures::{TINY_PNG, bare_notice, both_images, full_notice, render_in};

#[test]
fn body_without_images_has_no_attachments() {
    let email = render_in(Language::En, &bare_notice(), &InlineImages::default());
    let body = sendmail_body("adele@contoso.com", &email, &[]);
    assert_eq!(
        body,
        json!({
            "message": {
                "subject": "A Temporary Access Pass was created for your account",
                "body": { "contentType": "HTML", "content": email.html },
                "toRecipients": [ { "emailAddress": { "address": "adele@contoso.com" } } ]
            },
            "saveToSentItems": true
        })
    );
}

#[test]
fn images_are_inline_file_attachments() {
    let images = both_images();
    let email = render_in(Language::De, &full_notice(), &images);
    let mut images = images.into_vec();
    images[0].bytes = TINY_PNG.to_vec();
    let body = sendmail_body("adele.vance@contoso.com", &email, &images);
    let attachments = body["message"]["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2);
    assert_eq!(
        attachments[0],
        json!({
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": "header.png",
            "contentType": "image/png",
            "contentBytes": base64::engine::general_purpose::STANDARD.encode(TINY_PNG),
            "contentId": "header-image",
            "isInline": true
        })
    );
    assert_eq!(attachments[1]["contentId"], "footer-image");
    for attachment in attachments {
        let cid = attachment["contentId"].as_str().unwrap();
        assert!(email.html.contains(&format!("src=\"cid:{cid}\"")), "{cid}");
    }
}

#[test]
fn mail_is_preferred_over_the_upn() {
    assert_eq!(
        recipient(Some("adele.vance@contoso.com"), "adele@contoso.com"),
        "adele.vance@contoso.com"
    );
    assert_eq!(
        recipient(Some(" "), "adele@contoso.com"),
        "adele@contoso.com"
    );
    assert_eq!(recipient(None, "adele@contoso.com"), "adele@contoso.com");
}

#[test]
fn outbox_holds_the_html_and_the_request_body() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox/nested");
    let email = render_in(Language::Fr, &full_notice(), &InlineImages::default());
    let body = sendmail_body("adele@contoso.com", &email, &[]);
    let first = write_outbox(&outbox, &email.html, &body, &[]).unwrap();
    assert_eq!(first.html, outbox.join("1.html"));
    assert_eq!(first.preview, None, "no images, nothing else to show");
    std::fs::write(outbox.join("7.json"), "{}").unwrap();
    let next = write_outbox(&outbox, "<p>second</p>", &body, &[]).unwrap();
    assert_eq!(
        (next.html, next.json),
        (outbox.join("8.html"), outbox.join("8.json")),
        "numbered after the existing files"
    );
    assert_eq!(
        std::fs::read_to_string(outbox.join("1.html")).unwrap(),
        email.html
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outbox.join("1.json")).unwrap()).unwrap();
    assert_eq!(json, body);
}

/// The preview shows the images from files beside it; what is sent stays as it is.
#[test]
fn outbox_images_are_previewed_from_files_beside_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let images = both_images();
    let email = render_in(Language::En, &full_notice(), &images);
    let attachments = images.into_vec();
    let body = sendmail_body("adele@contoso.com", &email, &attachments);
    let entry = write_outbox(dir.path(), &email.html, &body, &attachments).unwrap();

    assert_eq!(std::fs::read_to_string(&entry.html).unwrap(), email.html);
    assert!(email.html.contains(r#"src="cid:header-image""#));
    let sent: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&entry.json).unwrap()).unwrap();
    assert_eq!(sent, body);

    let preview = std::fs::read_to_string(entry.preview.unwrap()).unwrap();
    assert!(preview.contains(r#"<img src="1.header.png" width="592""#));
    assert!(preview.contains(r#"<img src="1.footer.png" width="160""#));
    assert!(!preview.contains("cid:"));
    assert_eq!(
        preview
            .replace("1.header.png", "cid:header-image")
            .replace("1.footer.png", "cid:footer-image"),
        email.html,
        "only the image sources differ"
    );
    for image in &attachments {
        let file = dir.path().join(format!("1.{}", image.name));
        assert_eq!(std::fs::read(file).unwrap(), image.bytes);
    }
}
