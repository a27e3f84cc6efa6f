//! The per-language message catalogs in `templates/messages/`.
//!
//! `text` entries are handlebars HTML fragments: markup in them is ours and trusted,
//! values (`{{upn}}`, `{{display_name}}`) are escaped when the fragment is rendered.
//! `subject` and `preheader` are plain text and take no values.

use serde::{Deserialize, Serialize};

use super::NotifyError;
use super::language::Language;

/// All words of one language. Every field is required, so a catalog that misses a
/// sentence fails the catalog test instead of producing a half-translated email.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Catalog {
    pub subject: String,
    pub preheader: String,
    pub text: Texts,
    pub date: DateWords,
    pub duration: DurationWords,
}

/// The HTML fragments of the email body, in reading order.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Texts {
    pub heading: String,
    pub greeting_named: String,
    pub greeting: String,
    pub intro: String,
    pub purpose: String,
    pub label_account: String,
    pub label_valid_from: String,
    pub label_valid_until: String,
    pub label_duration: String,
    pub label_usage: String,
    pub usage_once: String,
    pub usage_multiple: String,
    pub delivery_title: String,
    pub delivery: String,
    pub not_requested_title: String,
    pub not_requested: String,
    pub not_requested_see_below: String,
    pub service_desk_title: String,
    pub label_email: String,
    pub label_phone: String,
    pub label_portal: String,
    pub label_ticket: String,
    pub closing: String,
    pub signature_default: String,
    pub automatic: String,
}

/// How a date is written: month names and a pattern over `day`, `month`, `year`, `time`, `zone`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DateWords {
    pub months: [String; 12],
    pub pattern: String,
    /// How the first day of a month is written where it is an ordinal (`1er`, `1º`).
    #[serde(default)]
    pub first_day: Option<String>,
}

/// Units and the word joining hours and minutes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DurationWords {
    pub hour: PluralForms,
    pub minute: PluralForms,
    pub joiner: String,
}

/// Singular and plural of a unit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PluralForms {
    pub one: String,
    pub other: String,
}

impl Catalog {
    /// The embedded catalog of a language.
    pub fn load(language: Language) -> Result<Catalog, NotifyError> {
        let source = match language {
            Language::En => include_str!("../../templates/messages/en.json"),
            Language::De => include_str!("../../templates/messages/de.json"),
            Language::Fr => include_str!("../../templates/messages/fr.json"),
            Language::Es => include_str!("../../templates/messages/es.json"),
            Language::It => include_str!("../../templates/messages/it.json"),
            Language::Nl => include_str!("../../templates/messages/nl.json"),
        };
        serde_json::from_str(source).map_err(|source| NotifyError::Catalog { language, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_is_complete() {
        for language in Language::ALL {
            let catalog = Catalog::load(language).unwrap();
            assert!(!catalog.subject.is_empty(), "{language}");
            assert!(catalog.date.months.iter().all(|m| !m.is_empty()));
        }
    }
}
