//! Downloading the tenant's header and footer images for inline attachment.
//!
//! Any failure is the caller's warning, never the job's error: the email then goes out
//! without that image.

use std::fmt;
use std::time::Duration;

use reqwest::{Client, Url};

use super::image::ImageFormat;
use super::links::{LinkRefused, SafeHref};
use super::notice::Branding;

/// Larger branding images are refused; a logo never needs more, and a mailbox pays for
/// every byte of every notification.
pub const MAX_IMAGE_BYTES: usize = 200 * 1024;

/// How long one image download may take, connection to last byte.
pub const IMAGE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where an image goes in the layout; also names its content id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSlot {
    /// Above the heading.
    Header,
    /// In the footer, linked to the footer link when one is set.
    Footer,
}

impl ImageSlot {
    fn stem(self) -> &'static str {
        match self {
            ImageSlot::Header => "header",
            ImageSlot::Footer => "footer",
        }
    }

    /// The setting that configures this slot, for warnings an administrator can act on.
    pub fn setting(self) -> &'static str {
        match self {
            ImageSlot::Header => "BrandingHeaderImageUrl",
            ImageSlot::Footer => "BrandingFooterImageUrl",
        }
    }
}

/// A downloaded image, ready to attach inline and to reference as `cid:{content_id}`.
#[derive(Clone, PartialEq, Eq)]
pub struct InlineImage {
    /// The `contentId` of the attachment, referenced from the HTML.
    pub content_id: String,
    /// `image/png`, `image/jpeg` or `image/gif`, from the magic bytes.
    pub content_type: String,
    /// The image file.
    pub bytes: Vec<u8>,
    /// The attachment's file name (`header.png`).
    pub name: String,
}

impl fmt::Debug for InlineImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InlineImage")
            .field("content_id", &self.content_id)
            .field("content_type", &self.content_type)
            .field("bytes", &format_args!("{} bytes", self.bytes.len()))
            .field("name", &self.name)
            .finish()
    }
}

/// The images that made it: each slot is empty when unset or when the download failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InlineImages {
    /// Shown above the heading.
    pub header: Option<InlineImage>,
    /// Shown in the footer.
    pub footer: Option<InlineImage>,
}

impl InlineImages {
    /// The attachments for the sendMail body, header first.
    pub fn into_vec(self) -> Vec<InlineImage> {
        self.header.into_iter().chain(self.footer).collect()
    }
}

/// Why a branding image is not attached.
#[derive(Debug, thiserror::Error)]
pub enum BrandingError {
    /// The URL is not https (checked before any request is made) or not a URL at all.
    #[error("{0}")]
    Refused(LinkRefused),
    /// The client followed a redirect to a URL that is not https.
    #[error("redirected to a URL that is not https")]
    RedirectedToInsecure,
    /// Connection, TLS or transfer failure.
    #[error("download failed: {0}")]
    Download(String),
    /// The server answered, but not with success.
    #[error("the server answered HTTP {0}")]
    Status(u16),
    /// More than [`MAX_IMAGE_BYTES`], declared or actually sent.
    #[error("larger than {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The content is not PNG, JPEG or GIF, whatever the Content-Type said.
    #[error("not a PNG, JPEG or GIF image")]
    NotAnImage,
    /// No complete answer in time.
    #[error("no complete answer within {} s", .0.as_secs_f32())]
    Timeout(Duration),
}

/// Downloads one branding image over https: at most [`MAX_IMAGE_BYTES`], recognised by
/// its magic bytes, all within `timeout` ([`IMAGE_TIMEOUT`] in production).
///
/// The https rule is checked here, before any request, whatever the client allows; a
/// client that follows redirects is checked again on the final URL. Tests pass a client
/// that trusts a test CA; the rule stays on.
pub async fn fetch_image(
    client: &Client,
    url: &str,
    slot: ImageSlot,
    timeout: Duration,
) -> Result<InlineImage, BrandingError> {
    let href = SafeHref::https(url).map_err(BrandingError::Refused)?;
    let url =
        Url::parse(href.as_str()).map_err(|_| BrandingError::Refused(LinkRefused::NotAUrl))?;
    let bytes = tokio::time::timeout(timeout, download(client, url))
        .await
        .map_err(|_| BrandingError::Timeout(timeout))??;
    let format = ImageFormat::sniff(&bytes).ok_or(BrandingError::NotAnImage)?;
    Ok(InlineImage {
        content_id: format!("{}-image", slot.stem()),
        content_type: format.content_type().to_owned(),
        name: format!("{}.{}", slot.stem(), format.extension()),
        bytes,
    })
}

/// Reads the body chunk by chunk and stops as soon as it passes the limit, so a lying
/// or missing Content-Length cannot make us buffer more than the limit.
async fn download(client: &Client, url: Url) -> Result<Vec<u8>, BrandingError> {
    let mut response = client.get(url).send().await.map_err(download_failed)?;
    if response.url().scheme() != "https" {
        return Err(BrandingError::RedirectedToInsecure);
    }
    if !response.status().is_success() {
        return Err(BrandingError::Status(response.status().as_u16()));
    }
    let too_large = BrandingError::TooLarge {
        limit: MAX_IMAGE_BYTES,
    };
    if response
        .content_length()
        .is_some_and(|declared| declared > MAX_IMAGE_BYTES as u64)
    {
        return Err(too_large);
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(download_failed)? {
        if bytes.len() + chunk.len() > MAX_IMAGE_BYTES {
            return Err(too_large);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// reqwest's own message says only "error sending request"; the cause is in its sources.
fn download_failed(error: reqwest::Error) -> BrandingError {
    // The URL is already in the caller's warning.
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    BrandingError::Download(message)
}

/// Fetches the configured header and footer images concurrently. Each failure becomes a
/// warning naming the setting; the email is sent without that image.
pub async fn fetch_branding(
    client: &Client,
    branding: &Branding,
    timeout: Duration,
) -> (InlineImages, Vec<String>) {
    let (header, footer) = tokio::join!(
        fetch_configured(
            client,
            branding.header_image_url.as_deref(),
            ImageSlot::Header,
            timeout
        ),
        fetch_configured(
            client,
            branding.footer_image_url.as_deref(),
            ImageSlot::Footer,
            timeout
        ),
    );
    let mut warnings = Vec::new();
    let mut keep = |result: Option<Result<InlineImage, String>>| match result? {
        Ok(image) => Some(image),
        Err(warning) => {
            warnings.push(warning);
            None
        }
    };
    let images = InlineImages {
        header: keep(header),
        footer: keep(footer),
    };
    (images, warnings)
}

/// `None` when the slot is not configured; otherwise the image or the warning.
async fn fetch_configured(
    client: &Client,
    url: Option<&str>,
    slot: ImageSlot,
    timeout: Duration,
) -> Option<Result<InlineImage, String>> {
    let url = url.map(str::trim).filter(|url| !url.is_empty())?;
    Some(
        fetch_image(client, url, slot, timeout)
            .await
            .map_err(|e| format!("{} {url:?}: image not attached: {e}", slot.setting())),
    )
}
