//! The only ways a link or image source gets into the email.
//!
//! Every `href` and `src` in the layout is a [`SafeHref`], and a `SafeHref` can only be made
//! here: from an [`HttpsUrl`], from an [`EmailAddress`] we turn into `mailto:`, from a
//! [`PhoneNumber`] in international form we turn into `tel:`, or from a content id of an
//! attachment we made. So `javascript:`, `data:` and plain `http:` cannot reach an
//! attribute, whatever the configuration says; handlebars then HTML-escapes the value on top.
//!
//! [`HttpsUrl::parse`] is the one rule for https settings: the input stage calls it, and
//! everything after holds the parsed value.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Url;
use serde::Serialize;

use super::phone::PhoneNumber;
use crate::address::EmailAddress;

/// An attribute value that is safe to put in `href` or `src`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SafeHref(String);

impl SafeHref {
    /// The attribute value (still to be HTML-escaped by the template).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The link to an https URL, in the parser's normalised form (so quotes and spaces come
    /// out percent-encoded).
    pub fn https(url: &HttpsUrl) -> SafeHref {
        SafeHref(url.url.as_str().to_owned())
    }

    /// A `mailto:` link to exactly one plain address, percent-encoded so that `?` or `&`
    /// in the address can never add headers (`?bcc=`) to the draft.
    pub fn mailto(address: &EmailAddress) -> SafeHref {
        let (local, domain) = address.parts();
        SafeHref(format!(
            "mailto:{}@{domain}",
            utf8_percent_encode(local, MAILTO_LOCAL_PART)
        ))
    }

    /// A `tel:` link in international form, `+` and digits only; `None` for a number written
    /// without its country code, which a link would dial wrongly from abroad.
    pub fn tel(phone: &PhoneNumber) -> Option<SafeHref> {
        phone
            .international()
            .map(|number| SafeHref(format!("tel:{number}")))
    }

    /// The `cid:` reference to an inline attachment we created.
    pub(crate) fn cid(content_id: &str) -> SafeHref {
        SafeHref(format!(
            "cid:{}",
            utf8_percent_encode(content_id, MAILTO_LOCAL_PART)
        ))
    }
}

/// Everything but unreserved characters is encoded in the local part and content ids.
const MAILTO_LOCAL_PART: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An absolute https URL with a host and without a user name or password: what every https
/// setting (Service Desk links, branding images, the footer link) must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsUrl {
    url: Url,
    /// The URL as configured, trimmed: a link's visible text.
    written: String,
}

impl HttpsUrl {
    /// Parses an https URL; surrounding white space is ignored.
    pub fn parse(text: &str) -> Result<HttpsUrl, LinkRefused> {
        let written = text.trim();
        let url = Url::parse(written).map_err(|_| LinkRefused::NotAUrl)?;
        if url.scheme() != "https" {
            return Err(LinkRefused::NotHttps);
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(LinkRefused::NoHost);
        }
        // `https://intranet.contoso.com@evil.example` shows a trusted name and goes elsewhere.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(LinkRefused::Credentials);
        }
        Ok(HttpsUrl {
            url,
            written: written.to_owned(),
        })
    }

    /// The parsed URL, to connect to.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The URL as configured.
    pub fn written(&self) -> &str {
        &self.written
    }
}

/// Why a value is not an acceptable https URL. Each reason reads after the value it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefused {
    /// Not parseable as an absolute URL.
    #[error("is not an absolute URL")]
    NotAUrl,
    /// Any scheme but https: `http:`, `javascript:`, `data:`, `file:`, …
    #[error("is not an https URL")]
    NotHttps,
    /// An https URL without a host name.
    #[error("has no host")]
    NoHost,
    /// A user name or password before the host.
    #[error("must not carry a user name or password")]
    Credentials,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tel(phone: &str) -> Option<String> {
        let phone = PhoneNumber::parse(phone).expect("a phone number");
        SafeHref::tel(&phone).map(|href| href.as_str().to_owned())
    }

    #[test]
    fn phone_links_are_normalised_to_e164() {
        for (input, expected) in [
            ("+49 89 1234-567", "tel:+49891234567"),
            ("+49 (0)89 1234 567", "tel:+49891234567"),
            ("0049 89 1234567", "tel:+49891234567"),
            ("+1 (425) 555-0100", "tel:+14255550100"),
            ("+33.1.23.45.67.89", "tel:+33123456789"),
        ] {
            assert_eq!(tel(input).as_deref(), Some(expected), "{input}");
        }
        // A national number is shown, but a link would dial the wrong number abroad.
        assert_eq!(tel("089 1234567"), None);
    }

    #[test]
    fn only_plain_https_urls_pass() {
        let href = |url: &str| SafeHref::https(&HttpsUrl::parse(url).unwrap());
        assert_eq!(
            href(" https://help.contoso.com/it?x=1 ").as_str(),
            "https://help.contoso.com/it?x=1"
        );
        assert_eq!(
            href("https://help.contoso.com/a\"b c").as_str(),
            "https://help.contoso.com/a%22b%20c"
        );
        assert_eq!(
            HttpsUrl::parse(" https://help.contoso.com ")
                .unwrap()
                .written(),
            "https://help.contoso.com"
        );
        for (input, why) in [
            ("http://help.contoso.com", LinkRefused::NotHttps),
            ("javascript:alert(1)", LinkRefused::NotHttps),
            ("JaVaScRiPt:alert(1)", LinkRefused::NotHttps),
            ("data:text/html,<script>", LinkRefused::NotHttps),
            ("//help.contoso.com", LinkRefused::NotAUrl),
            ("help.contoso.com", LinkRefused::NotAUrl),
            (
                "https://it.contoso.com@evil.example/",
                LinkRefused::Credentials,
            ),
            ("https://user:pw@help.contoso.com", LinkRefused::Credentials),
        ] {
            assert_eq!(HttpsUrl::parse(input), Err(why), "{input}");
        }
    }

    #[test]
    fn mailto_cannot_add_headers_or_recipients() {
        let mailto = |address: &str| SafeHref::mailto(&EmailAddress::parse(address).unwrap());
        assert_eq!(
            mailto("it.help@contoso.com").as_str(),
            "mailto:it.help@contoso.com"
        );
        assert_eq!(
            mailto("help?bcc=x&y@contoso.com").as_str(),
            "mailto:help%3Fbcc%3Dx%26y@contoso.com"
        );
        for input in [
            "\"help\"@contoso.com",
            "help@contoso.com?cc=evil@example.com",
            "a@b@contoso.com",
            "help@contoso.com,evil@example.com",
            "help @contoso.com",
            "help@localhost",
            "@contoso.com",
            "javascript:alert(1)",
        ] {
            assert_eq!(EmailAddress::parse(input), None, "{input}");
        }
    }
}
