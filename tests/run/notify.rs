//! The notification: sent without the pass, a failure as a warning, the missing permission
//! explained, and what-if's outbox.

use serde_json::{Value, json};

use crate::common::assert_pass_only_where_allowed;
use crate::common::sim::{ADELE, graph_calls, invocation, run, tenant, what_if_notice, writes};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notification_is_sent_without_the_pass() {
    let sim = tenant(|_| {}).await;
    let outbox = tempfile::tempdir().unwrap();
    let outbox_arg = outbox.path().to_str().unwrap().to_owned();
    let run = run(
        &sim,
        invocation("isabelle.dubois@contoso.com", json!({ "NotifyUser": true, "EmailFrom": "it-service@contoso.com", "ServiceDeskEmail": "servicedesk@contoso.com" })),
        &["--outbox", &outbox_arg],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let result = run.result();
    let pass = result["result"]["temporaryAccessPass"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        result["result"]["notification"],
        json!({ "requested": true, "sent": true, "recipient": "isabelle.dubois@contoso.com", "language": "fr" })
    );
    let sent = sim.outbox();
    assert_eq!(sent.len(), 1);
    assert!(
        !sent[0].body.to_string().contains(&pass),
        "the email never carries the pass"
    );
    assert_eq!(
        sent[0].body["message"]["toRecipients"][0]["emailAddress"]["address"],
        "isabelle.dubois@contoso.com"
    );
    let html = std::fs::read_to_string(outbox.path().join("1.html")).unwrap();
    assert!(!html.contains(&pass));
    assert_pass_only_where_allowed(&run, &pass);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_notification_is_a_warning_and_keeps_the_pass() {
    let sim = tenant(|_| {}).await;
    let run = run(
        &sim,
        invocation(
            ADELE,
            json!({ "NotifyUser": true, "EmailFrom": "noreply@contoso.com" }),
        ),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let result = run.result();
    assert_eq!(result["status"], "Completed");
    assert!(result["result"]["temporaryAccessPass"].is_string());
    assert_eq!(result["result"]["notification"]["sent"], false);
    let warnings = result["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("Exchange Online mailbox")),
        "{warnings:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_mail_permission_is_explained_in_a_warning() {
    let sim = tenant(|t| {
        t["app"]["roles"] = json!([
            "User.Read.All",
            "UserAuthenticationMethod.ReadWrite.All",
            "Policy.Read.AuthenticationMethod"
        ]);
    })
    .await;
    let run = run(
        &sim,
        invocation(
            ADELE,
            json!({ "NotifyUser": true, "EmailFrom": "it-service@contoso.com" }),
        ),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let result = run.result();
    assert_eq!(result["result"]["notification"]["sent"], false);
    assert!(result["result"]["temporaryAccessPass"].is_string());
    let warnings = result["warnings"].to_string();
    assert!(warnings.contains("Mail.Send"), "{warnings}");
    let sends = graph_calls(&sim)
        .into_iter()
        .filter(|c| c.ends_with("/sendMail"))
        .count();
    assert_eq!(sends, 1, "sendMail is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_if_renders_the_notification_into_the_outbox_without_sending() {
    let sim = tenant(|_| {}).await;
    let (run, outbox) = what_if_notice(&sim, json!({ "LanguageOverride": "nl" })).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(sim.outbox().is_empty());
    assert!(writes(&sim).is_empty());
    let body: Value =
        serde_json::from_str(&std::fs::read_to_string(outbox.path().join("1.json")).unwrap())
            .unwrap();
    assert_eq!(
        body["message"]["toRecipients"][0]["emailAddress"]["address"],
        ADELE
    );
    assert_eq!(run.result()["result"]["notification"]["language"], "nl");
    assert!(outbox.path().join("1.html").exists());
}
