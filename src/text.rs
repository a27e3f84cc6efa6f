//! Characters that must never reach a reader raw, and the one way to write them out.
//!
//! Values come from places the job does not control: the invocation, the tenant's
//! customization, and Graph (a `userPrincipalName`, a `displayName`, an error message). A line
//! break in one of them forges a log line ("Status: Completed"), an ESC or OSC sequence drives
//! the operator's terminal, a text-direction mark reorders what a person reads, and U+2028,
//! U+2029 or NEL split a JSON record for consumers that break lines as Python's `splitlines()`
//! does. The input stage refuses such characters ([`is_unsafe_char`]); everything printed is
//! escaped with [`escape_unsafe`] or [`json_line`], so a value that came another way is shown,
//! not obeyed.

use std::borrow::Cow;

use serde::Serialize;

/// C0 and C1 controls (NUL, tab, CR, LF, ESC, DEL, NEL …), the Unicode line and paragraph
/// separators, and the invisible marks that change the direction text is shown in.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `s` with every [`is_unsafe_char`] written as a `\u{…}` escape, for text a person reads
/// (the text format, field paths). Borrowed when there is nothing to escape.
pub fn escape_unsafe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` without any [`is_unsafe_char`], for text that goes to someone who cannot be shown an
/// escape, such as a display name in the notification email.
pub fn strip_unsafe(s: &str) -> Cow<'_, str> {
    if s.chars().any(is_unsafe_char) {
        Cow::Owned(s.chars().filter(|c| !is_unsafe_char(*c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// One JSON record as a single line that every line splitter keeps whole. serde_json escapes
/// only the C0 controls; DEL, the C1 controls (NEL among them), U+2028, U+2029 and the
/// direction marks are valid JSON but split lines or reorder text, so they become `\uXXXX`
/// escapes too. Outside strings JSON holds only ASCII, so escaping the whole line is exact:
/// a parser reads back the same value.
pub fn json_line(value: &impl Serialize) -> String {
    let line = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
    if !line.chars().any(is_unsafe_char) {
        return line;
    }
    let mut out = String::with_capacity(line.len() + 12);
    for c in line.chars() {
        if is_unsafe_char(c) {
            // Every unsafe character lies in the Basic Multilingual Plane: one escape each.
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// At most `max` bytes of `text`, cut at a character boundary and marked as cut, for text
/// from elsewhere (a Graph or sign-in error message) that a record repeats.
pub fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [cut: {} bytes in all]", &text[..end], text.len())
}

/// `text` padded or shortened to exactly `width` characters, a shortened one ending in `…`,
/// so a column of a table keeps its place whatever the value's length.
pub fn column(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return format!("{text}{}", " ".repeat(width - count));
    }
    let kept: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// `text` shortened to at most `width` characters by dropping its start, a shortened one
/// beginning with `…`: for a last column whose end says the most (a setting's name).
pub fn tail(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_owned();
    }
    let kept: String = text.chars().skip(count + 1 - width).collect();
    format!("…{kept}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const HOSTILE: &str = "a\r\nStatus: Completed\u{1b}]0;x\u{7}\u{1b}[2J\u{85}b\u{2028}c\u{2029}d\u{202e}e\u{2066}f\u{9b}g";

    #[test]
    fn columns_keep_their_width() {
        assert_eq!(column("ab", 4), "ab  ");
        assert_eq!(column("abcd", 4), "abcd");
        assert_eq!(column("abcdé✓", 4), "abc…");
        assert_eq!(tail("abcdé✓", 4), "…dé✓");
        assert_eq!(tail("ab", 4), "ab");
    }

    #[test]
    fn text_escapes_leave_one_line_without_controls() {
        let escaped = escape_unsafe(HOSTILE);
        assert!(!escaped.chars().any(is_unsafe_char), "{escaped}");
        assert_eq!(escaped.lines().count(), 1);
        assert!(escaped.contains(r"\u{d}\u{a}Status: Completed\u{1b}]0;x"));
        assert!(matches!(escape_unsafe("plain é ✓"), Cow::Borrowed(_)));
        assert_eq!(strip_unsafe("Ad\u{202e}ele\u{200f}"), "Adele");
    }

    #[test]
    fn json_lines_survive_every_line_splitter_and_read_back_the_same() {
        let value = json!({ "message": HOSTILE, "ok": "Grüße ✓" });
        let line = json_line(&value);
        // Python's str.splitlines() breaks at these besides \n and \r.
        for splitter in [
            '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}',
        ] {
            assert!(!line.contains(splitter), "{splitter:?} in {line}");
        }
        assert!(!line.chars().any(is_unsafe_char), "{line}");
        assert!(line.contains("Grüße ✓"));
        assert_eq!(serde_json::from_str::<Value>(&line).unwrap(), value);
    }
}
