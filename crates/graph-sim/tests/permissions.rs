//! App roles, checked per route.

use super::*;

#[tokio::test]
async fn app_roles_are_checked_per_route() {
    let t = Tenant::start("tenants/no-policy-permission.json").await;
    let (status, body) = graph_error(
        t.get(&format!(
            "{V1}/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass"
        ))
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body.error.code, "Authorization_RequestDenied");
    assert_eq!(
        body.error.message,
        "Insufficient privileges to complete the operation."
    );

    let t = Tenant::start("tenants/no-mail-permission.json").await;
    let (status, body) = graph_error(
        t.post(&format!("{V1}/users/{SENDER}/sendMail"), mail_to(ADELE))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body.error.code, "ErrorAccessDenied");
    assert_eq!(
        body.error.message,
        "Access is denied. Check credentials and try again."
    );

    let mut read_only = fixture("tenant.json");
    read_only.app.roles = vec![
        "User.Read.All".into(),
        "UserAuthenticationMethod.Read.All".into(),
    ];
    let t = Tenant::with(read_only).await;
    assert_eq!(t.get(&taps(ADELE)).await.status(), StatusCode::OK);
    let (status, body) = graph_error(t.post(&taps(ADELE), json!({})).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body.error.code, "Authorization_RequestDenied");

    let mut directory_only = fixture("tenant.json");
    directory_only.app.roles = vec!["Directory.Read.All".into()];
    let t = Tenant::with(directory_only).await;
    assert_eq!(
        t.get(&format!("{V1}/users/{ADELE}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(t.get(&taps(ADELE)).await.status(), StatusCode::FORBIDDEN);
}
