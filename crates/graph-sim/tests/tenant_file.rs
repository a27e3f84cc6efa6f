//! The tenant file: strict parsing that names the bad field; listening on loopback only; the banner.

use super::*;

#[test]
fn every_fixture_loads() {
    fixture("tenant.json");
    let dir = fixtures().join("tenants");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        TenantFile::load(&path).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn tenant_file_errors_name_the_bad_field() {
    let base = json!({
        "tenantId": "t", "app": { "clientId": "c", "clientSecret": "s", "roles": [] },
        "users": [{ "id": "u1", "userPrincipalName": "a@contoso.com" }]
    });
    let error_for = |patch: &dyn Fn(&mut Value)| {
        let mut doc = base.clone();
        patch(&mut doc);
        TenantFile::from_json(&doc.to_string())
            .unwrap_err()
            .to_string()
    };
    assert!(TenantFile::from_json(&base.to_string()).is_ok());
    let e = error_for(&|d| d["users"][0]["mailbox"] = json!("yes"));
    assert!(e.contains("users[0].mailbox"), "{e}");
    let e = error_for(&|d| d["users"][0]["mial"] = json!("x"));
    assert!(e.contains("mial"), "{e}");
    let e = error_for(&|d| d["policy"] = json!({ "defaultLength": 4 }));
    assert!(e.contains("policy.defaultLength"), "{e}");
    let e = error_for(&|d| d["users"][0]["userPrincipalName"] = json!("no-at-sign"));
    assert!(e.contains("users[0].userPrincipalName"), "{e}");
    let e =
        error_for(&|d| d["faults"] = json!([{ "path": "/v1.0/**", "status": 503, "reset": true }]));
    assert!(e.contains("faults[0].status"), "{e}");
    let e = error_for(&|d| d["faults"] = json!([{ "path": "/v1.0/**" }]));
    assert!(e.contains("does nothing"), "{e}");
}

#[tokio::test]
async fn refuses_to_listen_beyond_loopback() {
    let error = Simulator::start(fixture("tenant.json"), "0.0.0.0:0".parse().unwrap())
        .await
        .err()
        .unwrap();
    assert!(matches!(error, SimulatorError::NotLoopback { .. }));
    assert!(error.to_string().contains("loopback"));
}

#[tokio::test]
async fn banner_prints_the_environment_and_shutdown_closes_the_port() {
    let t = Tenant::start("tenant.json").await;
    let text = banner(&t.sim);
    // The lines for the shell the simulator runs in.
    let prefix = if cfg!(windows) { "$env:" } else { "export " };
    let separator = if cfg!(windows) { " = " } else { "=" };
    let exported: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .filter_map(|l| l.split_once(separator).map(|(name, _)| name))
        .collect();
    assert_eq!(
        exported,
        [
            "IDENTITY_ENDPOINT",
            "IDENTITY_HEADER",
            "TAP_RUNBOOK_GRAPH_URL"
        ],
        "the managed-identity set only: {text}"
    );
    assert_eq!(
        text.matches("/v1.0").count(),
        0,
        "the Graph URL is shown one way: {text}"
    );
    assert!(text.contains(&t.sim.base_url()));
    let url = t.url(&format!("{V1}/users/{ADELE}"));
    let Tenant { sim, http, .. } = t;
    sim.shutdown().await.unwrap();
    let fresh = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(fresh.get(url).send().await.unwrap_err().is_connect());
    drop(http);
}
