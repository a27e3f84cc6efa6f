//! Temporary Access Pass methods: create, list, delete, the policy, usability and guests.

use super::*;

#[tokio::test]
async fn create_returns_the_value_once() {
    let t = Tenant::start("tenant.json").await;
    let response = t
        .post(
            &taps(ALEX),
            json!({ "lifetimeInMinutes": 120, "isUsableOnce": true }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: TapMethod = response.json().await.unwrap();
    assert_eq!(
        created.context.as_deref(),
        Some(
            "https://graph.microsoft.com/v1.0/$metadata#users('alex.wilber@contoso.com')/authentication/temporaryAccessPassMethods/$entity"
        )
    );
    assert_eq!(
        created.odata_type.as_deref(),
        Some("#microsoft.graph.temporaryAccessPassAuthenticationMethod")
    );
    let value = created.temporary_access_pass.clone().unwrap();
    assert_eq!(value.len(), 8);
    assert!(value.chars().any(|c| c.is_ascii_digit()));
    assert!(value.chars().any(|c| !c.is_ascii_alphanumeric()));
    assert_eq!(created.lifetime_in_minutes, 120);
    assert!(created.is_usable_once && created.is_usable);
    assert_eq!(created.method_usability_reason, "EnabledByPolicy");
    assert_eq!(created.start_date_time, created.created_date_time);

    let list: TapMethodList = t.get(&taps(ALEX)).await.json().await.unwrap();
    assert_eq!(
        list.context,
        "https://graph.microsoft.com/v1.0/$metadata#users('alex.wilber@contoso.com')/authentication/temporaryAccessPassMethods"
    );
    assert_eq!(list.value.len(), 1);
    assert_eq!(list.value[0].id, created.id);
    assert_eq!(list.value[0].temporary_access_pass, None);
    assert!(list.value[0].odata_type.is_none());

    let one: TapMethod = t
        .get(&format!("{}/{}", taps(ALEX), created.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one.temporary_access_pass, None);
    assert!(one.odata_type.is_some());

    // Only the inspection route shows the value again.
    let state = t.sim.state();
    let alex = state["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["userPrincipalName"] == ALEX)
        .unwrap();
    assert_eq!(
        alex["temporaryAccessPasses"][0]["temporaryAccessPass"],
        value
    );
    assert!(state["_note"].as_str().unwrap().contains("testing only"));
}

#[tokio::test]
async fn a_user_has_at_most_one_pass() {
    // Graph's behaviour by default: a create replaces the pass the user has.
    let t = Tenant::start("tenant.json").await;
    let list: TapMethodList = t.get(&taps(ADELE)).await.json().await.unwrap();
    assert_eq!(list.value.len(), 1, "the fixture gives Adele a pass");
    let (status, created) = t.create_pass(ADELE, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let list: TapMethodList = t.get(&taps(ADELE)).await.json().await.unwrap();
    assert_eq!(list.value.len(), 1);
    assert_eq!(list.value[0].id, created["id"].as_str().unwrap());

    // Refusing instead, when the tenant asks for it: catches a client that skips the delete.
    let mut tenant = fixture("tenant.json");
    tenant.existing_pass_on_create = ExistingPassRule::Reject;
    let t = Tenant::with(tenant).await;
    let list: TapMethodList = t.get(&taps(ADELE)).await.json().await.unwrap();
    let existing = &list.value[0].id;
    let (status, body) = graph_error(t.post(&taps(ADELE), json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.error.message.contains("only have one"),
        "{}",
        body.error.message
    );
    let delete = t
        .call(Method::DELETE, &format!("{}/{existing}", taps(ADELE)), None)
        .await;
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    let again = t
        .call(Method::DELETE, &format!("{}/{existing}", taps(ADELE)), None)
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let (status, _) = t.create_pass(ADELE, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn policy_bounds_and_defaults_apply_to_create() {
    let t = Tenant::start("tenant.json").await;
    let policy: TapPolicyConfiguration = t
        .get(&format!(
            "{V1}/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        policy.odata_type,
        "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration"
    );
    assert_eq!(policy.id, "TemporaryAccessPass");
    assert_eq!(policy.state, "enabled");
    assert_eq!(
        (
            policy.default_lifetime_in_minutes,
            policy.minimum_lifetime_in_minutes,
            policy.maximum_lifetime_in_minutes,
            policy.default_length,
            policy.is_usable_once
        ),
        (60, 60, 480, 8, false)
    );
    assert_eq!(policy.include_targets[0]["id"], "all_users");
    assert!(policy.exclude_targets.is_empty());

    for lifetime in [30, 481, -5] {
        let (status, body) = graph_error(
            t.post(&taps(ALEX), json!({ "lifetimeInMinutes": lifetime }))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.error.message.contains("between 60 and 480"),
            "{}",
            body.error.message
        );
    }
    let (status, body) = graph_error(
        t.post(&taps(ALEX), json!({ "lifetimeInMinutes": "sixty" }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.error.message.contains("Edm.Int32"));
    let (status, created) = t.create_pass(ALEX, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["lifetimeInMinutes"], 60);
    assert_eq!(created["isUsableOnce"], false);
}

#[tokio::test]
async fn a_disabled_policy_refuses_every_pass() {
    let t = Tenant::start("tenants/policy-disabled.json").await;
    let (status, body) = graph_error(t.post(&taps(ALEX), json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.error
            .message
            .contains("UserCredentialPolicy does not allow creating"),
        "{}",
        body.error.message
    );
}

#[tokio::test]
async fn a_one_time_policy_forces_one_time_passes() {
    let t = Tenant::start("tenants/one-time-forced.json").await;
    let (status, body) =
        graph_error(t.post(&taps(ALEX), json!({ "isUsableOnce": false })).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.error.message.contains("one-time"),
        "{}",
        body.error.message
    );
    let (status, created) = t.create_pass(ALEX, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["isUsableOnce"], true);
}

#[tokio::test]
async fn usability_follows_start_time_expiry_and_targeting() {
    let mut tenant = fixture("tenant.json");
    tenant.users[2].tap_excluded_by_policy = true; // Isabelle
    let t = Tenant::with(tenant).await;
    let format = &time::format_description::well_known::Rfc3339;
    let in_an_hour = (time::OffsetDateTime::now_utc() + time::Duration::hours(1))
        .format(format)
        .unwrap();
    let (status, created) = t
        .create_pass(ALEX, json!({ "startDateTime": in_an_hour }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["isUsable"], false);
    assert_eq!(created["methodUsabilityReason"], "NotYetValid");

    let ten_minutes_ago = (time::OffsetDateTime::now_utc() - time::Duration::minutes(10))
        .format(format)
        .unwrap();
    let (status, body) = graph_error(
        t.post(&taps(ADELE), json!({ "startDateTime": ten_minutes_ago }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.error.message.contains("past"));

    let adele: TapMethodList = t.get(&taps(ADELE)).await.json().await.unwrap();
    assert_eq!(adele.value[0].method_usability_reason, "Expired");
    assert!(!adele.value[0].is_usable);

    let (status, excluded) = t
        .create_pass("isabelle.dubois@contoso.com", json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(excluded["methodUsabilityReason"], "DisabledByPolicy");
    assert_eq!(excluded["isUsable"], false);
}

#[tokio::test]
async fn guests_can_be_read_but_get_no_pass() {
    let t = Tenant::start("tenant.json").await;
    let guest = GUEST.replace('#', "%23");
    let user: Value = t
        .get(&format!("{V1}/users/{guest}?$select=userType"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["userType"], "Guest");
    assert_eq!(t.get(&taps(&guest)).await.status(), StatusCode::OK);
    let (status, body) = graph_error(t.post(&taps(&guest), json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body.error.message,
        "Temporary Access Pass cannot be added to an external guest user."
    );
}
