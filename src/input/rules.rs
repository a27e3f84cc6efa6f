//! The rules of the parameter table: ranges, formats and allowed values. Each format has one
//! parser, its value type's own ([`UserName`], [`EmailAddress`], [`PhoneNumber`],
//! [`HttpsUrl`], [`Color`], RFC 3339 for the start); an accepted value keeps what it parsed
//! to, so nothing after the input stage reads the text again.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::user_name::UserName;
use super::value::{ParamValue, short_str};
use crate::address::EmailAddress;
use crate::manifest::{Format, ParamType, ParameterSpec};
use crate::notify::{Color, HttpsUrl, PhoneNumber};
use crate::text::is_unsafe_char;

/// How far in the past a StartDateTime may lie (clock skew between host and Entra).
pub const START_TOLERANCE: time::Duration = time::Duration::minutes(5);

/// What a rule says about a value.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The value is fine (possibly normalised, e.g. a language code lower-cased).
    Accept(Accepted),
    /// Not an error: use this value instead and warn (an invalid colour falls back to the default).
    Warn(ParamValue, String),
    /// Refused: what was wrong.
    Refuse(String),
}

/// An accepted value: as written, and in its format's type when it has a format and is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The value as written (an allowed value in its listed case).
    pub value: ParamValue,
    /// What the format's parser made of it; `None` without a format or when empty.
    pub typed: Option<TypedValue>,
}

impl Accepted {
    /// A value without a format, or an empty one.
    pub fn plain(value: ParamValue) -> Self {
        Self { value, typed: None }
    }
}

/// A String parameter's value in the type of its format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedValue {
    /// `upn-or-object-id`.
    User(UserName),
    /// `date-time`, moved to UTC.
    Start(OffsetDateTime),
    /// `email`.
    Email(EmailAddress),
    /// `phone`.
    Phone(PhoneNumber),
    /// `https-url`.
    Https(HttpsUrl),
    /// `color`.
    Color(Color),
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
            Verdict::Accept(Accepted::plain(value))
        }
        ParamValue::Boolean(_) => Verdict::Accept(Accepted::plain(value)),
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
            Some(a) => Verdict::Accept(Accepted::plain(ParamValue::String(a.clone()))),
            None => Verdict::Refuse(format!(
                "{:?} is not one of the allowed values",
                short_str(s)
            )),
        };
    }
    if s.is_empty() {
        return Verdict::Accept(Accepted::plain(ParamValue::String(String::new())));
    }
    let fine = |typed: TypedValue| {
        Verdict::Accept(Accepted {
            value: ParamValue::String(s.to_owned()),
            typed: Some(typed),
        })
    };
    let refuse = |what: &str| Verdict::Refuse(format!("{:?} is not {what}", short_str(s)));
    let Some(format) = spec.format else {
        return Verdict::Accept(Accepted::plain(ParamValue::String(s.to_owned())));
    };
    match format {
        Format::UpnOrObjectId => match UserName::parse(s) {
            Ok(user) => fine(TypedValue::User(user)),
            Err(hint) => Verdict::Refuse(format!(
                "{:?} is not a user principal name or an object id{hint}",
                short_str(s)
            )),
        },
        Format::Email => EmailAddress::parse(s).map_or_else(
            || refuse("an email address"),
            |e| fine(TypedValue::Email(e)),
        ),
        Format::Phone => PhoneNumber::parse(s)
            .map_or_else(|| refuse("a phone number"), |p| fine(TypedValue::Phone(p))),
        Format::HttpsUrl => match HttpsUrl::parse(s) {
            Ok(url) => fine(TypedValue::Https(url)),
            Err(why) => Verdict::Refuse(format!("{:?} {why}", short_str(s))),
        },
        Format::Color => match Color::parse(s) {
            Some(color) => fine(TypedValue::Color(color)),
            None => Verdict::Warn(
                ParamValue::String(String::new()),
                format!(
                    "{} {:?} is not a #RRGGBB colour; the default colour is used",
                    spec.name,
                    short_str(s)
                ),
            ),
        },
        Format::DateTime => match OffsetDateTime::parse(s, &Rfc3339) {
            Err(_) => refuse("an RFC 3339 date-time with an offset"),
            Ok(t) => match start_in_utc(t) {
                // 9999-12-31T23:00:00-05:00 is a valid text, but no instant in UTC's calendar.
                None => Verdict::Refuse(format!(
                    "{s} is outside the dates a pass can have (its end must fall before the year 10000 in UTC)"
                )),
                Some(_) if t < now - START_TOLERANCE => {
                    Verdict::Refuse(format!("{s} is more than 5 minutes in the past"))
                }
                Some(utc) => fine(TypedValue::Start(utc)),
            },
        },
    }
}

/// The longest lifetime Entra allows a pass, so a start that passes the input check also has
/// an end that can be written down.
const LONGEST_LIFETIME: time::Duration = time::Duration::days(30);

/// A start moved to UTC, when start and end are representable as RFC 3339 (years up to 9999).
fn start_in_utc(t: OffsetDateTime) -> Option<OffsetDateTime> {
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
        (_, Some(Format::Phone)) => "a phone number of digits, spaces and + - ( ) / .; with a country code (+ or 00), 7 to 15 digits after it".into(),
        (_, Some(Format::HttpsUrl)) => "an absolute https:// URL, or empty".into(),
        (_, Some(Format::Color)) => "a colour as #RRGGBB".into(),
        (_, Some(Format::DateTime)) => "an RFC 3339 date-time with offset, e.g. 2026-11-29T09:00:00+01:00, not more than 5 minutes in the past; empty for now".into(),
        (_, None) => "text without control characters, at most 2048 characters".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_phone_number_accepted_here_is_one_the_email_can_show() {
        let spec = crate::manifest::Manifest::get()
            .parameter("ServiceDeskPhone")
            .unwrap();
        let now = OffsetDateTime::now_utc();
        let phone = |s: &str| check(spec, ParamValue::String(s.into()), now);
        match phone("089 1234567") {
            Verdict::Accept(Accepted {
                typed: Some(TypedValue::Phone(p)),
                ..
            }) => assert_eq!(p.international(), None),
            other => panic!("{other:?}"),
        }
        // A country code that cannot be dialled is a typo, refused before the job starts.
        for bad in ["+49 12", "+1234567890123456"] {
            assert!(
                matches!(phone(bad), Verdict::Refuse(p) if p.contains("is not a phone number")),
                "{bad}"
            );
        }
    }
}
