//! With a proxy set for the whole machine, the managed-identity request (with its identity
//! header), the bearer token and the 201 with the pass went through it in cleartext. Loopback
//! targets must be reached directly; public hosts still go through the proxy.

use serde_json::json;

use super::job;
use super::servers::RecordingProxy;
use crate::common::sim::{ADELE, invocation, tenant};
use crate::common::{Test, fixture};

fn proxy_env(proxy: &RecordingProxy) -> Vec<(&'static str, String)> {
    [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .into_iter()
    .map(|name| (name, proxy.url().to_owned()))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_identity_endpoints_and_graph_are_never_proxied() {
    let proxy = RecordingProxy::start().await;
    let env = proxy_env(&proxy);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    // The Automation endpoint and Graph on 127.0.0.1, as a hybrid worker sees them.
    let sim = tenant(|_| {}).await;
    let run = job(
        &sim,
        invocation(ADELE, json!({})),
        &["--format", "ndjson"],
        &env,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);

    // The same endpoints named `localhost`, as Arc's `localhost:40342` is.
    let sim = tenant(|_| {}).await;
    let mut named = Test::new()
        .args(["run", "--format", "ndjson", "--invocation", "-"])
        .stdin(invocation(ADELE, json!({})));
    for (k, v) in sim.client_env() {
        if k.starts_with("IDENTITY_") || k == "TAP_RUNBOOK_GRAPH_URL" {
            named = named.env(&k, v.replace("127.0.0.1", "localhost"));
        }
    }
    for (k, v) in &env {
        named = named.env(k, v);
    }
    let run = tokio::task::spawn_blocking(move || named.run())
        .await
        .unwrap();
    assert_eq!(run.code, 0, "{}", run.stdout);

    // `--simulate`, whose tenant is served in-process on loopback.
    let mut simulated = Test::new()
        .args(["run", "--format", "ndjson", "--simulate"])
        .arg(fixture("tenant.json").to_str().unwrap())
        .args([
            "--invocation",
            fixture("invocation/flat.json").to_str().unwrap(),
        ]);
    for (k, v) in &env {
        simulated = simulated.env(k, v);
    }
    let run = tokio::task::spawn_blocking(move || simulated.run())
        .await
        .unwrap();
    assert_eq!(run.code, 0, "{}", run.stdout);

    assert_eq!(
        proxy.heads(),
        Vec::<String>::new(),
        "the proxy saw loopback traffic"
    );
}

/// A public Graph host still goes through the proxy, as a CONNECT, while the token comes
/// from the loopback endpoint directly. The name is never resolved here: the proxy would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_hosts_still_go_through_the_proxy() {
    let proxy = RecordingProxy::start().await;
    let sim = tenant(|_| {}).await;
    let run = job(
        &sim,
        invocation(ADELE, json!({})),
        &[
            "--format",
            "ndjson",
            "--deadline",
            "2",
            "--graph-url",
            "https://graph.tap-runbook.test",
        ],
        &[("HTTPS_PROXY", proxy.url())],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    let heads = proxy.heads();
    assert!(!heads.is_empty());
    for head in &heads {
        assert!(
            head.starts_with("CONNECT graph.tap-runbook.test:443 "),
            "{head}"
        );
    }
    assert!(
        sim.requests()
            .iter()
            .any(|r| r.path.ends_with("/msi/token")),
        "the token came from the loopback endpoint directly"
    );
}

/// `SSL_CERT_FILE` replaces the system's roots on Linux; that is no longer silent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_trust_store_is_reported() {
    let server = crate::notify::https_server::TestServer::https(|_| {
        crate::notify::https_server::Reply::Status(404)
    })
    .await;
    let bundle = server.settings.ca_file.clone().unwrap();
    let sim = tenant(|_| {}).await;
    let run = job(
        &sim,
        invocation(ADELE, json!({})),
        &["--format", "ndjson"],
        &[("SSL_CERT_FILE", bundle.to_str().unwrap())],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stream("Verbose").iter().any(|v| v.starts_with(
            "SSL_CERT_FILE is set: on Linux its certificates replace the system's trusted roots"
        )),
        "{}",
        run.stdout
    );
}
