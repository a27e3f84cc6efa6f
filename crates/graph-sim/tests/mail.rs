//! sendMail: the outbox, and a sender that needs a mailbox.

use super::*;

#[tokio::test]
async fn send_mail_is_accepted_into_the_outbox() {
    let t = Tenant::start("tenant.json").await;
    let response = t
        .post(
            &format!("{V1}/users/{SENDER}/sendMail"),
            mail_to("someone@fabrikam.com"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let request_id = response.headers()["request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(response.bytes().await.unwrap().is_empty());

    let outbox = t.sim.outbox();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].sender, SENDER);
    assert_eq!(outbox[0].request_id, request_id);
    assert_eq!(
        outbox[0].body["message"]["toRecipients"][0]["emailAddress"]["address"],
        "someone@fabrikam.com"
    );
    let over_http: Value = t.inspect("/_sim/outbox").await;
    assert_eq!(over_http[0]["sender"], SENDER);

    let mut broken = mail_to(ADELE);
    broken["message"]["toRecipients"] = json!([]);
    let (status, body) = graph_error(
        t.post(&format!("{V1}/users/{SENDER}/sendMail"), broken)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body.error.code, "ErrorInvalidRecipients");
    let mut no_subject = mail_to(ADELE);
    no_subject["message"]
        .as_object_mut()
        .unwrap()
        .remove("subject");
    let (status, body) = graph_error(
        t.post(&format!("{V1}/users/{SENDER}/sendMail"), no_subject)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body.error.code, "ErrorInvalidRequest");
    assert_eq!(t.sim.outbox().len(), 1);
}

#[tokio::test]
async fn a_sender_needs_a_mailbox() {
    let t = Tenant::start("tenant.json").await;
    let (status, body) = graph_error(
        t.post("/v1.0/users/noreply@contoso.com/sendMail", mail_to(ADELE))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body.error.code, "MailboxNotEnabledForRESTAPI");
    assert_eq!(
        body.error.message,
        "The mailbox is either inactive, soft-deleted, or is hosted on-premise."
    );
    let (status, body) = graph_error(
        t.post("/v1.0/users/ghost@contoso.com/sendMail", mail_to(ADELE))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body.error.code, "ErrorInvalidUser");
    assert!(t.sim.outbox().is_empty());
}
