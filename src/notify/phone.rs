//! Service Desk phone numbers: the one rule, used by the input stage, and the international
//! form a `tel:` link dials.

use std::fmt;

/// A phone number: 3 to 20 digits, written with spaces and `+ - ( ) / .` (at most 40
/// characters, `+` only first). A number with a country prefix (`+` or `00`) must be a
/// dialable E.164 number: 7 to 15 digits after the prefix, not starting with 0, where a
/// `(0)` trunk mark does not count. A number without one is national: shown, but not linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    /// As configured, trimmed.
    written: String,
    /// `+` and digits, when the number carries its country code.
    international: Option<String>,
}

impl PhoneNumber {
    /// The number, or `None` when `text` is not one.
    pub fn parse(text: &str) -> Option<PhoneNumber> {
        let written = text.trim();
        let digits = written.bytes().filter(u8::is_ascii_digit).count();
        let well_formed = (3..=20).contains(&digits)
            && written.len() <= 40
            && written
                .bytes()
                .all(|b| b.is_ascii_digit() || b" +-()/.".contains(&b))
            && !written[1..].contains('+');
        if !well_formed {
            return None;
        }
        // The "(0)" convention marks a trunk prefix that is not dialled from abroad.
        let digits: String = written
            .replacen("(0)", "", 1)
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let national = if written.starts_with('+') {
            digits.as_str()
        } else if let Some(rest) = digits.strip_prefix("00")
            && written.starts_with("00")
        {
            rest
        } else {
            return Some(PhoneNumber {
                written: written.to_owned(),
                international: None,
            });
        };
        // E.164 allows at most 15 digits; fewer than 7 is no reachable international number.
        if !(7..=15).contains(&national.len()) || national.starts_with('0') {
            return None;
        }
        Some(PhoneNumber {
            written: written.to_owned(),
            international: Some(format!("+{national}")),
        })
    }

    /// The number as configured.
    pub fn as_str(&self) -> &str {
        &self.written
    }

    /// `+` and digits (`+49 (0)89 1234-567` → `+49891234567`), when the number has a country
    /// code.
    pub fn international(&self) -> Option<&str> {
        self.international.as_deref()
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_with_a_country_code_must_be_dialable() {
        for ok in [
            "+49 30 1234-567",
            "(030) 123 456",
            "089 1234567",
            "0049 89 1234567",
        ] {
            assert!(PhoneNumber::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "call us",
            "12",
            "+49+30 1234",
            "+49 89 CALL-IT",
            "+49 89 1+234",
            "+12",
            "+49 12",
            "+1234567890123456",
            "+0 89 1234567",
            "javascript:alert(1)",
        ] {
            assert_eq!(PhoneNumber::parse(bad), None, "{bad}");
        }
        assert_eq!(
            PhoneNumber::parse("089 1234567").unwrap().international(),
            None
        );
    }

    #[test]
    fn surrounding_spaces_count_on_neither_side() {
        for padded in [" +49 89 1234567", "+49 89 1234567 "] {
            let number = PhoneNumber::parse(padded).expect(padded);
            assert_eq!(number.international(), Some("+49891234567"), "{padded:?}");
        }
    }
}
