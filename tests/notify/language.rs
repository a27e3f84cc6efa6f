//! Which language a user gets, and why.

use tap_runbook::notify::{Language, SHIPPED_LANGUAGES, choose_language};

/// (LanguageOverride, preferredLanguage, usageLocation) → (language, reason as logged).
type Row = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    &'static str,
);

#[test]
fn language_choice_table() {
    let table: &[Row] = &[
        ("", None, None, "en", "default"),
        ("de", Some("fr-FR"), Some("IT"), "de", "LanguageOverride"),
        ("NL", None, None, "nl", "LanguageOverride"),
        (" it ", None, None, "it", "LanguageOverride"),
        ("pt", Some("es-MX"), None, "es", "preferredLanguage es-MX"),
        (
            "",
            Some("de-AT"),
            Some("FR"),
            "de",
            "preferredLanguage de-AT",
        ),
        ("", Some("DE-at"), None, "de", "preferredLanguage DE-at"),
        ("", Some("fr"), None, "fr", "preferredLanguage fr"),
        (
            "",
            Some("fr-CA"),
            Some("US"),
            "fr",
            "preferredLanguage fr-CA",
        ),
        (
            "",
            Some("nl-BE"),
            Some("BE"),
            "nl",
            "preferredLanguage nl-BE",
        ),
        (
            "",
            Some("it_CH"),
            Some("CH"),
            "it",
            "preferredLanguage it_CH",
        ),
        (
            "",
            Some("en-GB"),
            Some("DE"),
            "en",
            "preferredLanguage en-GB",
        ),
        ("", Some("pt-BR"), Some("BR"), "en", "default"),
        ("", Some("pt-BR"), Some("ES"), "es", "usageLocation ES"),
        ("", Some(""), Some("DE"), "de", "usageLocation DE"),
        ("", Some("  "), Some("at"), "de", "usageLocation at"),
        ("", None, Some("CH"), "de", "usageLocation CH"),
        ("", None, Some("LI"), "de", "usageLocation LI"),
        ("", None, Some("FR"), "fr", "usageLocation FR"),
        ("", None, Some("MC"), "fr", "usageLocation MC"),
        ("", None, Some("LU"), "fr", "usageLocation LU"),
        ("", None, Some("BE"), "en", "default"),
        ("", None, Some("MX"), "es", "usageLocation MX"),
        ("", None, Some("AR"), "es", "usageLocation AR"),
        ("", None, Some("CO"), "es", "usageLocation CO"),
        ("", None, Some("PR"), "es", "usageLocation PR"),
        ("", None, Some("UY"), "es", "usageLocation UY"),
        ("", None, Some("BR"), "en", "default"),
        ("", None, Some("IT"), "it", "usageLocation IT"),
        ("", None, Some("SM"), "it", "usageLocation SM"),
        ("", None, Some("VA"), "it", "usageLocation VA"),
        ("", None, Some("NL"), "nl", "usageLocation NL"),
        ("", None, Some("US"), "en", "default"),
        ("", None, Some("GB"), "en", "default"),
        ("", None, Some(""), "en", "default"),
        ("", Some("x"), Some("XX"), "en", "default"),
        ("klingon", None, Some("NL"), "nl", "usageLocation NL"),
    ];
    for (over, preferred, location, language, reason) in table {
        let choice = choose_language(over, *preferred, *location);
        assert_eq!(
            (choice.language.code(), choice.reason.to_string().as_str()),
            (*language, *reason),
            "override {over:?}, preferredLanguage {preferred:?}, usageLocation {location:?}"
        );
    }
}

#[test]
fn shipped_languages_parse_in_any_case() {
    assert_eq!(SHIPPED_LANGUAGES, ["en", "de", "fr", "es", "it", "nl"]);
    assert_eq!("DE".parse::<Language>().unwrap(), Language::De);
    assert_eq!(Language::Fr.code(), "fr");
    let err = "pt".parse::<Language>().unwrap_err();
    assert!(err.to_string().contains("\"pt\""), "{err}");
}
