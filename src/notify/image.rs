//! Image formats recognised by their first bytes, and their pixel size.
//!
//! The server's Content-Type is not trusted: a branding URL that serves an HTML error
//! page with `image/png` must not end up as an attachment.

/// The image formats every mail client shows inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// Portable Network Graphics.
    Png,
    /// JPEG (JFIF or Exif).
    Jpeg,
    /// GIF87a or GIF89a.
    Gif,
}

impl ImageFormat {
    /// Recognises the format from the magic bytes at the start of the file.
    pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageFormat::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(ImageFormat::Gif)
        } else {
            None
        }
    }

    /// The MIME type for the attachment.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Gif => "image/gif",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Gif => "gif",
        }
    }
}

/// Width and height in pixels, read from the image header.
///
/// Outlook for Windows ignores CSS `max-width` and shows images at their natural size,
/// so the layout needs real `width`/`height` attributes to scale a wide logo down.
pub(crate) fn pixel_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let le16 = |at: usize| {
        Some(u32::from(u16::from_le_bytes(
            bytes.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    let be32 = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    let size = match ImageFormat::sniff(bytes)? {
        // The IHDR chunk always comes first: width and height at offsets 16 and 20.
        ImageFormat::Png => (be32(16)?, be32(20)?),
        // The logical screen descriptor follows the 6-byte signature.
        ImageFormat::Gif => (le16(6)?, le16(8)?),
        ImageFormat::Jpeg => jpeg_size(bytes)?,
    };
    (size.0 > 0 && size.1 > 0).then_some(size)
}

/// Walks the JPEG segments to the first start-of-frame marker, which holds the size.
fn jpeg_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        let length = usize::from(u16::from_be_bytes([
            *bytes.get(at + 2)?,
            *bytes.get(at + 3)?,
        ]));
        // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let height = u16::from_be_bytes([*bytes.get(at + 5)?, *bytes.get(at + 6)?]);
            let width = u16::from_be_bytes([*bytes.get(at + 7)?, *bytes.get(at + 8)?]);
            return Some((u32::from(width), u32::from(height)));
        }
        at += 2 + length;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_magic_bytes() {
        assert_eq!(
            ImageFormat::sniff(b"\x89PNG\r\n\x1a\nrest"),
            Some(ImageFormat::Png)
        );
        assert_eq!(
            ImageFormat::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(ImageFormat::sniff(b"GIF89a.."), Some(ImageFormat::Gif));
        assert_eq!(ImageFormat::sniff(b"<!DOCTYPE html>"), None);
        assert_eq!(
            ImageFormat::sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            None
        );
        assert_eq!(ImageFormat::sniff(b""), None);
    }

    #[test]
    fn sizes_come_from_the_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 1, 44, 0, 0, 0, 60]);
        assert_eq!(pixel_size(&png), Some((300, 60)));

        let gif = b"GIF89a\x90\x01\x64\x00";
        assert_eq!(pixel_size(gif), Some((400, 100)));

        // SOI, an APP0 segment of length 4, then SOF0 with height 50 and width 200.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00,
            0x32, 0x00, 0xC8,
        ];
        assert_eq!(pixel_size(&jpeg), Some((200, 50)));

        assert_eq!(pixel_size(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(pixel_size(&[0xFF, 0xD8, 0xFF]), None);
    }
}
