//! The `/_sim` inspection routes and Graph errors for unsupported methods and paths.

use super::*;

#[tokio::test]
async fn inspection_routes_need_no_token_and_are_not_logged() {
    let t = Tenant::start("tenant.json").await;
    t.get(&format!("{V1}/users/{ADELE}?$select=id")).await;
    let state: Value = t.inspect("/_sim/state").await;
    assert_eq!(state["users"].as_array().unwrap().len(), 12);
    assert_eq!(state["policy"]["maximumLifetimeInMinutes"], 480);
    let requests: Value = t.inspect("/_sim/requests").await;
    let paths: Vec<&str> = requests
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/msi/token", "/v1.0/users/adele.vance@contoso.com"]);
    assert_eq!(requests[1]["query"], "$select=id");
    assert_eq!(requests[1]["status"], 200);
}

#[tokio::test]
async fn unsupported_methods_and_paths_get_graph_errors() {
    let t = Tenant::start("tenant.json").await;
    let (status, _) = graph_error(
        t.call(
            Method::PATCH,
            &format!("{V1}/users/{ADELE}"),
            Some(json!({})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, body) = graph_error(t.get(&format!("{V1}/groups")).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body.error.message,
        "Resource not found for the segment 'groups'."
    );
}
