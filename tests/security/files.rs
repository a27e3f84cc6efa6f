//! The files that hold the pass and the notification: private, atomic, and never written
//! through a link someone planted. Unix only: modes and symbolic links are what is checked.
#![cfg(unix)]

use serde_json::json;

use super::job;
use crate::common::sim::{invocation, tenant};

const ISABELLE: &str = "isabelle.dubois@contoso.com";

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The result file held the pass at `-rw-r--r--`, even when the admin had created it 0600.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_result_file_is_readable_by_the_job_account_only() {
    use std::os::unix::fs::PermissionsExt;
    let sim = tenant(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("result.json");
    std::fs::write(&path, "").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = job(
        &sim,
        invocation(ISABELLE, json!({})),
        &[
            "--format",
            "ndjson",
            "--result-file",
            path.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(mode(&path), 0o600);
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(file, run.result());
    assert!(file["result"]["temporaryAccessPass"].is_string());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}

/// A `1.json` link planted in the outbox received the sendMail body, and `1.html` the email.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_planted_in_the_outbox_are_replaced_not_followed() {
    let sim = tenant(|_| {}).await;
    let outbox = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    for name in ["1.json", "1.html"] {
        let victim = elsewhere.path().join(name);
        std::fs::write(&victim, "untouched").unwrap();
        std::os::unix::fs::symlink(&victim, outbox.path().join(name)).unwrap();
    }
    let run = job(
        &sim,
        invocation(
            ISABELLE,
            json!({ "NotifyUser": true, "EmailFrom": "it-service@contoso.com" }),
        ),
        &[
            "--format",
            "ndjson",
            "--outbox",
            outbox.path().to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    for name in ["1.json", "1.html"] {
        assert_eq!(
            std::fs::read_to_string(elsewhere.path().join(name)).unwrap(),
            "untouched",
            "{name} was written through the link"
        );
        // Links count as taken numbers: the notification goes to the next one.
        let written = outbox.path().join(name.replace('1', "2"));
        assert!(!std::fs::symlink_metadata(&written).unwrap().is_symlink());
        assert_eq!(mode(&written), 0o600);
    }
    let body: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outbox.path().join("2.json")).unwrap())
            .unwrap();
    assert_eq!(
        body["message"]["toRecipients"][0]["emailAddress"]["address"],
        ISABELLE
    );
}
