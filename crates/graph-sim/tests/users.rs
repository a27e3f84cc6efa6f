//! Users: found by id, UPN and key form; `$select`; replication lag for a new user.

use super::*;

#[tokio::test]
async fn users_are_found_by_id_upn_and_key_form() {
    let t = Tenant::start("tenant.json").await;
    let id_of = |v: Value| v["id"].as_str().unwrap().to_owned();
    for path in [
        format!("{V1}/users/{ADELE_ID}"),
        format!("{V1}/users/ADELE.Vance@Contoso.com"),
        format!("/beta/users/{ADELE}"),
        format!("{V1}/users('{ADELE}')"),
    ] {
        let response = t.get(&path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(id_of(response.json().await.unwrap()), ADELE_ID, "{path}");
    }
    let obrien = t
        .get(&format!("{V1}/users('patrick.o''brien@contoso.com')"))
        .await;
    assert_eq!(obrien.status(), StatusCode::OK);
    let body: Value = obrien.json().await.unwrap();
    assert_eq!(body["displayName"], "Patrick O'Brien");

    let dollar = t
        .get(&format!("{V1}/users('$helpdesk.bot@contoso.com')"))
        .await;
    assert_eq!(dollar.status(), StatusCode::OK);

    let guest = t
        .get(&format!("{V1}/users/{}", GUEST.replace('#', "%23")))
        .await;
    assert_eq!(guest.status(), StatusCode::OK);
    let body: Value = guest.json().await.unwrap();
    assert_eq!(body["userPrincipalName"], GUEST);
}

#[tokio::test]
async fn select_returns_only_the_listed_properties() {
    let t = Tenant::start("tenant.json").await;
    let select = "id,userPrincipalName,mail,usageLocation,preferredLanguage,userType,displayName";
    let response = t.get(&format!("{V1}/users/{ADELE}?$select={select}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec!["@odata.context"];
    expected.extend(select.split(','));
    assert_eq!(keys, expected);
    assert_eq!(
        body["@odata.context"],
        format!("https://graph.microsoft.com/v1.0/$metadata#users({select})/$entity")
    );
    assert_eq!(body["userType"], "Member");
    assert_eq!(body["usageLocation"], "DE");

    // Without $select Graph's default set leaves out userType and usageLocation.
    let body: Value = t
        .get(&format!("{V1}/users/{ADELE}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#users/$entity"
    );
    assert!(body.get("userType").is_none() && body.get("usageLocation").is_none());
    assert_eq!(body["businessPhones"], json!([]));

    let no_mail: Value = t
        .get(&format!(
            "{V1}/users/kiosk.operator@contoso.onmicrosoft.com?%24select=mail,userPrincipalName"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(no_mail["mail"], Value::Null);

    let (status, body) = graph_error(
        t.get(&format!("{V1}/users/{ADELE}?$select=id,favouriteColour"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.error.message.contains("favouriteColour"));
}

#[tokio::test]
async fn unknown_user_is_a_404_envelope_with_request_ids() {
    let t = Tenant::start("tenant.json").await;
    let response = t
        .http
        .get(t.url(&format!("{V1}/users/nobody@contoso.com")))
        .bearer_auth(&t.token)
        .header("client-request-id", "my-correlation-1")
        .send()
        .await
        .unwrap();
    let request_id = response.headers()["request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(response.headers()["client-request-id"], "my-correlation-1");
    let (status, body) = graph_error(response).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body.error.code, "Request_ResourceNotFound");
    assert_eq!(
        body.error.message,
        "Resource 'nobody@contoso.com' does not exist or one of its queried reference-property objects are not present."
    );
    assert_eq!(body.error.inner_error.request_id, request_id);
    assert_eq!(body.error.inner_error.client_request_id, "my-correlation-1");
    assert_eq!(
        body.error.inner_error.date.len(),
        "2026-11-29T10:00:00".len()
    );

    let (status, _) = graph_error(t.get(&taps("nobody@contoso.com")).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Successes carry the ids too.
    let ok = t.get(&format!("{V1}/users/{ADELE}")).await;
    assert!(ok.headers().contains_key("request-id"));
}

#[tokio::test]
async fn replication_lag_hides_a_new_user_for_a_few_lookups() {
    let mut tenant = fixture("tenant.json");
    tenant.users[1].replication_lag_lookups = 2;
    let t = Tenant::with(tenant).await;
    let path = format!("{V1}/users/{ALEX}");
    assert_eq!(t.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(t.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(t.get(&path).await.status(), StatusCode::OK);
}
