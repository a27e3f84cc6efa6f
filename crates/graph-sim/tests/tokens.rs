//! The token endpoints: managed identity (App Service and Automation forms), client credentials, and the tokens Graph accepts.

use super::*;

#[tokio::test]
async fn managed_identity_checks_its_headers() {
    let t = Tenant::start("tenant.json").await;
    let (status, body) = t.managed_identity_token().await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["resource"], "https://graph.microsoft.com");
    let expires_on = body["expires_on"].as_str().unwrap();
    assert!(expires_on.parse::<i64>().unwrap() > time::OffsetDateTime::now_utc().unix_timestamp());

    let (status, _) = t.managed_identity_request(Some("wrong"), true).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = t.managed_identity_request(None, true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let header = t.env("IDENTITY_HEADER");
    let (status, _) = t.managed_identity_request(Some(&header), false).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the App Service protocol does not need Metadata: true"
    );

    // The legacy hybrid-worker protocol: `secret` header, api-version 2017-09-01.
    let legacy = t
        .http
        .get(t.env("IDENTITY_ENDPOINT"))
        .query(&[
            ("resource", "https://graph.microsoft.com"),
            ("api-version", "2017-09-01"),
        ])
        .header("secret", t.env("IDENTITY_HEADER"))
        .send()
        .await
        .unwrap();
    assert_eq!(legacy.status(), StatusCode::OK);
    let token: Value = legacy.json().await.unwrap();
    let users = t
        .http
        .get(t.url(&format!("{V1}/users/{ADELE}")))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), StatusCode::OK);
}

#[tokio::test]
async fn expires_on_can_take_each_format_automation_has_used() {
    for (format, check) in [
        (
            ExpiresOnFormat::EpochNumber,
            (|v: &Value| v.is_i64()) as fn(&Value) -> bool,
        ),
        (ExpiresOnFormat::DateTime, |v: &Value| {
            v.as_str()
                .is_some_and(|s| s.ends_with(" +00:00") && s.contains('/'))
        }),
    ] {
        let mut tenant = fixture("tenant.json");
        tenant.app.expires_on_format = format;
        let t = Tenant::with(tenant).await;
        let (_, body) = t.managed_identity_token().await;
        assert!(check(&body["expires_on"]), "{format:?}: {body}");
    }
}

#[tokio::test]
async fn client_credentials_check_id_secret_and_scope() {
    let t = Tenant::start("tenant.json").await;
    let token_url = t.url(&format!("/{}/oauth2/v2.0/token", t.env("AZURE_TENANT_ID")));
    let request = |secret: String, scope: &str| {
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
            t.env("AZURE_CLIENT_ID"),
            percent(&secret),
            percent(scope)
        );
        t.http
            .post(&token_url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
    };
    let ok = request(
        t.env("AZURE_CLIENT_SECRET"),
        "https://graph.microsoft.com/.default",
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 3000);
    let user = t
        .http
        .get(t.url(&format!("{V1}/users/{ADELE}")))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), StatusCode::OK);

    let bad = request("wrong".into(), "https://graph.microsoft.com/.default")
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"], json!([7000215]));
    for field in [
        "error_description",
        "trace_id",
        "correlation_id",
        "timestamp",
    ] {
        assert!(body[field].is_string(), "{field}: {body}");
    }
    assert!(!body.to_string().contains(&t.env("AZURE_CLIENT_SECRET")));

    let bad_scope = request(
        t.env("AZURE_CLIENT_SECRET"),
        "https://graph.microsoft.com/User.Read.All",
    )
    .await
    .unwrap();
    assert_eq!(bad_scope.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad_scope.json().await.unwrap();
    assert_eq!(body["error"], "invalid_scope");

    let other_tenant = t
        .http
        .post(t.url("/contoso.onmicrosoft.com/oauth2/v2.0/token"))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(other_tenant.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn graph_requires_an_issued_unexpired_token() {
    let t = Tenant::start("tenant.json").await;
    let url = t.url(&format!("{V1}/users/{ADELE}"));
    let (status, body) = graph_error(t.http.get(&url).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body.error.code, "InvalidAuthenticationToken");

    let forged = t.http.get(&url).bearer_auth("forged").send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(
        t.get(&format!("{V1}/users/{ADELE}")).await.status(),
        StatusCode::OK
    );
    t.sim.expire_tokens();
    let (status, body) = graph_error(t.get(&format!("{V1}/users/{ADELE}")).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body.error.message.contains("expired"),
        "{}",
        body.error.message
    );

    // A fresh token works again; the inspection route expires it too.
    let (_, fresh) = t.managed_identity_token().await;
    let fresh = fresh["access_token"].as_str().unwrap();
    let again = t.http.get(&url).bearer_auth(fresh).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let expire = t
        .http
        .post(t.url("/_sim/expire-tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(expire.status(), StatusCode::NO_CONTENT);
    let after = t.http.get(&url).bearer_auth(fresh).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}
