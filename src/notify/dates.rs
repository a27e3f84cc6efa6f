//! Dates and durations in the reader's language, without a locale library.
//!
//! Times are shown in the recipient's zone, named, with UTC beside them: the zone is a best
//! guess (see [`super::local_time`]), and the UTC time lets a reader check it.

use time::{Duration, OffsetDateTime, UtcOffset};

use super::catalog::{Catalog, PluralForms};
use super::language::Language;
use super::local_time::TimeZoneChoice;

/// `29. November 2026, 11:00 Europe/Berlin (10:00 UTC)` (de), `29 novembre 2026 à 10:00 UTC`
/// (fr, in UTC), …; the UTC part carries its own date when the day differs.
pub(crate) fn format_date_time(
    catalog: &Catalog,
    when: OffsetDateTime,
    zone: &TimeZoneChoice,
) -> String {
    // Graph's start may lie late on 9999-12-31 with a negative offset, which has no UTC form;
    // the last UTC second stands in rather than a panic.
    let utc = when
        .checked_to_offset(UtcOffset::UTC)
        .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc());
    if zone.is_utc() {
        return in_words(catalog, utc, "UTC");
    }
    let Some(local) = utc.checked_to_offset(zone.offset_at(utc)) else {
        return in_words(catalog, utc, "UTC");
    };
    let beside = if local.date() == utc.date() {
        format!("{:02}:{:02} UTC", utc.hour(), utc.minute())
    } else {
        in_words(catalog, utc, "UTC")
    };
    format!("{} ({beside})", in_words(catalog, local, zone.name()))
}

/// The catalog's date pattern filled in with `when` as it reads in `zone_name`.
fn in_words(catalog: &Catalog, when: OffsetDateTime, zone_name: &str) -> String {
    let words = &catalog.date;
    let day = match (&words.first_day, when.day()) {
        (Some(first), 1) => first.clone(),
        (_, day) => day.to_string(),
    };
    let month = &words.months[usize::from(u8::from(when.month())) - 1];
    let time = format!("{:02}:{:02}", when.hour(), when.minute());
    words
        .pattern
        .replace("{day}", &day)
        .replace("{month}", month)
        .replace("{year}", &when.year().to_string())
        .replace("{time}", &time)
        .replace("{zone}", zone_name)
}

/// When a pass that starts at `start` stops working.
pub(crate) fn end_of(start: OffsetDateTime, lifetime_minutes: u32) -> OffsetDateTime {
    start.saturating_add(Duration::minutes(i64::from(lifetime_minutes)))
}

/// `4 hours`, `1 hour and 30 minutes`, `45 minutes`, with each language's plural rule.
pub(crate) fn format_lifetime(language: Language, catalog: &Catalog, minutes: u32) -> String {
    let words = &catalog.duration;
    let (hours, rest) = (minutes / 60, minutes % 60);
    let count = |n: u32, forms: &PluralForms| format!("{n} {}", plural(language, n, forms));
    match (hours, rest) {
        (0, m) => count(m, &words.minute),
        (h, 0) => count(h, &words.hour),
        (h, m) => format!(
            "{}{}{}",
            count(h, &words.hour),
            words.joiner,
            count(m, &words.minute)
        ),
    }
}

/// CLDR cardinal rules for our languages: French treats 0 and 1 as singular, the others
/// only 1.
fn plural(language: Language, n: u32, forms: &PluralForms) -> &str {
    let singular = match language {
        Language::Fr => n <= 1,
        Language::En | Language::De | Language::Es | Language::It | Language::Nl => n == 1,
    };
    if singular { &forms.one } else { &forms.other }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::local_time::choose_time_zone;
    use time::macros::datetime;

    fn date(language: Language, when: OffsetDateTime) -> String {
        let utc = choose_time_zone(None, None);
        format_date_time(&Catalog::load(language).unwrap(), when, &utc)
    }

    fn date_in(language: Language, when: OffsetDateTime, country: &str) -> String {
        let zone = choose_time_zone(None, Some(country));
        format_date_time(&Catalog::load(language).unwrap(), when, &zone)
    }

    fn lifetime(language: Language, minutes: u32) -> String {
        format_lifetime(language, &Catalog::load(language).unwrap(), minutes)
    }

    #[test]
    fn dates_read_natively() {
        let when = datetime!(2026-11-29 10:00 UTC);
        assert_eq!(date(Language::En, when), "29 November 2026, 10:00 UTC");
        assert_eq!(date(Language::De, when), "29. November 2026, 10:00 UTC");
        assert_eq!(date(Language::Fr, when), "29 novembre 2026 à 10:00 UTC");
        assert_eq!(
            date(Language::Es, when),
            "29 de noviembre de 2026, 10:00 UTC"
        );
        assert_eq!(date(Language::It, when), "29 novembre 2026, ore 10:00 UTC");
        assert_eq!(date(Language::Nl, when), "29 november 2026 om 10:00 UTC");
    }

    #[test]
    fn first_of_the_month_is_an_ordinal_where_usual() {
        let when = datetime!(2027-03-01 08:05 UTC);
        assert_eq!(date(Language::Fr, when), "1er mars 2027 à 08:05 UTC");
        assert_eq!(date(Language::It, when), "1º marzo 2027, ore 08:05 UTC");
        assert_eq!(date(Language::De, when), "1. März 2027, 08:05 UTC");
        assert_eq!(date(Language::Es, when), "1 de marzo de 2027, 08:05 UTC");
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let when = datetime!(2026-12-31 23:30 -02:00);
        assert_eq!(date(Language::En, when), "1 January 2027, 01:30 UTC");
        assert_eq!(date(Language::Nl, when), "1 januari 2027 om 01:30 UTC");
    }

    #[test]
    fn local_time_is_named_with_utc_beside_it_in_summer_and_winter() {
        assert_eq!(
            date_in(Language::De, datetime!(2026-07-15 17:55 UTC), "DE"),
            "15. Juli 2026, 19:55 Europe/Berlin (17:55 UTC)"
        );
        assert_eq!(
            date_in(Language::De, datetime!(2026-12-15 18:55 UTC), "DE"),
            "15. Dezember 2026, 19:55 Europe/Berlin (18:55 UTC)"
        );
        assert_eq!(
            date_in(Language::Fr, datetime!(2026-12-15 18:55 UTC), "FR"),
            "15 décembre 2026 à 19:55 Europe/Paris (18:55 UTC)"
        );
    }

    #[test]
    fn utc_carries_its_own_date_when_the_day_differs() {
        assert_eq!(
            date_in(Language::En, datetime!(2026-12-31 23:30 UTC), "DE"),
            "1 January 2027, 00:30 Europe/Berlin (31 December 2026, 23:30 UTC)"
        );
        assert_eq!(
            date_in(Language::En, datetime!(2026-06-01 20:00 UTC), "JP"),
            "2 June 2026, 05:00 Asia/Tokyo (1 June 2026, 20:00 UTC)"
        );
    }

    #[test]
    fn every_month_has_its_own_name() {
        for language in Language::ALL {
            let catalog = Catalog::load(language).unwrap();
            let mut months = catalog.date.months.to_vec();
            months.sort();
            months.dedup();
            assert_eq!(months.len(), 12, "{language}");
        }
    }

    #[test]
    fn lifetimes_are_pluralised_per_language() {
        let table = [
            (
                Language::En,
                [
                    "1 minute",
                    "45 minutes",
                    "1 hour",
                    "4 hours",
                    "1 hour and 1 minute",
                    "2 hours and 30 minutes",
                ],
            ),
            (
                Language::De,
                [
                    "1 Minute",
                    "45 Minuten",
                    "1 Stunde",
                    "4 Stunden",
                    "1 Stunde und 1 Minute",
                    "2 Stunden und 30 Minuten",
                ],
            ),
            (
                Language::Fr,
                [
                    "1 minute",
                    "45 minutes",
                    "1 heure",
                    "4 heures",
                    "1 heure et 1 minute",
                    "2 heures et 30 minutes",
                ],
            ),
            (
                Language::Es,
                [
                    "1 minuto",
                    "45 minutos",
                    "1 hora",
                    "4 horas",
                    "1 hora y 1 minuto",
                    "2 horas y 30 minutos",
                ],
            ),
            (
                Language::It,
                [
                    "1 minuto",
                    "45 minuti",
                    "1 ora",
                    "4 ore",
                    "1 ora e 1 minuto",
                    "2 ore e 30 minuti",
                ],
            ),
            (
                Language::Nl,
                [
                    "1 minuut",
                    "45 minuten",
                    "1 uur",
                    "4 uur",
                    "1 uur en 1 minuut",
                    "2 uur en 30 minuten",
                ],
            ),
        ];
        for (language, expected) in table {
            let got = [1, 45, 60, 240, 61, 150].map(|m| lifetime(language, m));
            assert_eq!(got, expected, "{language}");
        }
    }

    #[test]
    fn french_zero_is_singular() {
        assert_eq!(lifetime(Language::Fr, 0), "0 minute");
        assert_eq!(lifetime(Language::En, 0), "0 minutes");
    }

    #[test]
    fn end_is_start_plus_lifetime() {
        assert_eq!(
            end_of(datetime!(2026-11-29 22:00 UTC), 240),
            datetime!(2026-11-30 02:00 UTC)
        );
    }
}
