//! The sendMail request body, the recipient rule, and the preview outbox.

use std::io;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::branding::InlineImage;
use super::links::SafeHref;
use super::render::RenderedEmail;
use crate::private_file::{create_private_folder, write_private_file};

/// Who receives the notice: the user's `mail` when set, else their UPN.
pub fn recipient(mail: Option<&str>, user_principal_name: &str) -> String {
    mail.map(str::trim)
        .filter(|mail| !mail.is_empty())
        .unwrap_or(user_principal_name.trim())
        .to_owned()
}

/// The body of `POST /users/{EmailFrom}/sendMail`: an HTML message to one recipient,
/// with the branding images as inline attachments (left out when there are none), saved
/// to the sender's Sent Items so the Service Desk can see what went out.
pub fn sendmail_body(recipient: &str, email: &RenderedEmail, images: &[InlineImage]) -> Value {
    let mut message = json!({
        "subject": email.subject,
        "body": { "contentType": "HTML", "content": email.html },
        "toRecipients": [ { "emailAddress": { "address": recipient } } ],
    });
    if !images.is_empty() {
        message["attachments"] = images.iter().map(attachment).collect();
    }
    json!({ "message": message, "saveToSentItems": true })
}

fn attachment(image: &InlineImage) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.fileAttachment",
        "name": image.name,
        "contentType": image.content_type,
        "contentBytes": STANDARD.encode(&image.bytes),
        "contentId": image.content_id,
        "isInline": true,
    })
}

/// The files one notification was written to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The rendered body, to open in a browser.
    pub html: PathBuf,
    /// The sendMail request body.
    pub json: PathBuf,
    /// The body with its inline images shown from the files beside it, when it has any.
    pub preview: Option<PathBuf>,
}

/// Writes the next notification as `N.html` (the rendered body, to open in a browser) and
/// `N.json` (the sendMail request body), creating `dir` when needed. `N` follows the highest
/// number already in `dir`, so a second run never replaces the first one's preview. Each file
/// is written as [`write_private_file`] does: a link planted at `N.json` is replaced, not
/// followed.
///
/// A browser cannot show the `cid:` images of `N.html`, so when the email has inline images
/// they are also written as `N.header.png` (…) with `N.preview.html`, the same body pointing
/// at those files. `N.html` and `N.json` stay exactly what is sent.
pub fn write_outbox(
    dir: &Path,
    html: &str,
    body: &Value,
    images: &[InlineImage],
) -> io::Result<OutboxEntry> {
    create_private_folder(dir)?;
    let n = next_number(dir)?;
    let mut entry = OutboxEntry {
        html: dir.join(format!("{n}.html")),
        json: dir.join(format!("{n}.json")),
        preview: None,
    };
    write_private_file(&entry.html, html.as_bytes())?;
    let mut json = serde_json::to_string_pretty(body).map_err(io::Error::other)?;
    json.push('\n');
    write_private_file(&entry.json, json.as_bytes())?;
    if !images.is_empty() {
        let mut preview = html.to_owned();
        for image in images {
            let file = format!("{n}.{}", image.name);
            write_private_file(&dir.join(&file), &image.bytes)?;
            let cid = SafeHref::cid(&image.content_id);
            preview = preview.replace(
                &format!("src=\"{}\"", cid.as_str()),
                &format!("src=\"{file}\""),
            );
        }
        let path = dir.join(format!("{n}.preview.html"));
        write_private_file(&path, preview.as_bytes())?;
        entry.preview = Some(path);
    }
    Ok(entry)
}

/// One more than the highest `N` of any `N.html` or `N.json` in `dir`.
fn next_number(dir: &Path) -> io::Result<u64> {
    let mut highest = 0;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let Some((stem, ext)) = name.to_str().and_then(|n| n.rsplit_once('.')) else {
            continue;
        };
        if let ("html" | "json", Ok(n)) = (ext, stem.parse::<u64>()) {
            highest = highest.max(n);
        }
    }
    Ok(highest + 1)
}
