//! When a managed-identity token expires. Azure Automation and App Service have sent
//! `expires_on` as epoch seconds (a number or a string) and as date-time text, so all are read.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, Month, OffsetDateTime, Time, UtcOffset};

/// The expiry from a token response's `expires_on`, else its `expires_in` (seconds from now).
pub(crate) fn token_expiry(
    expires_on: Option<&Value>,
    expires_in: Option<&Value>,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    expires_on.and_then(parse_expires_on).or_else(|| {
        let seconds = match expires_in? {
            Value::Number(n) => n.as_i64()?,
            Value::String(s) => s.trim().parse().ok()?,
            _ => return None,
        };
        // `+` panics past the year 9999; an endpoint's `expires_in` must not end the job.
        now.checked_add(Duration::seconds(seconds))
    })
}

fn parse_expires_on(value: &Value) -> Option<OffsetDateTime> {
    match value {
        Value::Number(n) => OffsetDateTime::from_unix_timestamp(n.as_i64()?).ok(),
        Value::String(s) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(epoch) => OffsetDateTime::from_unix_timestamp(epoch).ok(),
                Err(_) => OffsetDateTime::parse(s, &Rfc3339)
                    .ok()
                    .or_else(|| parse_us_date_time(s)),
            }
        }
        _ => None,
    }
}

/// `11/29/2026 10:00:00 +00:00` or `09/14/2017 00:00:00 PM +00:00`: .NET's invariant
/// `DateTimeOffset` text, as App Service's and Automation's token endpoints have written it.
fn parse_us_date_time(text: &str) -> Option<OffsetDateTime> {
    let mut words = text.split_whitespace();
    let date = words.next()?;
    let clock = words.next()?;
    let mut word = words.next()?;
    let mut afternoon = None;
    if word.eq_ignore_ascii_case("AM") || word.eq_ignore_ascii_case("PM") {
        afternoon = Some(word.eq_ignore_ascii_case("PM"));
        word = words.next()?;
    }
    if words.next().is_some() {
        return None;
    }
    let [month, day, year] = numbers::<3>(date, '/')?;
    let [mut hour, minute, second] = numbers::<3>(clock.split('.').next()?, ':')?;
    match afternoon {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    let date = Date::from_calendar_date(
        i32::try_from(year).ok()?,
        Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    let time = Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    Some(date.with_time(time).assume_offset(parse_offset(word)?))
}

fn parse_offset(text: &str) -> Option<UtcOffset> {
    if text.eq_ignore_ascii_case("Z") {
        return Some(UtcOffset::UTC);
    }
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let [hours, minutes] = numbers::<2>(rest, ':')?;
    UtcOffset::from_hms(
        sign * i8::try_from(hours).ok()?,
        sign * i8::try_from(minutes).ok()?,
        0,
    )
    .ok()
}

fn numbers<const N: usize>(text: &str, separator: char) -> Option<[u32; N]> {
    let mut out = [0u32; N];
    let mut parts = text.split(separator);
    for slot in &mut out {
        *slot = parts.next()?.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn on(v: Value) -> Option<OffsetDateTime> {
        token_expiry(Some(&v), None, OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn an_absurd_lifetime_is_no_lifetime_rather_than_a_panic() {
        let now = OffsetDateTime::UNIX_EPOCH;
        for absurd in [
            json!(i64::MAX),
            json!(i64::MIN),
            json!("9223372036854775807"),
        ] {
            assert_eq!(token_expiry(None, Some(&absurd), now), None, "{absurd}");
        }
        assert_eq!(on(json!(i64::MAX)), None);
    }

    #[test]
    fn epoch_number_and_string() {
        let t = datetime!(2026-11-29 10:00:00 UTC);
        assert_eq!(on(json!(t.unix_timestamp())), Some(t));
        assert_eq!(on(json!(t.unix_timestamp().to_string())), Some(t));
    }

    #[test]
    fn date_time_texts() {
        assert_eq!(
            on(json!("11/29/2026 10:00:00 +00:00")),
            Some(datetime!(2026-11-29 10:00:00 UTC))
        );
        assert_eq!(
            on(json!("1/2/2026 9:05:00 PM +01:00")),
            Some(datetime!(2026-01-02 21:05:00 +01:00))
        );
        assert_eq!(
            on(json!("1/2/2026 12:05:00 AM -05:30")),
            Some(datetime!(2026-01-02 00:05:00 -05:30))
        );
        assert_eq!(
            on(json!("2026-11-29T10:00:00Z")),
            Some(datetime!(2026-11-29 10:00:00 UTC))
        );
        assert_eq!(
            on(json!("2026-11-29T11:00:00+01:00")),
            Some(datetime!(2026-11-29 10:00:00 UTC))
        );
        assert_eq!(on(json!("13/40/2026 10:00:00 +00:00")), None);
        assert_eq!(on(json!("soon")), None);
    }

    #[test]
    fn expires_in_when_expires_on_is_missing_or_unreadable() {
        let now = datetime!(2026-11-29 10:00:00 UTC);
        let later = datetime!(2026-11-29 11:00:00 UTC);
        assert_eq!(token_expiry(None, Some(&json!(3600)), now), Some(later));
        assert_eq!(token_expiry(None, Some(&json!("3600")), now), Some(later));
        assert_eq!(
            token_expiry(Some(&json!("garbage")), Some(&json!(3600)), now),
            Some(later)
        );
        assert_eq!(token_expiry(None, None, now), None);
    }
}
