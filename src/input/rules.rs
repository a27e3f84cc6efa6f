//! The rules of the parameter table: ranges, formats and allowed values.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::value::{ParamValue, short_str};
use crate::manifest::{Format, ParamType, ParameterSpec};
use crate::text::is_unsafe_char;

/// How far in the past a StartDateTime may lie (clock skew between host and Entra).
pub const START_TOLERANCE: time::Duration = time::Duration::minutes(5);

/// What a rule says about a value.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The value is fine (possibly normalised, e.g. a language code lower-cased).
    Accept(ParamValue),
    /// Not an error: use this value instead and warn (an invalid colour falls back to the default).
    Warn(ParamValue, String),
    /// Refused: what was wrong.
    Refuse(String),
}

/// Checks a typed value against the parameter's rules. Empty strings are "not set" and pass;
/// whether a value is required is decided by the merge.
pub fn check(spec: &ParameterSpec, value: ParamValue, now: OffsetDateTime) -> Verdict {
    match &value {
        ParamValue::Int32(i) => {
            let (lo, hi) = (
                spec.minimum.unwrap_or(i64::MIN),
                spec.maximum.unwrap_or(i64::MAX),
            );
            if i64::from(*i) < lo || i64::from(*i) > hi {
                return Verdict::Refuse(match (spec.minimum, spec.maximum) {
                    (Some(lo), Some(hi)) => {
                        format!("{i} is outside the allowed range ({lo} to {hi})")
                    }
                    _ => format!("{i} is outside the allowed range"),
                });
            }
            Verdict::Accept(value)
        }
        ParamValue::Boolean(_) => Verdict::Accept(value),
        ParamValue::String(s) => check_string(spec, s, now),
    }
}

fn check_string(spec: &ParameterSpec, s: &str, now: OffsetDateTime) -> Verdict {
    if let Some((at, c)) = s.chars().enumerate().find(|(_, c)| is_unsafe_char(*c)) {
        return Verdict::Refuse(format!(
            "contains a control character (U+{:04X} at character {}); line breaks, tabs, NUL and text-direction marks are not allowed",
            u32::from(c),
            at + 1
        ));
    }
    if s.chars().count() > 2048 {
        return Verdict::Refuse("is longer than 2048 characters".into());
    }
    if let Some(allowed) = &spec.allowed {
        return match allowed.iter().find(|a| a.eq_ignore_ascii_case(s)) {
            Some(a) => Verdict::Accept(ParamValue::String(a.clone())),
            None => Verdict::Refuse(format!(
                "{:?} is not one of the allowed values",
                short_str(s)
            )),
        };
    }
    if s.is_empty() {
        return Verdict::Accept(ParamValue::String(String::new()));
    }
    let fine = || Verdict::Accept(ParamValue::String(s.to_owned()));
    let refuse = |what: &str| Verdict::Refuse(format!("{:?} is not {what}", short_str(s)));
    match spec.format {
        None => fine(),
        Some(Format::UpnOrObjectId) if is_object_id(s) || is_upn(s) => fine(),
        Some(Format::UpnOrObjectId) => Verdict::Refuse(format!(
            "{:?} is not a user principal name or an object id{}",
            short_str(s),
            upn_hint(s)
        )),
        Some(Format::Email) if is_email(s) => fine(),
        Some(Format::Email) => refuse("an email address"),
        Some(Format::Phone) if is_phone(s) => fine(),
        Some(Format::Phone) => refuse("a phone number"),
        Some(Format::HttpsUrl) => match https_url_problem(s) {
            None => fine(),
            Some(p) => Verdict::Refuse(format!("{:?} {p}", short_str(s))),
        },
        Some(Format::Color) if is_color(s) => fine(),
        Some(Format::Color) => Verdict::Warn(
            ParamValue::String(String::new()),
            format!(
                "{} {:?} is not a #RRGGBB colour; the default colour is used",
                spec.name,
                short_str(s)
            ),
        ),
        Some(Format::DateTime) => match OffsetDateTime::parse(s, &Rfc3339) {
            Err(_) => refuse("an RFC 3339 date-time with an offset"),
            // 9999-12-31T23:00:00-05:00 is a valid text, but no instant in UTC's calendar.
            Ok(_) if parse_start(s).is_none() => Verdict::Refuse(format!(
                "{s} is outside the dates a pass can have (its end must fall before the year 10000 in UTC)"
            )),
            Ok(t) if t < now - START_TOLERANCE => {
                Verdict::Refuse(format!("{s} is more than 5 minutes in the past"))
            }
            Ok(_) => fine(),
        },
    }
}

/// The longest lifetime Entra allows a pass, so a start that passes the input check also has
/// an end that can be written down.
const LONGEST_LIFETIME: time::Duration = time::Duration::days(30);

/// A StartDateTime as the job uses it: RFC 3339 with an offset, moved to UTC, with start and
/// end representable as RFC 3339 (years up to 9999). The input check and the request both use
/// this, so a value the check accepts cannot fail later.
pub fn parse_start(s: &str) -> Option<OffsetDateTime> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    let utc = t.checked_to_offset(time::UtcOffset::UTC)?;
    let end = utc.checked_add(LONGEST_LIFETIME)?;
    (utc.year() >= 1 && end.year() <= 9999).then_some(utc)
}

/// What a person may write, for the error message.
pub fn allowed_text(spec: &ParameterSpec) -> String {
    if let Some(allowed) = &spec.allowed {
        let list: Vec<String> = allowed
            .iter()
            .map(|a| {
                if a.is_empty() {
                    "\"\" (automatic)".into()
                } else {
                    a.clone()
                }
            })
            .collect();
        return format!("one of {}", list.join(", "));
    }
    match (spec.kind, spec.format) {
        (ParamType::Int32, _) => match (spec.minimum, spec.maximum) {
            (Some(lo), Some(hi)) => format!("a whole number from {lo} to {hi}"),
            _ => "a whole number (Int32)".into(),
        },
        (ParamType::Boolean, _) => "true or false (also as the strings \"true\", \"False\", \"$true\", \"$false\")".into(),
        (_, Some(Format::UpnOrObjectId)) => "a user principal name like adele@contoso.com (letters, digits and ' . - _ ! # ^ ~ $ before one @) or an object id (GUID)".into(),
        (_, Some(Format::Email)) => "an email address like helpdesk@contoso.com".into(),
        (_, Some(Format::Phone)) => "a phone number of digits, spaces and + - ( ) / .".into(),
        (_, Some(Format::HttpsUrl)) => "an absolute https:// URL, or empty".into(),
        (_, Some(Format::Color)) => "a colour as #RRGGBB".into(),
        (_, Some(Format::DateTime)) => "an RFC 3339 date-time with offset, e.g. 2026-11-29T09:00:00+01:00, not more than 5 minutes in the past; empty for now".into(),
        (_, None) => "text without control characters, at most 2048 characters".into(),
    }
}

/// An Entra object id: a GUID in its 8-4-4-4-12 form.
pub fn is_object_id(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A user principal name as Entra accepts it: a local part of letters, digits and
/// `' . - _ ! # ^ ~ $` (not starting or ending with a dot), one `@`, and a domain name.
pub fn is_upn(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    is_local_part(local, "'.-_!#^~$") && s.len() <= 113 && is_domain(domain)
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
    if s.len() > 113 {
        return format!(": it is {} bytes long, at most 113 are possible", s.len());
    }
    let (local, domain) = s.split_once('@').unwrap_or((s, ""));
    let bad = local
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "'.-_!#^~$".contains(*c)))
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

/// A dot-atom: at most 64 characters from `symbols` and ASCII letters and digits, with dots
/// only between other characters.
fn is_local_part(local: &str, symbols: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || symbols.contains(c))
}

fn is_domain(d: &str) -> bool {
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

/// An email address: an RFC 5322 dot-atom local part and a domain name.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    is_local_part(local, "!#$%&'*+/=?^_`{|}~.-") && s.len() <= 254 && is_domain(domain)
}

fn is_phone(s: &str) -> bool {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    (3..=20).contains(&digits)
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b" +-()/.".contains(&b))
        && !s[1..].contains('+')
}

/// Why `s` is not an acceptable https URL, or `None` when it is.
pub fn https_url_problem(s: &str) -> Option<&'static str> {
    let Ok(url) = reqwest::Url::parse(s) else {
        return Some("is not an absolute URL");
    };
    if url.scheme() != "https" {
        return Some("is not an https URL");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Some("has no host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Some("must not carry a user name or password");
    }
    None
}

fn is_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
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
            assert!(is_upn(ok) || is_object_id(ok), "{ok}");
        }
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
            assert!(!is_upn(bad) && !is_object_id(bad), "{bad}");
        }
    }

    #[test]
    fn user_name_refusals_say_what_is_wrong() {
        let spec = crate::manifest::Manifest::get()
            .parameter("UserName")
            .unwrap();
        let now = OffsetDateTime::now_utc();
        for (bad, says) in [
            ("adele%2F..@contoso.com", "'%'"),
            ("a@contoso.com?x", "'?'"),
            ("adele\u{ff20}contoso.com", "U+FF20"),
            ("a@b@contoso.com", "more than one @"),
            ("a\u{0}b@contoso.com", "U+0000"),
            ("ad\u{e9}le@contoso.com", "not an ASCII character"),
        ] {
            match check(spec, ParamValue::String(bad.into()), now) {
                Verdict::Refuse(p) => assert!(p.contains(says), "{bad}: {p}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_start_past_the_calendar_in_utc_is_refused() {
        let spec = crate::manifest::Manifest::get()
            .parameter("StartDateTime")
            .unwrap();
        let now = OffsetDateTime::now_utc();
        let verdict = check(
            spec,
            ParamValue::String("9999-12-31T23:30:00-05:00".into()),
            now,
        );
        assert!(matches!(verdict, Verdict::Refuse(p) if p.contains("year 10000")));
        // A start whose end would pass the year 9999 cannot be written down either.
        let late = check(
            spec,
            ParamValue::String("9999-12-31T23:30:00+05:00".into()),
            now,
        );
        assert!(matches!(late, Verdict::Refuse(_)));
        let fine = check(
            spec,
            ParamValue::String("9999-11-01T00:00:00+05:00".into()),
            now,
        );
        assert!(matches!(fine, Verdict::Accept(_)));
    }

    #[test]
    fn emails_phones_urls_colours() {
        assert!(is_email("service.desk+tap@contoso.com"));
        assert!(!is_email("service desk@contoso.com"));
        assert!(!is_email("x@localhost"));
        assert!(is_phone("+49 30 1234-567"));
        assert!(is_phone("(030) 123 456"));
        assert!(!is_phone("call us"));
        assert!(!is_phone("12"));
        assert!(!is_phone("+49+30 1234"));
        assert_eq!(https_url_problem("https://help.contoso.com/portal"), None);
        assert!(https_url_problem("http://help.contoso.com").is_some());
        assert!(https_url_problem("javascript:alert(1)").is_some());
        assert!(https_url_problem("https://user:pw@help.contoso.com").is_some());
        assert!(is_color("#0078D4"));
        assert!(!is_color("0078D4"));
        assert!(!is_color("#0078D"));
    }
}
