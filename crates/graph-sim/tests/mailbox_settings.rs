//! `GET /users/{u}/mailboxSettings`: the mailbox's time zone, Exchange's refusals.

use super::*;

fn settings(user: &str) -> String {
    format!("{V1}/users/{user}/mailboxSettings?$select=timeZone")
}

#[tokio::test]
async fn the_time_zone_is_served_as_the_tenant_file_has_it() {
    let t = Tenant::start("tenant.json").await;
    let response = t.get(&settings(ADELE)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "@odata.context": format!(
                "https://graph.microsoft.com/v1.0/$metadata#users('{ADELE_ID}')/mailboxSettings(timeZone)"
            ),
            "timeZone": "W. Europe Standard Time"
        })
    );

    // An IANA name is served as written; a mailbox that never chose a zone has none.
    let mut tenant = fixture("tenant.json");
    tenant.users[0].mailbox_time_zone = Some("Europe/Berlin".into());
    let t = Tenant::with(tenant).await;
    let body: Value = t.get(&settings(ADELE_ID)).await.json().await.unwrap();
    assert_eq!(body["timeZone"], "Europe/Berlin");
    let body: Value = t
        .get(&settings("isabelle.dubois@contoso.com"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["timeZone"], Value::Null);

    // Without $select every property of the type is there.
    let all: Value = t
        .get(&format!("{V1}/users/{ADELE}/mailboxSettings"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_object().unwrap().len(), 10, "{all}");
    let (status, body) = graph_error(
        t.get(&format!(
            "{V1}/users/{ADELE}/mailboxSettings?$select=timezone,colour"
        ))
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.error.message.contains("'colour'"),
        "{}",
        body.error.message
    );
}

#[tokio::test]
async fn exchange_refuses_without_the_permission_or_the_mailbox() {
    let mut tenant = fixture("tenant.json");
    tenant.app.roles.retain(|r| r != "MailboxSettings.Read");
    let t = Tenant::with(tenant).await;
    let (status, body) = graph_error(t.get(&settings(ADELE)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body.error.code, "ErrorAccessDenied");

    let t = Tenant::start("tenant.json").await;
    let (status, body) = graph_error(
        t.get(&settings("kiosk.operator@contoso.onmicrosoft.com"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body.error.code, "MailboxNotEnabledForRESTAPI");
    let (status, body) = graph_error(t.get(&settings("nobody@contoso.com")).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body.error.code, "ErrorInvalidUser");
}
