//! The tenant file: strict parsing that names the bad field; listening on loopback only, over
//! HTTP or HTTPS with a CA of its own; the banner.

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

/// The exported variable names of `banner` after the line starting with `heading`, up to the
/// next comment line.
fn banner_names<'a>(banner: &'a str, heading: &str) -> Vec<&'a str> {
    let prefix = if cfg!(windows) { "$env:" } else { "export " };
    let separator = if cfg!(windows) { " = " } else { "=" };
    banner
        .lines()
        .skip_while(|l| !l.starts_with(heading))
        .skip(1)
        .take_while(|l| !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix(prefix)?.split_once(separator))
        .map(|(name, _)| name)
        .collect()
}

#[tokio::test]
async fn an_https_tenant_chains_to_its_ca_file_and_serves_the_client_secret_path() {
    let sim = Simulator::start_https(fixture("tenant.json"), loopback(), CaFile::Temporary)
        .await
        .unwrap();
    assert!(sim.base_url().starts_with("https://127.0.0.1:"));
    let ca_file = sim.ca_file().unwrap().to_owned();
    let pem = std::fs::read(&ca_file).unwrap();
    assert!(!String::from_utf8_lossy(&pem).contains("PRIVATE KEY"));
    let roots = reqwest::Certificate::from_pem_bundle(&pem).unwrap();
    let http = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_merge(roots)
        .build()
        .unwrap();
    let env: std::collections::HashMap<String, String> = sim.client_env().into_iter().collect();
    assert_eq!(env["AZURE_AUTHORITY_HOST"], sim.base_url());
    assert_eq!(env["TAP_RUNBOOK_CA_FILE"], ca_file.to_str().unwrap());
    // What azure_identity's client-secret credential sends.
    let form = format!(
        "client_id={}&client_secret={}&grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"]
    );
    let answer = http
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            env["AZURE_AUTHORITY_HOST"], env["AZURE_TENANT_ID"]
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let token: Value = answer.json().await.unwrap();
    let users = http
        .get(format!("{}{V1}/users/{ADELE}", sim.base_url()))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), StatusCode::OK);
    // The new pass's Location is a URL on this https host.
    let created = http
        .post(format!("{}{}", sim.base_url(), taps(ADELE)))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&json!({ "lifetimeInMinutes": 60 }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(&sim.base_url()), "{location}");
    // A client that does not trust the CA does not get through.
    let untrusting = reqwest::Client::builder().no_proxy().build().unwrap();
    let refused = untrusting.get(sim.base_url()).send().await.unwrap_err();
    assert!(refused.is_connect(), "{refused:?}");

    let text = banner(&sim);
    assert_eq!(
        banner_names(&text, "# Point tap-runbook at it"),
        ["TAP_RUNBOOK_GRAPH_URL", "TAP_RUNBOOK_CA_FILE"],
        "{text}"
    );
    assert_eq!(
        banner_names(&text, "# Either the managed identity"),
        ["IDENTITY_ENDPOINT", "IDENTITY_HEADER"],
        "{text}"
    );
    assert_eq!(
        banner_names(&text, "# Or, in a shell without the managed-identity lines"),
        [
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_ID",
            "AZURE_CLIENT_SECRET",
            "AZURE_AUTHORITY_HOST"
        ],
        "{text}"
    );
    assert_eq!(text.matches("TAP_RUNBOOK_GRAPH_URL").count(), 1, "{text}");
    sim.shutdown().await.unwrap();
    assert!(
        !ca_file.exists(),
        "a temporary CA file goes with the simulator"
    );
}

#[tokio::test]
async fn a_named_ca_file_is_written_and_kept() {
    let dir = std::env::temp_dir().join(format!("graph-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ca.pem");
    std::fs::write(&path, "stale").unwrap();
    let sim = Simulator::start_https(fixture("tenant.json"), loopback(), CaFile::At(path.clone()))
        .await
        .unwrap();
    assert_eq!(sim.ca_file(), Some(path.as_path()));
    sim.shutdown().await.unwrap();
    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    std::fs::remove_dir_all(&dir).unwrap();
}
