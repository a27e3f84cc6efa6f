//! Branding URLs were an SSRF under the operator's control: an invocation value made the job
//! connect to loopback services, even under `--what-if`, and the warnings told a refused
//! connection from an HTTP 404. Now the URLs are the tenant's, only public addresses are
//! downloaded from, nothing is downloaded in what-if, and the warning says nothing about why.

use serde_json::{Value, json};

use super::{customization_file, job};
use crate::common::sim::{invocation, tenant};
use crate::common::{Run, Test, fixture};
use crate::notify::fixtures::TINY_PNG;
use crate::notify::https_server::{Reply, TestServer};

const ISABELLE: &str = "isabelle.dubois@contoso.com";

fn notify(extra: Value) -> Value {
    let mut params = json!({ "NotifyUser": true, "EmailFrom": "it-service@contoso.com" });
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    params
}

async fn logo_server() -> TestServer {
    TestServer::https(|_| Reply::Body {
        content_type: "image/png",
        body: TINY_PNG.to_vec(),
        declare_length: true,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_cannot_choose_where_the_job_downloads_from() {
    let server = logo_server().await;
    let sim = tenant(|_| {}).await;
    let given = invocation(
        ISABELLE,
        notify(json!({ "BrandingHeaderImageUrl": server.url("/logo.png"),
                       "BrandingFooterImageUrl": "https://169.254.169.254/metadata" })),
    );
    let run = job(&sim, given.clone(), &["--format", "ndjson"], &[]).await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(
        run.problem_fields(),
        [
            "parameters.BrandingHeaderImageUrl",
            "parameters.BrandingFooterImageUrl"
        ]
    );
    assert_eq!(run.result()["error"]["code"], "InvalidInput");
    assert!(sim.requests().is_empty(), "no network on bad input");

    let validate = Test::new()
        .args(["validate", "--invocation", "-"])
        .stdin(given)
        .run();
    assert_eq!(validate.code, 2);
    assert_eq!(server.connections(), 0);
}

/// The tenant may open a branding URL with `AllowEdit`; the address rule still holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branding_inside_the_host_network_is_refused_with_a_generic_warning() {
    let server = logo_server().await;
    let sim = tenant(|_| {}).await;
    let ca = server.settings.ca_file.clone().unwrap();
    let open = customization_file(&json!({
        "Settings": { "RJReport": { "Branding": { "FooterImageUrl": format!("https://localhost:{}/footer.png", port(&server)) } } },
        "Runbooks": { "rjgit-user_security_create-temporary-access-pass": {
            "Parameters": { "BrandingHeaderImageUrl": { "AllowEdit": true } } } }
    }));
    let run = job(
        &sim,
        invocation(
            ISABELLE,
            notify(json!({ "BrandingHeaderImageUrl": server.url("/logo.png") })),
        ),
        &[
            "--format",
            "ndjson",
            "-v",
            "--customization",
            open.path().to_str().unwrap(),
        ],
        &[("TAP_RUNBOOK_CA_FILE", ca.to_str().unwrap())],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.stream("Warning"),
        [
            "The header image could not be used; the email goes out without it (the reason is logged at Verbose)",
            "The footer image could not be used; the email goes out without it (the reason is logged at Verbose)",
        ]
    );
    let verbose = run.stream("Verbose").join("\n");
    assert!(
        verbose.contains("BrandingHeaderImageUrl \"https://127.0.0.1:"),
        "{verbose}"
    );
    assert!(verbose.contains("not at a public address"), "{verbose}");
    assert_eq!(run.result()["result"]["notification"]["sent"], true);
    assert_eq!(server.connections(), 0, "a loopback service was reached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_if_downloads_nothing() {
    let server = logo_server().await;
    let sim = tenant(|_| {}).await;
    let configured = customization_file(&json!({
        "Settings": { "RJReport": { "Branding": { "HeaderImageUrl": server.url("/logo.png") } } }
    }));
    let run: Run = job(
        &sim,
        invocation(ISABELLE, notify(json!({}))),
        &[
            "--format",
            "ndjson",
            "--what-if",
            "--customization",
            configured.path().to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stream("Warning").is_empty(),
        "{:?}",
        run.stream("Warning")
    );
    assert!(
        run.stream("Verbose")
            .iter()
            .any(|v| v == "What if: branding images are not downloaded (--outbox-images downloads them for the preview)")
    );
    assert_eq!(server.connections(), 0);
}

/// `--outbox-images` makes a rehearsal download the images for the preview, by the same rules
/// as a live job: public addresses only, so this loopback server is still not reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_images_download_by_the_same_rules_as_a_live_job() {
    let server = logo_server().await;
    let sim = tenant(|_| {}).await;
    let configured = customization_file(&json!({
        "Settings": { "RJReport": { "Branding": { "HeaderImageUrl": server.url("/logo.png") } } }
    }));
    let outbox = tempfile::tempdir().unwrap();
    let run: Run = job(
        &sim,
        invocation(ISABELLE, notify(json!({}))),
        &[
            "--format",
            "ndjson",
            "-v",
            "--what-if",
            "--outbox",
            outbox.path().to_str().unwrap(),
            "--outbox-images",
            "--customization",
            configured.path().to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.stream("Warning"),
        [
            "The header image could not be used; the email goes out without it (the reason is logged at Verbose)"
        ]
    );
    let verbose = run.stream("Verbose").join("\n");
    assert!(verbose.contains("not at a public address"), "{verbose}");
    assert!(outbox.path().join("1.html").is_file());
    assert!(
        !outbox.path().join("1.preview.html").exists(),
        "no image, no preview"
    );
    assert_eq!(server.connections(), 0, "a loopback service was reached");

    // In-process `--simulate` likewise: the flag asks, the address rule answers.
    let simulated = Test::new()
        .args([
            "run",
            "--format",
            "ndjson",
            "--invocation",
            "-",
            "--outbox-images",
        ])
        .path_arg("--simulate", &fixture("tenant.json"))
        .path_arg("--outbox", outbox.path())
        .path_arg("--customization", configured.path())
        .stdin(invocation(ISABELLE, notify(json!({}))))
        .run();
    assert_eq!(simulated.code, 0, "{}", simulated.stdout);
    assert_eq!(simulated.stream("Warning"), run.stream("Warning"));
    assert_eq!(server.connections(), 0, "a loopback service was reached");

    let without_outbox = job(
        &sim,
        invocation(ISABELLE, notify(json!({}))),
        &["--format", "ndjson", "--what-if", "--outbox-images"],
        &[],
    )
    .await;
    assert_eq!(without_outbox.code, 2, "{}", without_outbox.stdout);
}

fn port(server: &TestServer) -> String {
    server.url("").rsplit(':').next().unwrap().to_owned()
}
