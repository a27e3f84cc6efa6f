//! "Did you mean" hints for misspelt names.

/// ` (did you mean "X"?)` when a known name is close to `input`, else an empty string.
pub fn did_you_mean(input: &str, known: &[&str]) -> String {
    // No name is longer than this; comparing a huge key would only cost time.
    if input.len() > 128 {
        return String::new();
    }
    let lower = input.to_lowercase();
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(&lower, &k.to_lowercase()), k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!(" (did you mean \"{k}\"?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let known = ["LifetimeInMinutes", "OneTimeUseOnly", "UserName"];
        assert_eq!(
            did_you_mean("lifetimeinminute", &known),
            " (did you mean \"LifetimeInMinutes\"?)"
        );
        assert_eq!(
            did_you_mean("Username", &known),
            " (did you mean \"UserName\"?)"
        );
        assert_eq!(did_you_mean("Colour", &known), "");
    }
}
