//! Every call's path, method and body as Graph receives them; user input stays one segment.

use serde_json::json;
use tap_runbook::graph::{CreatePass, UserRef};

use super::fixture::{ACCESS_TOKEN, Fixture, PASS, USER_ID, created_pass_json, user_json};
use super::server::Reply;

const SELECT: &str =
    "$select=id,userPrincipalName,mail,usageLocation,preferredLanguage,userType,displayName";

#[tokio::test]
async fn user_lookup_encodes_the_name_and_selects_properties() {
    let f = Fixture::new().await;
    f.server
        .route("GET", "/v1.0/users", vec![Reply::json(200, user_json())]);
    for (name, path) in [
        ("a#b@contoso.com", "/v1.0/users/a%23b%40contoso.com"),
        ("o'neil@contoso.com", "/v1.0/users/o%27neil%40contoso.com"),
        (
            "$adm'in@contoso.com",
            "/v1.0/users('%24adm%27%27in%40contoso.com')",
        ),
        (USER_ID, "/v1.0/users/0c9d6a7e-1b2c-4d5e-8f90-a1b2c3d4e5f6"),
        ("x/../y?z#w", "/v1.0/users/x%2F..%2Fy%3Fz%23w"),
    ] {
        let user = f.client.get_user(&UserRef::new(name)).await.unwrap();
        assert_eq!(user.id, USER_ID);
        let seen = f.graph_requests().pop().unwrap();
        assert_eq!(seen.path, path);
        assert_eq!(seen.query.as_deref(), Some(SELECT));
        assert_eq!(
            seen.headers["authorization"],
            format!("Bearer {ACCESS_TOKEN}")
        );
    }
    let user = f
        .client
        .get_user(&UserRef::new("adele@contoso.com"))
        .await
        .unwrap();
    assert_eq!(user.preferred_language.as_deref(), Some("de-AT"));
    assert_eq!(user.user_type.as_deref(), Some("Member"));
    assert_eq!(f.token_requests(), 1, "the token is cached for the job");
}

#[tokio::test]
async fn pass_calls_address_the_user_by_id() {
    let f = Fixture::new().await;
    let passes = format!("/v1.0/users/{USER_ID}/authentication/temporaryAccessPassMethods");
    f.server.route(
        "GET",
        &passes,
        vec![Reply::json(
            200,
            json!({"value": [{"id": "old-1", "createdDateTime": "2026-11-28T10:00:00Z",
                   "startDateTime": "2026-11-28T10:00:00Z", "lifetimeInMinutes": 60,
                   "isUsableOnce": false, "isUsable": false, "methodUsabilityReason": "Expired",
                   "temporaryAccessPass": null}]}),
        )],
    );
    f.server.route("DELETE", &passes, vec![Reply::empty(204)]);
    f.server
        .route("POST", &passes, vec![Reply::json(201, created_pass_json())]);

    let listed = f.client.list_passes(USER_ID).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, "old-1");
    assert_eq!(
        listed[0].method_usability_reason.as_deref(),
        Some("Expired")
    );

    f.client.delete_pass(USER_ID, "old/1?").await.unwrap();
    let delete = f.server.requests_to("DELETE", &passes).pop().unwrap();
    assert_eq!(delete.path, format!("{passes}/old%2F1%3F"));

    let request = CreatePass {
        lifetime_in_minutes: 60,
        is_usable_once: true,
        start_date_time: None,
    };
    let created = f.client.create_pass(USER_ID, &request, None).await.unwrap();
    assert_eq!(created.temporary_access_pass.expose(), PASS);
    assert_eq!(created.lifetime_in_minutes, 60);
    assert_eq!(format!("{created:?}").matches(PASS).count(), 0);
    let post = f.server.requests_to("POST", &passes).pop().unwrap();
    let body: serde_json::Value = serde_json::from_str(&post.body).unwrap();
    assert_eq!(body, json!({"lifetimeInMinutes": 60, "isUsableOnce": true}));
    assert_eq!(post.headers["content-type"], "application/json");
    f.log_text();
}

#[tokio::test]
async fn policy_and_send_mail() {
    let f = Fixture::new().await;
    f.server.route(
        "GET",
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
        vec![Reply::json(
            200,
            json!({"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
                   "id": "TemporaryAccessPass", "state": "enabled", "defaultLifetimeInMinutes": 60,
                   "defaultLength": 8, "minimumLifetimeInMinutes": 60, "maximumLifetimeInMinutes": 480,
                   "isUsableOnce": false}),
        )],
    );
    f.server
        .route("POST", "/v1.0/users(", vec![Reply::empty(202)]);

    let policy = f.client.get_tap_policy().await.unwrap();
    assert!(policy.is_enabled());
    assert_eq!(policy.maximum_lifetime_in_minutes, Some(480));
    assert_eq!(policy.default_length, Some(8));

    let message = json!({"message": {"subject": "s"}, "saveToSentItems": true});
    f.client
        .send_mail("$help#desk@contoso.com", &message)
        .await
        .unwrap();
    let sent = f.server.requests_to("POST", "/v1.0/users").pop().unwrap();
    assert_eq!(
        sent.path,
        "/v1.0/users('%24help%23desk%40contoso.com')/sendMail"
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&sent.body).unwrap(),
        message
    );
}
