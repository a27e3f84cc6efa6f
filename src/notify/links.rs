//! The only ways a link or image source gets into the email.
//!
//! Every `href` and `src` in the layout is a [`SafeHref`], and a `SafeHref` can only be made
//! here: from an https URL, from an email address we turn into `mailto:`, from a phone
//! number we turn into `tel:`, or from a content id of an attachment we made. So
//! `javascript:`, `data:` and plain `http:` cannot reach an attribute, whatever the
//! configuration says; the layout then HTML-escapes the value on top.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Url;
use serde::Serialize;

/// An attribute value that is safe to put in `href` or `src`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SafeHref(String);

impl SafeHref {
    /// The attribute value (still to be HTML-escaped by the template).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An https URL with a host and without embedded credentials, normalised by the URL
    /// parser (so quotes and spaces come out percent-encoded).
    pub fn https(url: &str) -> Result<SafeHref, LinkRefused> {
        let parsed = Url::parse(url.trim()).map_err(|_| LinkRefused::NotAUrl)?;
        if parsed.scheme() != "https" {
            return Err(LinkRefused::NotHttps);
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(LinkRefused::NotAUrl);
        }
        // `https://intranet.contoso.com@evil.example` shows a trusted name and goes elsewhere.
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(LinkRefused::Credentials);
        }
        Ok(SafeHref(parsed.into()))
    }

    /// A `mailto:` link to exactly one plain address, percent-encoded so that `?` or `&`
    /// in the address can never add headers (`?bcc=`) to the draft.
    pub fn mailto(address: &str) -> Result<SafeHref, LinkRefused> {
        let address = address.trim();
        let (local, domain) = address.split_once('@').ok_or(LinkRefused::NotAnEmail)?;
        let local_ok = !local.is_empty()
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !local_ok || !domain_ok {
            return Err(LinkRefused::NotAnEmail);
        }
        Ok(SafeHref(format!(
            "mailto:{}@{}",
            utf8_percent_encode(local, MAILTO_LOCAL_PART),
            domain
        )))
    }

    /// A `tel:` link in international form, `+` and digits only.
    pub fn tel(phone: &str) -> Result<SafeHref, LinkRefused> {
        international_number(phone).map(|number| SafeHref(format!("tel:{number}")))
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

/// Why a configured link is left out of the email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefused {
    /// Not parseable as an absolute URL with a host.
    #[error("not an absolute URL")]
    NotAUrl,
    /// Any scheme but https: `http:`, `javascript:`, `data:`, `file:`, …
    #[error("only https URLs are allowed")]
    NotHttps,
    /// A user name or password before the host.
    #[error("URLs with a user name or password are not allowed")]
    Credentials,
    /// Not one plain address `local@domain.tld`.
    #[error("not a plain email address")]
    NotAnEmail,
    /// Characters other than digits, spaces and `+ - ( ) . /`.
    #[error("not a phone number")]
    NotAPhoneNumber,
    /// No `+` or `00` country prefix, so a `tel:` link would dial the wrong number abroad.
    #[error("not in international format (+country code)")]
    NotInternational,
}

/// `+49 (0)89 1234-567` → `+49891234567`; `0049 …` is read as `+49 …`.
fn international_number(phone: &str) -> Result<String, LinkRefused> {
    let phone = phone.trim();
    if !phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()./".contains(c))
    {
        return Err(LinkRefused::NotAPhoneNumber);
    }
    // The "(0)" convention marks a trunk prefix that is not dialled from abroad.
    let without_trunk = phone.replacen("(0)", "", 1);
    let digits: String = without_trunk.chars().filter(char::is_ascii_digit).collect();
    let national = if phone.starts_with('+') && phone.matches('+').count() == 1 {
        digits.as_str()
    } else if phone.starts_with("00") && !phone.contains('+') {
        &digits[2..]
    } else if phone.contains('+') {
        return Err(LinkRefused::NotAPhoneNumber);
    } else {
        return Err(LinkRefused::NotInternational);
    };
    // E.164 allows at most 15 digits; fewer than 7 is no reachable international number.
    if !(7..=15).contains(&national.len()) || national.starts_with('0') {
        return Err(LinkRefused::NotAPhoneNumber);
    }
    Ok(format!("+{national}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_normalised_to_e164() {
        let cases = [
            ("+49 89 1234-567", Ok("tel:+49891234567")),
            ("+49 (0)89 1234 567", Ok("tel:+49891234567")),
            ("0049 89 1234567", Ok("tel:+49891234567")),
            ("+1 (425) 555-0100", Ok("tel:+14255550100")),
            ("+33.1.23.45.67.89", Ok("tel:+33123456789")),
            ("089 1234567", Err(LinkRefused::NotInternational)),
            ("+49 89 CALL-IT", Err(LinkRefused::NotAPhoneNumber)),
            ("+49 89 1+234", Err(LinkRefused::NotAPhoneNumber)),
            ("+12", Err(LinkRefused::NotAPhoneNumber)),
            ("+1234567890123456", Err(LinkRefused::NotAPhoneNumber)),
            ("javascript:alert(1)", Err(LinkRefused::NotAPhoneNumber)),
        ];
        for (input, expected) in cases {
            let got = SafeHref::tel(input);
            assert_eq!(
                got.as_ref().map(SafeHref::as_str).map_err(|e| *e),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn only_plain_https_urls_pass() {
        assert_eq!(
            SafeHref::https(" https://help.contoso.com/it?x=1 ")
                .unwrap()
                .as_str(),
            "https://help.contoso.com/it?x=1"
        );
        assert_eq!(
            SafeHref::https("https://help.contoso.com/a\"b c")
                .unwrap()
                .as_str(),
            "https://help.contoso.com/a%22b%20c"
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
        ] {
            assert_eq!(SafeHref::https(input), Err(why), "{input}");
        }
    }

    #[test]
    fn mailto_cannot_add_headers_or_recipients() {
        assert_eq!(
            SafeHref::mailto("it.help@contoso.com").unwrap().as_str(),
            "mailto:it.help@contoso.com"
        );
        assert_eq!(
            SafeHref::mailto("help?bcc=x&y@contoso.com")
                .unwrap()
                .as_str(),
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
            assert_eq!(
                SafeHref::mailto(input),
                Err(LinkRefused::NotAnEmail),
                "{input}"
            );
        }
    }
}
