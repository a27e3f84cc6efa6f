//! Where the simulated tenant once parted from Microsoft Graph, each answered as Graph answers:
//! a create over an existing pass, `$`-UPNs in the slash form, `$select` of unmodelled user
//! properties, the reference's own sendMail bodies, managed-identity requests without
//! `api-version`, `Location`, `WWW-Authenticate`, JSON-only creates and JWT-shaped tokens.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use graph_sim::{ExistingPassRule, PassRecord};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use super::{ADELE, ADELE_ID, SENDER, Tenant, V1, fixture, graph_error, taps};

#[tokio::test]
async fn a_create_over_a_valid_or_expired_pass_replaces_it() {
    let mut tenant = fixture("tenant.json");
    assert_eq!(tenant.existing_pass_on_create, ExistingPassRule::Replace);
    let expired = PassRecord {
        start_date_time: Some(OffsetDateTime::now_utc() - Duration::days(2)),
        lifetime_in_minutes: Some(60),
        ..Default::default()
    };
    let alex = tenant
        .users
        .iter_mut()
        .find(|u| u.user_principal_name == super::ALEX)
        .unwrap();
    alex.temporary_access_passes = vec![expired];
    let t = Tenant::with(tenant).await;

    for user in [ADELE, super::ALEX] {
        let before: Value = t.get(&taps(user)).await.json().await.unwrap();
        let old_id = before["value"][0]["id"].as_str().unwrap().to_owned();
        let (status, created) = t.create_pass(user, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{user}: {created}");
        let after: Value = t.get(&taps(user)).await.json().await.unwrap();
        let ids: Vec<&str> = after["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [created["id"].as_str().unwrap()], "{user}");
        assert_ne!(ids[0], old_id);
    }
}

#[test]
fn every_fixture_tenant_replaces_like_graph() {
    let dir = super::fixtures().join("tenants");
    let mut names = vec!["tenant.json".to_owned()];
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        names.push(format!("tenants/{name}"));
    }
    for name in names {
        assert_eq!(
            fixture(&name).existing_pass_on_create,
            ExistingPassRule::Replace,
            "{name}: only a test that needs `reject` sets it, in code"
        );
    }
}

#[tokio::test]
async fn a_dollar_upn_must_use_the_key_form() {
    let t = Tenant::start("tenant.json").await;
    for path in [
        format!("{V1}/users/$helpdesk.bot@contoso.com"),
        format!("{V1}/users/%24helpdesk.bot%40contoso.com"),
        "/beta/users/%24helpdesk.bot%40contoso.com/authentication/temporaryAccessPassMethods"
            .to_owned(),
    ] {
        let (status, body) = graph_error(t.get(&path).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(body.error.code, "BadRequest");
        assert!(
            body.error
                .message
                .contains("Since the segment 'users' refers to a collection"),
            "{}",
            body.error.message
        );
    }
    for path in [
        format!("{V1}/users('$helpdesk.bot@contoso.com')"),
        format!("{V1}/users(%27%24helpdesk.bot%40contoso.com%27)"),
    ] {
        assert_eq!(t.get(&path).await.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn select_of_unmodelled_user_properties_answers_null_or_empty() {
    let t = Tenant::start("tenant.json").await;
    let response = t
        .get(&format!(
            "{V1}/users/{ADELE}?$select=id,department,City,employeeId,otherMails,deviceEnrollmentLimit"
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], ADELE_ID);
    assert_eq!(body["department"], Value::Null);
    assert_eq!(
        body["city"],
        Value::Null,
        "names are matched without case, answered canonically"
    );
    assert_eq!(body["employeeId"], Value::Null);
    assert_eq!(body["otherMails"], json!([]));
    assert!(body["deviceEnrollmentLimit"].is_i64());

    let (status, body) = graph_error(
        t.get(&format!("{V1}/users/{ADELE}?$select=id,shoeSize"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body.error.message,
        "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'."
    );
}

/// The sendMail reference's JSON example, `saveToSentItems` as a string included.
fn reference_json_example() -> Value {
    json!({
        "message": {
            "subject": "Meet for lunch?",
            "body": { "contentType": "Text", "content": "The new cafeteria is open." },
            "toRecipients": [{ "emailAddress": { "address": "frannis@contoso.com" } }],
            "ccRecipients": [{ "emailAddress": { "address": "danas@contoso.com" } }]
        },
        "saveToSentItems": "false"
    })
}

#[tokio::test]
async fn send_mail_takes_the_references_own_examples() {
    let t = Tenant::start("tenant.json").await;
    let send = format!("{V1}/users/{SENDER}/sendMail");
    let response = t.post(&send, reference_json_example()).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);

    let mut odd = reference_json_example();
    odd["saveToSentItems"] = json!("sometimes");
    let (status, _) = graph_error(t.post(&send, odd).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let mime = "From: it-service@contoso.com\r\nTo: frannis@contoso.com\r\n\
                Subject: Meet for lunch?\r\nContent-Type: text/plain\r\n\r\nThe new cafeteria is open.\r\n";
    let mime_request = |body: String| {
        t.http
            .post(t.url(&send))
            .bearer_auth(&t.token)
            .header("Content-Type", "text/plain")
            .body(body)
            .send()
    };
    let response = mime_request(STANDARD.encode(mime)).await.unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let outbox = t.sim.outbox();
    assert_eq!(outbox.len(), 2);
    assert_eq!(outbox[1].body, Value::String(STANDARD.encode(mime)));

    let (status, body) = graph_error(mime_request("not base64!".into()).await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body.error.code, "ErrorMimeContentInvalidBase64String");
    let no_recipient = STANDARD.encode("Subject: hello\r\n\r\nbody\r\n");
    let (status, body) = graph_error(mime_request(no_recipient).await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body.error.code, "ErrorInvalidRecipients");
}

#[tokio::test]
async fn managed_identity_answers_without_api_version() {
    let t = Tenant::start("tenant.json").await;
    let request = |api_version: Option<&str>| {
        let mut query = vec![("resource", "https://graph.microsoft.com")];
        query.extend(api_version.map(|v| ("api-version", v)));
        t.http
            .get(t.env("IDENTITY_ENDPOINT"))
            .query(&query)
            .header("X-IDENTITY-HEADER", t.env("IDENTITY_HEADER"))
            .send()
    };
    let response = request(None).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["access_token"].is_string());
    assert_eq!(
        request(Some("1999-01-01")).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_created_pass_has_a_location() {
    let t = Tenant::start("tenant.json").await;
    let response = t.post(&taps(ADELE), json!({})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!(
            "{}/v1.0/users/{ADELE_ID}/authentication/temporaryAccessPassMethods/{}",
            t.sim.base_url(),
            created["id"].as_str().unwrap()
        )
    );
    assert_eq!(
        t.get(&location.replace(&t.sim.base_url(), ""))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_401_carries_a_bearer_challenge() {
    let t = Tenant::start("tenant.json").await;
    for token in [None, Some("forged"), Some("a.b.c")] {
        let mut request = t.http.get(t.url(&format!("{V1}/users/{ADELE}")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer realm=\"\""), "{challenge}");
        assert!(challenge.contains("client_id=\"00000003-0000-0000-c000-000000000000\""));
    }
}

#[tokio::test]
async fn a_create_must_be_json() {
    let t = Tenant::start("tenant.json").await;
    let raw = |content_type: Option<&str>| {
        let mut request = t
            .http
            .post(t.url(&taps(ADELE)))
            .bearer_auth(&t.token)
            .body("{}");
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        request.send()
    };
    let (status, body) = graph_error(raw(Some("text/plain")).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body.error.code, "RequestBodyRead");
    let (status, body) = graph_error(raw(None).await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.error.message.contains("Content-Type"),
        "{}",
        body.error.message
    );
    let response = raw(Some("application/json; charset=utf-8")).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_lifetime_refusal_names_the_policys_range() {
    let t = Tenant::start("tenant.json").await;
    let (status, body) = graph_error(
        t.post(&taps(ADELE), json!({ "lifetimeInMinutes": 5 }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body.error.message,
        "Invalid LifetimeInMinutes specified. The valid range between 60 and 480."
    );
}

#[tokio::test]
async fn tokens_are_jwt_shaped_and_only_issued_ones_work() {
    let t = Tenant::start("tenant.json").await;
    let parts: Vec<&str> = t.token.split('.').collect();
    assert_eq!(parts.len(), 3, "header.payload.signature");
    let decode = |part: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    assert_eq!(decode(parts[0])["typ"], "JWT");
    let claims = decode(parts[1]);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    assert!(claims["exp"].as_i64().unwrap() > now);
    assert!(claims["iat"].as_i64().unwrap() <= now && claims["nbf"].as_i64().unwrap() <= now);
    assert_eq!(claims["tid"], t.env("AZURE_TENANT_ID"));
    assert_eq!(claims["appid"], t.env("AZURE_CLIENT_ID"));
    assert_eq!(
        claims["iss"],
        format!("https://sts.windows.net/{}/", t.env("AZURE_TENANT_ID"))
    );
    assert!(
        claims["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("UserAuthenticationMethod.ReadWrite.All"))
    );

    // The same claims under another signature are not a token this tenant issued.
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        URL_SAFE_NO_PAD.encode("forged")
    );
    let response = t
        .http
        .get(t.url(&format!("{V1}/users/{ADELE}")))
        .bearer_auth(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
