//! HTML that the layout inserts as it is: the catalogs' own fragments, and text we escaped.
//!
//! Askama escapes every value of the layout except a [`Markup`]. A `Markup` is made only
//! here: deserialised from an embedded catalog (our markup), by putting an escaped value into
//! such a fragment, or from plain text escaped with break points added. So text from Graph
//! or the configuration cannot reach the email unescaped.

use std::fmt;

use askama::filters::{Escaper, Html, HtmlSafe};
use serde::Deserialize;

/// An HTML fragment that is safe to insert unescaped.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub(crate) struct Markup(String);

impl Markup {
    /// `text`, escaped.
    pub fn escaped(text: &str) -> Markup {
        Markup(escape(text))
    }

    /// `text`, escaped, with a `<wbr>` after each `@ . / ? & = #` that has text after it
    /// (but not inside `://`), so an address or URL wraps at a separator instead of in the
    /// middle of a word. `<wbr>` adds no character: a copied address stays the same.
    pub fn breakable(text: &str) -> Markup {
        let mut html = String::with_capacity(text.len() + text.len() / 4);
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            html.push_str(&escape(c.encode_utf8(&mut [0; 4])));
            let next = chars.peek().copied();
            let in_scheme_separator = c == '/' && (next == Some('/') || html.ends_with("://"));
            if "@./?&=#".contains(c) && next.is_some() && !in_scheme_separator {
                html.push_str("<wbr>");
            }
        }
        Markup(html)
    }

    /// This fragment with each `{{name}}` replaced by `value`, escaped.
    pub fn with_value(&self, name: &str, value: &str) -> Markup {
        Markup(self.0.replace(&format!("{{{{{name}}}}}"), &escape(value)))
    }
}

impl fmt::Display for Markup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The layout inserts a `Markup` without escaping it again.
impl HtmlSafe for Markup {}

/// Text escaped the way the layout escapes every other value.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    // Writing to a String cannot fail.
    let _ = Html.write_escaped_str(&mut escaped, text);
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_break_after_separators_only() {
        assert_eq!(
            Markup::breakable("adele.vance@contoso.com").to_string(),
            "adele.<wbr>vance@<wbr>contoso.<wbr>com"
        );
        assert_eq!(
            Markup::breakable("https://help.contoso.com/tickets/new?category=access").to_string(),
            "https://help.<wbr>contoso.<wbr>com/<wbr>tickets/<wbr>new?<wbr>category=<wbr>access"
        );
        assert_eq!(Markup::breakable("a.").to_string(), "a.");
    }

    #[test]
    fn values_are_escaped_on_the_way_in() {
        assert_eq!(
            Markup::breakable("a\"><img src=x>@b.c").to_string(),
            "a&#34;&#62;&#60;img src=<wbr>x&#62;@<wbr>b.<wbr>c"
        );
        let greeting = Markup("Hello {{display_name}},".into());
        assert_eq!(
            greeting
                .with_value("display_name", "<b>O'Brien</b>")
                .to_string(),
            "Hello &#60;b&#62;O&#39;Brien&#60;/b&#62;,"
        );
    }
}
