//! Branding colours: `#RRGGBB`, the one rule the input stage checks, or the default.

use serde::Serialize;

/// A colour the layout may use in `style` and `bgcolor`: always `#RRGGBB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct Color([u8; 3]);

impl Color {
    /// Accent used when the tenant sets none: a calm, accessible blue.
    pub const DEFAULT_ACCENT: Color = Color([0x0F, 0x5C, 0xA8]);
    /// Body text used when the tenant sets none: near-black.
    pub const DEFAULT_TEXT: Color = Color([0x24, 0x29, 0x2F]);

    /// Parses exactly `#RRGGBB` (hex digits in either case).
    pub fn parse(value: &str) -> Option<Color> {
        let hex = value.strip_prefix('#')?;
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        Some(Color([channel(0)?, channel(2)?, channel(4)?]))
    }

    /// Black or white, whichever reads better on this colour (WCAG relative luminance),
    /// so a light accent colour does not leave white heading text unreadable.
    pub fn readable_text_on(self) -> Color {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = self.0;
        let luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
        // Contrast with white beats contrast with black below this luminance.
        if luminance < 0.179 {
            Color([0xFF, 0xFF, 0xFF])
        } else {
            Color([0x1B, 0x1B, 0x1B])
        }
    }
}

impl std::fmt::Display for Color {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [r, g, b] = self.0;
        write!(f, "#{r:02X}{g:02X}{b:02X}")
    }
}

impl From<Color> for String {
    fn from(color: Color) -> String {
        color.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rrggbb_is_accepted() {
        assert_eq!(Color::parse("#00a1f1").unwrap().to_string(), "#00A1F1");
        for bad in [
            "00A1F1",
            "#0af",
            "#00A1F1FF",
            "red",
            "#GGGGGG",
            "#12345é",
            "",
        ] {
            assert_eq!(Color::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn heading_text_contrasts_with_the_accent() {
        assert_eq!(
            Color::DEFAULT_ACCENT.readable_text_on().to_string(),
            "#FFFFFF"
        );
        assert_eq!(
            Color::parse("#FFD700")
                .unwrap()
                .readable_text_on()
                .to_string(),
            "#1B1B1B"
        );
    }
}
