//! Which language the email is written in, and why.

use std::fmt;
use std::str::FromStr;

/// The languages with a message catalog under `templates/messages/`, for input validation.
pub const SHIPPED_LANGUAGES: &[&str] = &["en", "de", "fr", "es", "it", "nl"];

/// A language the email can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// English, also the fallback.
    En,
    /// German.
    De,
    /// French.
    Fr,
    /// Spanish.
    Es,
    /// Italian.
    It,
    /// Dutch.
    Nl,
}

impl Language {
    /// Every shipped language, in the order of [`SHIPPED_LANGUAGES`].
    pub const ALL: [Language; 6] = [
        Language::En,
        Language::De,
        Language::Fr,
        Language::Es,
        Language::It,
        Language::Nl,
    ];

    /// The ISO 639-1 code, lower case (`"de"`).
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::De => "de",
            Language::Fr => "fr",
            Language::Es => "es",
            Language::It => "it",
            Language::Nl => "nl",
        }
    }

    /// The shipped language of a BCP 47 tag such as `de-AT`, `pt_BR` or `FR`, if any.
    fn from_tag(tag: &str) -> Option<Language> {
        let primary = tag.trim().split(['-', '_']).next()?;
        Language::ALL
            .into_iter()
            .find(|language| language.code().eq_ignore_ascii_case(primary))
    }

    /// The language most people in a country read, for the countries we have a catalog for.
    ///
    /// Multilingual countries are mapped only where one language is clearly expected at
    /// work: Switzerland and Liechtenstein to German (the majority language, as the design
    /// asks), Luxembourg to French (its language of administration and business). Belgium
    /// is left to English on purpose: Dutch and French are regional there, and a mail in
    /// the other community's language reads worse than a neutral one. Users in those
    /// countries get their own language through `preferredLanguage`, which is checked first.
    fn from_usage_location(country: &str) -> Option<Language> {
        let country = country.trim().to_ascii_uppercase();
        let language = match country.as_str() {
            "DE" | "AT" | "CH" | "LI" => Language::De,
            "FR" | "MC" | "LU" => Language::Fr,
            "ES" | "MX" | "AR" | "CO" | "CL" | "PE" | "VE" | "EC" | "GT" | "CU" | "BO" | "DO"
            | "HN" | "PY" | "SV" | "NI" | "CR" | "PA" | "UY" | "PR" => Language::Es,
            "IT" | "SM" | "VA" => Language::It,
            "NL" => Language::Nl,
            _ => return None,
        };
        Some(language)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A language code that has no message catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no message catalog for language {0:?}; shipped: en, de, fr, es, it, nl")]
pub struct UnknownLanguage(pub String);

impl FromStr for Language {
    type Err = UnknownLanguage;

    /// Parses a shipped language code, case-insensitively (`"de"`, `"DE"`).
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        let trimmed = code.trim();
        Language::ALL
            .into_iter()
            .find(|language| language.code().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| UnknownLanguage(code.to_owned()))
    }
}

/// The language picked for one user, with the rule that picked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageChoice {
    /// The language the email is written in.
    pub language: Language,
    /// Why, for a Verbose log line.
    pub reason: LanguageReason,
}

/// The rule that decided the language. `Display` gives the Verbose wording
/// (`LanguageOverride`, `preferredLanguage de-AT`, `usageLocation CH`, `default`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanguageReason {
    /// The LanguageOverride parameter.
    Override,
    /// The user's `preferredLanguage`, as Graph returned it.
    PreferredLanguage(String),
    /// The user's `usageLocation`, as Graph returned it.
    UsageLocation(String),
    /// Nothing matched a shipped language: English.
    Default,
}

impl fmt::Display for LanguageReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LanguageReason::Override => f.write_str("LanguageOverride"),
            LanguageReason::PreferredLanguage(tag) => write!(f, "preferredLanguage {tag}"),
            LanguageReason::UsageLocation(country) => write!(f, "usageLocation {country}"),
            LanguageReason::Default => f.write_str("default"),
        }
    }
}

/// Picks the email language: the LanguageOverride parameter, else the user's
/// `preferredLanguage` (`de-AT` → de), else their `usageLocation` (`CH` → de), else English.
///
/// Input validation already limits the override to [`SHIPPED_LANGUAGES`]; an override
/// that is not one of them anyway is ignored rather than trusted.
pub fn choose_language(
    language_override: &str,
    preferred_language: Option<&str>,
    usage_location: Option<&str>,
) -> LanguageChoice {
    if let Ok(language) = language_override.parse::<Language>() {
        return LanguageChoice {
            language,
            reason: LanguageReason::Override,
        };
    }
    if let Some(tag) = preferred_language
        && let Some(language) = Language::from_tag(tag)
    {
        return LanguageChoice {
            language,
            reason: LanguageReason::PreferredLanguage(tag.trim().to_owned()),
        };
    }
    if let Some(country) = usage_location
        && let Some(language) = Language::from_usage_location(country)
    {
        return LanguageChoice {
            language,
            reason: LanguageReason::UsageLocation(country.trim().to_owned()),
        };
    }
    LanguageChoice {
        language: Language::En,
        reason: LanguageReason::Default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_languages_match_the_enum() {
        let codes: Vec<&str> = Language::ALL.iter().map(|l| l.code()).collect();
        assert_eq!(codes, SHIPPED_LANGUAGES);
        for code in SHIPPED_LANGUAGES {
            assert_eq!(code.parse::<Language>().unwrap().code(), *code);
            assert_eq!(
                code.to_uppercase().parse::<Language>().unwrap().code(),
                *code
            );
        }
    }

    #[test]
    fn a_region_tag_is_not_a_language_code() {
        assert!("de-AT".parse::<Language>().is_err());
        assert!("".parse::<Language>().is_err());
        assert!("pt".parse::<Language>().is_err());
    }
}
