//! Addresses of the form `local@domain`: email addresses, and the rules for the local part
//! and the domain name that user principal names share with them.

use std::fmt;

/// The characters besides ASCII letters and digits an email address's local part may hold
/// (RFC 5322's dot-atom).
const EMAIL_SYMBOLS: &str = "!#$%&'*+/=?^_`{|}~.-";

/// An email address: an RFC 5322 dot-atom local part, one `@`, and a domain name of at least
/// two labels; at most 254 characters. No quoted local parts, comments or display names, so
/// an address is always one plain recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// The address, or `None` when `text` is not one plain address.
    pub fn parse(text: &str) -> Option<EmailAddress> {
        let (local, domain) = text.rsplit_once('@')?;
        (is_dot_atom(local, EMAIL_SYMBOLS) && text.len() <= 254 && is_domain_name(domain))
            .then(|| EmailAddress(text.to_owned()))
    }

    /// The address as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The local part and the domain.
    pub fn parts(&self) -> (&str, &str) {
        self.0.rsplit_once('@').unwrap_or((&self.0, ""))
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A dot-atom: at most 64 characters from `symbols` and ASCII letters and digits, with dots
/// only between other characters.
pub(crate) fn is_dot_atom(local: &str, symbols: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || symbols.contains(c))
}

/// A DNS name of at least two labels (so no `localhost`), each of ASCII letters, digits and
/// inner hyphens.
pub(crate) fn is_domain_name(d: &str) -> bool {
    let labels: Vec<&str> = d.split('.').collect();
    d.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses() {
        assert!(EmailAddress::parse("service.desk+tap@contoso.com").is_some());
        assert!(EmailAddress::parse("service desk@contoso.com").is_none());
        assert!(EmailAddress::parse("x@localhost").is_none());
        assert_eq!(
            EmailAddress::parse("help?x@contoso.com").unwrap().parts(),
            ("help?x", "contoso.com")
        );
    }
}
