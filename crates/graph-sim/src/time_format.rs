//! Timestamps as Graph writes them.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `2026-11-29T10:00:00.123Z`: UTC with milliseconds, as Graph writes `createdDateTime`. A time
/// that has no UTC form keeps its own offset.
pub fn format_rfc3339(t: OffsetDateTime) -> String {
    let Some(utc) = t.checked_to_offset(time::UtcOffset::UTC) else {
        return t.format(&Rfc3339).unwrap_or_default();
    };
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    utc.format(&fmt)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::format_rfc3339;

    #[test]
    fn utc_with_milliseconds() {
        let t = time::macros::datetime!(2026-11-29 11:00:00.1234 +01:00);
        assert_eq!(format_rfc3339(t), "2026-11-29T10:00:00.123Z");
    }
}
