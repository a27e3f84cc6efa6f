//! The per-language message catalogs in `templates/messages/`.
//!
//! `text` entries are HTML fragments ([`Markup`]): markup in them is ours and trusted; the one
//! value they take, `{{display_name}}` in `greeting_named`, is escaped when it is put in.
//! `subject` and `preheader` are plain text and take no values.

use serde::Deserialize;

use super::NotifyError;
use super::language::Language;
use super::markup::Markup;

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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Texts {
    pub heading: Markup,
    pub greeting_named: Markup,
    pub greeting: Markup,
    pub intro: Markup,
    pub purpose: Markup,
    pub label_account: Markup,
    pub label_valid_from: Markup,
    pub label_valid_until: Markup,
    pub label_duration: Markup,
    pub label_usage: Markup,
    pub usage_once: Markup,
    pub usage_multiple: Markup,
    pub delivery_title: Markup,
    pub delivery: Markup,
    pub not_requested_title: Markup,
    pub not_requested: Markup,
    pub not_requested_see_below: Markup,
    pub service_desk_title: Markup,
    pub label_email: Markup,
    pub label_phone: Markup,
    pub label_portal: Markup,
    pub label_ticket: Markup,
    pub closing: Markup,
    pub signature_default: Markup,
    pub automatic: Markup,
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
        serde_json::from_str(Self::source(language))
            .map_err(|source| NotifyError::Catalog { language, source })
    }

    fn source(language: Language) -> &'static str {
        match language {
            Language::En => include_str!("../../templates/messages/en.json"),
            Language::De => include_str!("../../templates/messages/de.json"),
            Language::Fr => include_str!("../../templates/messages/fr.json"),
            Language::Es => include_str!("../../templates/messages/es.json"),
            Language::It => include_str!("../../templates/messages/it.json"),
            Language::Nl => include_str!("../../templates/messages/nl.json"),
        }
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

    /// Nothing renders a catalog as a template: a placeholder other than the greeting's
    /// would reach the email as it is written.
    #[test]
    fn only_the_named_greeting_takes_a_value() {
        for language in Language::ALL {
            let source = Catalog::source(language);
            assert_eq!(source.matches("{{").count(), 1, "{language}");
            let greeting = Catalog::load(language).unwrap().text.greeting_named;
            assert!(
                greeting.to_string().contains("{{display_name}}"),
                "{language}"
            );
        }
    }
}
