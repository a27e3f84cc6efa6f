//! Downloading branding images against loopback servers.

use std::time::{Duration, Instant};

use tap_runbook::net::HttpSettings;
use tap_runbook::notify::{
    Branding, BrandingError, DestinationRefused, Destinations, HttpsUrl, ImageFetcher, ImageSlot,
    InlineImage, LinkRefused, MAX_IMAGE_BYTES, fetch_branding, fetch_image, sendmail_body,
};

use super::fixtures::{TINY_PNG, full_notice, render_in};
use super::https_server::{Reply, TestServer};

const SHORT: Duration = Duration::from_secs(5);

fn png(body: Vec<u8>, declare_length: bool) -> Reply {
    Reply::Body {
        content_type: "image/png",
        body,
        declare_length,
    }
}

fn a_png_of(len: usize) -> Vec<u8> {
    let mut bytes = TINY_PNG.to_vec();
    bytes.resize(len, 0);
    bytes
}

fn link(url: &str) -> HttpsUrl {
    HttpsUrl::parse(url).expect("an https URL")
}

async fn fetch(
    fetcher: &ImageFetcher,
    url: &str,
    slot: ImageSlot,
    timeout: Duration,
) -> Result<InlineImage, BrandingError> {
    fetch_image(fetcher, &link(url), slot, timeout).await
}

async fn standard_server() -> TestServer {
    TestServer::https(|path| match path {
        "/logo.png" => png(TINY_PNG.to_vec(), true),
        "/exactly-the-limit.png" => png(a_png_of(MAX_IMAGE_BYTES), true),
        "/large-declared.png" => png(a_png_of(MAX_IMAGE_BYTES + 1), true),
        "/large-streamed.png" => png(a_png_of(3 * MAX_IMAGE_BYTES), false),
        "/error-page.png" => png(b"<!DOCTYPE html><h1>Sign in</h1>".to_vec(), true),
        "/slow.png" => Reply::Hang,
        _ => Reply::Status(404),
    })
    .await
}

#[tokio::test]
async fn a_png_over_https_is_attached_inline() {
    let server = standard_server().await;
    let image = fetch(
        &server.fetcher,
        &server.url("/logo.png"),
        ImageSlot::Header,
        SHORT,
    )
    .await
    .unwrap();
    assert_eq!(image.content_id, "header-image");
    assert_eq!(image.content_type, "image/png");
    assert_eq!(image.name, "header.png");
    assert_eq!(image.bytes, TINY_PNG);

    let images = tap_runbook::notify::InlineImages {
        header: Some(image),
        footer: None,
    };
    let email = render_in(tap_runbook::notify::Language::En, &full_notice(), &images);
    assert!(
        email
            .html
            .contains(r#"<img src="cid:header-image" width="2" height="1""#)
    );
    let body = sendmail_body("adele@contoso.com", &email, &images.into_vec());
    assert_eq!(
        body["message"]["attachments"][0]["contentId"],
        "header-image"
    );
    assert_eq!(body["message"]["attachments"][0]["isInline"], true);
}

#[tokio::test]
async fn an_image_of_exactly_the_limit_is_accepted() {
    let server = standard_server().await;
    let url = server.url("/exactly-the-limit.png");
    let image = fetch(&server.fetcher, &url, ImageSlot::Footer, SHORT)
        .await
        .unwrap();
    assert_eq!(image.bytes.len(), MAX_IMAGE_BYTES);
    assert_eq!(image.content_id, "footer-image");
}

#[tokio::test]
async fn plain_http_is_refused_without_a_request() {
    let server = TestServer::http(|_| png(TINY_PNG.to_vec(), true)).await;
    for url in [
        server.url("/logo.png"),
        "javascript:alert(1)".into(),
        "data:image/png;base64,iVBO".into(),
    ] {
        // No image URL can be made of it, so there is nothing to request.
        assert_eq!(HttpsUrl::parse(&url), Err(LinkRefused::NotHttps), "{url}");
    }
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let plain = TestServer::http(|_| png(TINY_PNG.to_vec(), true)).await;
    let target = plain.url("/logo.png");
    let server = TestServer::https(move |_| Reply::Redirect(target.clone())).await;
    let err = fetch(
        &server.fetcher,
        &server.url("/moved.png"),
        ImageSlot::Header,
        SHORT,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, BrandingError::Status(302)), "{err}");
    assert_eq!(plain.connections(), 0);
}

/// The job's own fetcher refuses this machine, whether the URL names it by address, by a
/// name that resolves to it, or in an IPv4-mapped or numeric disguise, before connecting.
#[tokio::test]
async fn the_jobs_fetcher_refuses_loopback_without_connecting() {
    let server = standard_server().await;
    let production = ImageFetcher::new(&server.settings).unwrap();
    let port = server.url("").rsplit(':').next().unwrap().to_owned();
    for url in [
        server.url("/logo.png"),
        format!("https://localhost:{port}/logo.png"),
        format!("https://[::1]:{port}/logo.png"),
        format!("https://[::ffff:127.0.0.1]:{port}/logo.png"),
        format!("https://2130706433:{port}/logo.png"),
        format!("https://0x7f.1:{port}/logo.png"),
        "https://169.254.169.254/metadata/instance".to_owned(),
        "https://10.0.0.1/logo.png".to_owned(),
        "https://100.64.0.1/logo.png".to_owned(),
        "https://[fd00::1]/logo.png".to_owned(),
        "https://0.0.0.0/logo.png".to_owned(),
    ] {
        let err = fetch(&production, &url, ImageSlot::Header, SHORT)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                BrandingError::Destination(DestinationRefused::NotPublic(_))
            ),
            "{url}: {err}"
        );
        assert!(!err.to_string().contains("127.0.0.1"), "{err}");
    }
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn failures_are_generic_warnings_with_the_detail_for_verbose() {
    let server = standard_server().await;
    let production = ImageFetcher::new(&server.settings).unwrap();
    let branding = Branding {
        header_image_url: Some(link(&server.url("/logo.png"))),
        ..Branding::default()
    };
    let (images, failures) = fetch_branding(&production, &branding, SHORT).await;
    assert!(images.header.is_none());
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0].warning(),
        "The header image could not be used; the email goes out without it (the reason is logged at Verbose)"
    );
    assert!(
        failures[0]
            .detail()
            .starts_with("BrandingHeaderImageUrl \"https://127.0.0.1:")
    );
    assert!(failures[0].detail().contains("not at a public address"));
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn too_large_is_refused_whether_declared_or_not() {
    let server = standard_server().await;
    for path in ["/large-declared.png", "/large-streamed.png"] {
        let err = fetch(&server.fetcher, &server.url(path), ImageSlot::Header, SHORT)
            .await
            .unwrap_err();
        assert!(
            matches!(err, BrandingError::TooLarge { limit } if limit == 200 * 1024),
            "{path}: {err}"
        );
    }
}

#[tokio::test]
async fn content_that_is_not_an_image_is_refused_whatever_its_type() {
    let server = standard_server().await;
    let err = fetch(
        &server.fetcher,
        &server.url("/error-page.png"),
        ImageSlot::Header,
        SHORT,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, BrandingError::NotAnImage), "{err}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = standard_server().await;
    let started = Instant::now();
    let timeout = Duration::from_millis(300);
    let err = fetch(
        &server.fetcher,
        &server.url("/slow.png"),
        ImageSlot::Header,
        timeout,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, BrandingError::Timeout(t) if t == timeout),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(err.to_string(), "no complete answer within 0.3 s");
}

#[tokio::test]
async fn not_found_is_reported_with_its_status() {
    let server = standard_server().await;
    let err = fetch(
        &server.fetcher,
        &server.url("/gone.png"),
        ImageSlot::Header,
        SHORT,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, BrandingError::Status(404)), "{err}");
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused() {
    let server = standard_server().await;
    let untrusting =
        ImageFetcher::with_destinations(&HttpSettings::default(), Destinations::PublicOrLoopback)
            .unwrap();
    let err = fetch(
        &untrusting,
        &server.url("/logo.png"),
        ImageSlot::Header,
        SHORT,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, BrandingError::Download(_)), "{err}");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
}

#[tokio::test]
async fn each_failed_image_is_reported_with_its_setting() {
    let server = standard_server().await;
    let branding = Branding {
        header_image_url: Some(link(&server.url("/logo.png"))),
        footer_image_url: Some(link(&server.url("/gone.png"))),
        ..Branding::default()
    };
    let (images, failures) = fetch_branding(&server.fetcher, &branding, SHORT).await;
    assert!(images.header.is_some());
    assert!(images.footer.is_none());
    assert_eq!(failures.len(), 1);
    let detail = failures[0].detail();
    assert!(
        detail.starts_with("BrandingFooterImageUrl \"https://127.0.0.1:"),
        "{detail}"
    );
    assert!(detail.ends_with("/gone.png\" was not attached: the server answered HTTP 404"));
    assert!(
        failures[0]
            .warning()
            .starts_with("The footer image could not be used")
    );

    let (images, failures) = fetch_branding(&server.fetcher, &Branding::default(), SHORT).await;
    assert_eq!(images, Default::default());
    assert!(failures.is_empty());
    assert_eq!(server.connections(), 2);
}
