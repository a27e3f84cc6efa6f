//! Downloading the tenant's header and footer images for inline attachment.
//!
//! Any failure is the caller's warning, never the job's error: the email then goes out
//! without that image.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, Url};

use super::destination::{
    DestinationRefused, Destinations, VettingResolver, check_literal, resolve_vetted,
};
use super::image::ImageFormat;
use super::links::HttpsUrl;
use super::notice::Branding;
use crate::net::{HttpSettings, HttpSetupError, client_builder};

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

    /// The setting that configures this slot, for messages an administrator can act on.
    pub fn setting(self) -> &'static str {
        match self {
            ImageSlot::Header => "BrandingHeaderImageUrl",
            ImageSlot::Footer => "BrandingFooterImageUrl",
        }
    }
}

/// The client branding images are downloaded with: the job's TLS roots and proxies, no
/// redirects (a redirect could lead to an address the first host's check did not cover), and
/// a resolver that connects only to the [`Destinations`] allowed.
#[derive(Clone)]
pub struct ImageFetcher {
    client: Client,
    destinations: Destinations,
}

impl ImageFetcher {
    /// The job's fetcher: public destinations only.
    pub fn new(settings: &HttpSettings) -> Result<Self, HttpSetupError> {
        Self::with_destinations(settings, Destinations::Public)
    }

    /// A fetcher for `destinations` (see [`Destinations`] for why tests alone use another).
    pub fn with_destinations(
        settings: &HttpSettings,
        destinations: Destinations,
    ) -> Result<Self, HttpSetupError> {
        let resolver = VettingResolver::new(destinations, settings.proxies.proxy_hosts());
        let client = client_builder(settings)?
            .dns_resolver(Arc::new(resolver))
            .build()
            .map_err(|e| HttpSetupError::Build(e.to_string()))?;
        Ok(Self {
            client,
            destinations,
        })
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
    /// The host is not a public address, or does not resolve (checked before connecting).
    #[error("{0}")]
    Destination(DestinationRefused),
    /// Connection, TLS or transfer failure.
    #[error("download failed: {0}")]
    Download(String),
    /// The server answered, but not with success (a redirect is not followed).
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

/// Downloads one branding image over https from a public address: at most
/// [`MAX_IMAGE_BYTES`], recognised by its magic bytes, all within `timeout` ([`IMAGE_TIMEOUT`]
/// in production).
///
/// The URL is https by its type; the address rule is checked here, before any request: an
/// address literal at once, a name by resolving it (the fetcher's resolver checks it again
/// when it connects directly, and connects only to what it checked).
pub async fn fetch_image(
    fetcher: &ImageFetcher,
    url: &HttpsUrl,
    slot: ImageSlot,
    timeout: Duration,
) -> Result<InlineImage, BrandingError> {
    let url = url.url().clone();
    let bytes = tokio::time::timeout(timeout, async {
        check_literal(&url, fetcher.destinations).map_err(BrandingError::Destination)?;
        // A name with no local answer goes on: reached directly, the resolver fails it again;
        // through a proxy (in networks where only the proxy resolves outside names), the
        // proxy resolves it, and a name the host's own DNS does not know is no internal one.
        if let Some(name) = url.domain()
            && let Err(refused @ DestinationRefused::NotPublic(_)) =
                resolve_vetted(name, fetcher.destinations).await
        {
            return Err(BrandingError::Destination(refused));
        }
        download(&fetcher.client, url).await
    })
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

/// A configured image that is not attached.
#[derive(Debug)]
pub struct ImageFailure {
    /// Which image.
    pub slot: ImageSlot,
    /// Its configured URL.
    pub url: String,
    /// Why it is not attached.
    pub error: BrandingError,
}

impl ImageFailure {
    /// For the Warning stream. It does not say what went wrong: a warning that told a refused
    /// connection from an HTTP 404 or a TLS failure would report on whatever answers at the
    /// address the URL names.
    pub fn warning(&self) -> String {
        format!(
            "The {} image could not be used; the email goes out without it (the reason is logged at Verbose)",
            self.slot.stem()
        )
    }

    /// For the Verbose stream: the setting, its URL and the reason.
    pub fn detail(&self) -> String {
        format!(
            "{} {:?} was not attached: {}",
            self.slot.setting(),
            self.url,
            self.error
        )
    }
}

/// Fetches the configured header and footer images concurrently. Each failure is reported
/// back; the email is sent without that image.
pub async fn fetch_branding(
    fetcher: &ImageFetcher,
    branding: &Branding,
    timeout: Duration,
) -> (InlineImages, Vec<ImageFailure>) {
    let (header, footer) = tokio::join!(
        fetch_configured(
            fetcher,
            branding.header_image_url.as_ref(),
            ImageSlot::Header,
            timeout
        ),
        fetch_configured(
            fetcher,
            branding.footer_image_url.as_ref(),
            ImageSlot::Footer,
            timeout
        ),
    );
    let mut failures = Vec::new();
    let mut keep = |result: Option<Result<InlineImage, ImageFailure>>| match result? {
        Ok(image) => Some(image),
        Err(failure) => {
            failures.push(failure);
            None
        }
    };
    let images = InlineImages {
        header: keep(header),
        footer: keep(footer),
    };
    (images, failures)
}

/// `None` when the slot is not configured; otherwise the image or why not.
async fn fetch_configured(
    fetcher: &ImageFetcher,
    url: Option<&HttpsUrl>,
    slot: ImageSlot,
    timeout: Duration,
) -> Option<Result<InlineImage, ImageFailure>> {
    let url = url?;
    Some(
        fetch_image(fetcher, url, slot, timeout)
            .await
            .map_err(|error| ImageFailure {
                slot,
                url: url.written().to_owned(),
                error,
            }),
    )
}
