//! The user a pass is for, as the caller names them: the one rule for `upn-or-object-id`.

use crate::address::{is_domain_name, is_dot_atom};

/// The characters besides ASCII letters and digits Entra allows in a UPN's local part.
const UPN_SYMBOLS: &str = "'.-_!#^~$";

/// The user the pass is for, as the caller named them. Which form it is decides what Graph's
/// answer is compared with before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserName {
    /// A user principal name, `local@domain`.
    Upn(String),
    /// An Entra object id (GUID).
    ObjectId(String),
}

impl UserName {
    /// The name, or what makes `text` neither a user principal name nor an object id.
    pub fn parse(text: &str) -> Result<UserName, String> {
        if is_object_id(text) {
            Ok(UserName::ObjectId(text.to_owned()))
        } else if is_upn(text) {
            Ok(UserName::Upn(text.to_owned()))
        } else {
            Err(upn_hint(text))
        }
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Upn(s) | Self::ObjectId(s) => s,
        }
    }
}

/// An Entra object id: a GUID in its 8-4-4-4-12 form.
fn is_object_id(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The longest user principal name Entra accepts, in bytes.
const MAX_UPN_BYTES: usize = 113;

/// A user principal name as Entra accepts it: a local part of letters, digits and
/// `' . - _ ! # ^ ~ $` (not starting or ending with a dot), one `@`, and a domain name.
fn is_upn(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    is_dot_atom(local, UPN_SYMBOLS) && s.len() <= MAX_UPN_BYTES && is_domain_name(domain)
}

/// What makes `s` no user principal name, when one thing stands out: a missing or second `@`,
/// or a character a UPN cannot hold (`%`, `?`, `/`, a full-width `＠` that only looks like one).
fn upn_hint(s: &str) -> String {
    let ats = s.matches('@').count();
    if ats == 0 && !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return ": an object id has the form 8-4-4-4-12 hex digits".into();
    }
    if ats == 0 {
        let lookalike = s
            .chars()
            .find(|c| matches!(c, '\u{ff20}' | '\u{fe6b}' | '\u{24d0}'));
        return match lookalike {
            Some(c) => format!(
                ": it has no @, only the look-alike {c:?} (U+{:04X})",
                u32::from(c)
            ),
            None => ": it has no @".into(),
        };
    }
    if ats > 1 {
        return ": it has more than one @".into();
    }
    if s.len() > MAX_UPN_BYTES {
        return format!(
            ": it is {} bytes long, at most {MAX_UPN_BYTES} are possible",
            s.len()
        );
    }
    let (local, domain) = s.split_once('@').unwrap_or((s, ""));
    let bad = local
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || UPN_SYMBOLS.contains(*c)))
        .or_else(|| {
            domain
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || "-.".contains(*c)))
        });
    match bad {
        Some(c) if c.is_ascii() => format!(": {c:?} cannot appear in a user principal name"),
        Some(c) => format!(": {c:?} (U+{:04X}) is not an ASCII character", u32::from(c)),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names() {
        for ok in [
            "adele@contoso.com",
            "o'brien@contoso.co.uk",
            "a.b-c_d!e#f^g~h$i@sub.contoso.com",
            "$admin@contoso.com",
            "adele_fabrikam.com#EXT#@contoso.onmicrosoft.com",
            "0c9d3b4e-1f2a-4b5c-8d7e-9f0a1b2c3d4e",
        ] {
            assert!(UserName::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            UserName::parse("0c9d3b4e-1f2a-4b5c-8d7e-9f0a1b2c3d4e"),
            Ok(UserName::ObjectId(
                "0c9d3b4e-1f2a-4b5c-8d7e-9f0a1b2c3d4e".into()
            ))
        );
        for bad in [
            "adele",
            "adele@",
            "@contoso.com",
            "a@b@contoso.com",
            "adele@contoso",
            ".adele@contoso.com",
            "ad..ele@contoso.com",
            "adele/../x@contoso.com",
            "adele?x=1@contoso.com",
            "adele%40@contoso.com",
            "ad ele@contoso.com",
            "adele@-contoso.com",
            "0c9d3b4e-1f2a-4b5c-8d7e-9f0a1b2c3d4",
        ] {
            assert!(UserName::parse(bad).is_err(), "{bad}");
        }
    }
}
