//! The Azure Arc-enabled server's identity: the credential against the simulated agent (a
//! temporary key folder), and the real binary refusing every realm outside the agent's fixed
//! folder, which each test makes its own with a private `/var/opt`.

use std::fs;
use std::path::{Path, PathBuf};

use graph_sim::{Simulator, TenantFile};
use serde_json::{Value, json};
use tap_runbook::auth::{ArcTokensFolder, Credential, CredentialKind};
use tap_runbook::job::ErrorCode;
use tap_runbook::net::{Cloud, Environment, HttpSettings, build_http_client};

use super::server::{MockServer, Reply};
use crate::common::{Run, Test, assert_absent, fixture};

const ARC_PATH: &str = "/metadata/identity/oauth2/token";
const AGENT_FOLDER: &str = "/var/opt/azcmagent/tokens";
/// What a file the job must not read holds; it must appear nowhere.
const STOLEN: &str = "content-of-a-file-the-job-must-not-send";

fn http() -> reqwest::Client {
    build_http_client(&HttpSettings::default()).unwrap()
}

/// The demo tenant with its managed identity behind a simulated Arc agent writing to `keys`.
/// The credential `env` chooses, with the agent's key files expected in `keys`.
fn arc_credential(env: &Environment, keys: &Path) -> Credential {
    Credential::from_environment_with(env, Cloud::Global, &http(), ArcTokensFolder::new(keys))
        .unwrap()
}

async fn arc_tenant(keys: &Path) -> Simulator {
    let mut doc: Value =
        serde_json::from_str(&fs::read_to_string(fixture("tenant.json")).unwrap()).unwrap();
    doc["app"]["arcKeyFolder"] = json!(keys);
    Simulator::start(
        TenantFile::from_json(&doc.to_string()).unwrap(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

fn arc_statuses(sim: &Simulator) -> Vec<Option<u16>> {
    sim.requests()
        .iter()
        .filter(|r| r.path == ARC_PATH)
        .map(|r| r.status)
        .collect()
}

#[tokio::test]
async fn the_credential_answers_the_simulated_agents_challenge() {
    let keys = tempfile::tempdir().unwrap();
    let sim = arc_tenant(keys.path()).await;
    let env: Environment = sim.managed_identity_env().into_iter().collect();
    assert!(env.has("IMDS_ENDPOINT") && !env.has("IDENTITY_HEADER"));
    let credential = arc_credential(&env, keys.path());
    assert_eq!(credential.kind(), &CredentialKind::AzureArcManagedIdentity);
    assert_eq!(
        credential.kind().to_string(),
        "managed identity (Azure Arc-enabled server, system-assigned)"
    );
    let token = credential.token(false).await.unwrap();
    assert!(!token.token.expose().is_empty());
    assert_eq!(arc_statuses(&sim), [Some(401), Some(200)]);
    let query = sim.requests()[0].query.clone().unwrap();
    assert!(query.contains("api-version=2020-06-01"), "{query}");
    assert!(
        query.contains("resource=https%3A%2F%2Fgraph.microsoft.com"),
        "{query}"
    );
    assert_eq!(
        fs::read_dir(keys.path()).unwrap().count(),
        0,
        "the agent's key was used up"
    );
    assert!(!format!("{credential:?} {token:?}").contains(token.token.expose()));
}

#[tokio::test]
async fn a_key_folder_other_than_the_agents_is_refused_and_nothing_is_sent() {
    let keys = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let sim = arc_tenant(keys.path()).await;
    let env: Environment = sim.managed_identity_env().into_iter().collect();
    let credential = arc_credential(&env, elsewhere.path());
    let error = credential.token(false).await.unwrap_err().to_job_error();
    assert_eq!(error.code, ErrorCode::AuthenticationFailed);
    assert!(
        error
            .message
            .contains("not directly inside the agent's tokens folder"),
        "{}",
        error.message
    );
    assert_eq!(arc_statuses(&sim), [Some(401)], "no second request");
    assert_eq!(fs::read_dir(keys.path()).unwrap().count(), 1);
    sim.shutdown().await.unwrap();
    assert_eq!(
        fs::read_dir(keys.path()).unwrap().count(),
        0,
        "an unanswered challenge's key goes with the simulator"
    );
}

#[tokio::test]
async fn a_key_the_agent_does_not_accept_fails_after_one_answer() {
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("stale.key");
    fs::write(&key, "stale-key-value").unwrap();
    let server = MockServer::start().await;
    server.route(
        "GET",
        ARC_PATH,
        vec![
            Reply::json(401, json!({"error": "unauthorized"})).header(
                "WWW-Authenticate",
                &format!("Basic realm={}", key.display()),
            ),
            Reply::json(
                401,
                json!({"error": "unauthorized", "error_description": "invalid key"}),
            ),
        ],
    );
    let env: Environment = [
        ("IDENTITY_ENDPOINT", format!("{}{ARC_PATH}", server.url())),
        ("IMDS_ENDPOINT", server.url()),
    ]
    .into_iter()
    .collect();
    let credential = arc_credential(&env, keys.path());
    let error = credential.token(false).await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("did not accept the agent's key"),
        "{message}"
    );
    assert!(!message.contains("stale-key-value") && !format!("{error:?}").contains("stale-key"));
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "a refused key is not retried");
    assert!(!requests[0].headers.contains_key("authorization"));
    assert_eq!(requests[0].headers["metadata"], "true");
    assert_eq!(
        requests[1].headers["authorization"],
        "Basic stale-key-value"
    );
}

#[tokio::test]
async fn the_simulated_agent_accepts_only_its_fresh_key() {
    let keys = tempfile::tempdir().unwrap();
    let sim = arc_tenant(keys.path()).await;
    let url = format!(
        "{}{ARC_PATH}?api-version=2020-06-01&resource=https://graph.microsoft.com",
        sim.base_url()
    );
    let get = |auth: Option<String>| {
        let mut request = http().get(&url).header("Metadata", "true");
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        request.send()
    };
    let challenge = get(None).await.unwrap();
    assert_eq!(challenge.status(), 401);
    let realm = challenge.headers()["www-authenticate"].to_str().unwrap();
    let file = PathBuf::from(realm.strip_prefix("Basic realm=").unwrap());
    assert_eq!(file.parent(), Some(keys.path()));
    let key = fs::read_to_string(&file).unwrap();
    assert_eq!(get(Some("Basic wrong".into())).await.unwrap().status(), 401);
    assert_eq!(
        get(Some(format!("Basic {key}"))).await.unwrap().status(),
        200
    );
    assert_eq!(
        get(Some(format!("Basic {key}"))).await.unwrap().status(),
        401,
        "a key answers one challenge"
    );
}

#[test]
fn user_assigned_and_remote_arc_endpoints_are_configuration_errors() {
    for (extra, mention) in [
        (
            vec![
                (
                    "IDENTITY_ENDPOINT",
                    "http://127.0.0.1:40342/metadata/identity/oauth2/token",
                ),
                ("AZURE_CLIENT_ID", "uami-1"),
            ],
            "system-assigned only",
        ),
        (
            vec![("IDENTITY_ENDPOINT", "http://agent.example.com:40342/token")],
            "the host agent.example.com, not this machine",
        ),
        (vec![], "IDENTITY_ENDPOINT is not"),
    ] {
        let mut pairs = vec![("IMDS_ENDPOINT", "http://127.0.0.1:40342")];
        pairs.extend(extra);
        let env: Environment = pairs.into_iter().collect();
        let error = Credential::from_environment(&env, Cloud::Global, &http()).unwrap_err();
        assert!(error.to_string().contains(mention), "{error}");
    }
    // The header decides: an Automation job on an Arc-enabled worker uses Automation's identity.
    assert!(matches!(
        kind_for(&[
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token"),
            ("IDENTITY_HEADER", "h"),
            ("IMDS_ENDPOINT", AGENT),
        ]),
        CredentialKind::AutomationManagedIdentity { .. }
    ));
    // The agent's pair is machine-wide: an app registration the job names is meant instead.
    let app = [
        ("AZURE_CLIENT_SECRET", "client-secret"),
        ("AZURE_CLIENT_ID", "app-1"),
        ("AZURE_TENANT_ID", "tenant-1"),
    ];
    for agent_variables in [
        &[("IDENTITY_ENDPOINT", AGENT_TOKEN), ("IMDS_ENDPOINT", AGENT)][..],
        &[("IMDS_ENDPOINT", AGENT)],
    ] {
        let env: Vec<_> = app.iter().chain(agent_variables).copied().collect();
        assert!(matches!(
            kind_for(&env),
            CredentialKind::ClientSecret { .. }
        ));
    }
    assert!(matches!(
        kind_for(&[
            ("MSI_ENDPOINT", "http://127.0.0.1:2/msi"),
            ("MSI_SECRET", "s"),
            ("IDENTITY_ENDPOINT", AGENT_TOKEN),
            ("IMDS_ENDPOINT", AGENT),
        ]),
        CredentialKind::HybridWorkerManagedIdentity { .. }
    ));
}

/// The Arc agent's endpoints, as it sets them for every process on the machine.
const AGENT: &str = "http://127.0.0.1:40342";
const AGENT_TOKEN: &str = "http://127.0.0.1:40342/metadata/identity/oauth2/token";

/// The credential the job would choose with only `vars` set.
fn kind_for(vars: &[(&str, &str)]) -> CredentialKind {
    let env: Environment = vars.iter().copied().collect();
    Credential::from_environment(&env, Cloud::Global, &http())
        .unwrap()
        .kind()
        .clone()
}

/// A private `/var/opt` for the binary: `azcmagent/tokens` inside it unless `agent` is false.
struct VarOpt {
    dir: tempfile::TempDir,
}

impl VarOpt {
    fn new(agent: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        if agent {
            fs::create_dir_all(dir.path().join("azcmagent/tokens")).unwrap();
        }
        Self { dir }
    }

    /// A file in the agent's folder as the host sees it.
    fn tokens(&self, name: &str) -> PathBuf {
        self.dir.path().join("azcmagent/tokens").join(name)
    }
}

/// Runs the job with the Arc variables pointing at `server`, in `var_opt`.
async fn run_job(server: &MockServer, var_opt: Option<&VarOpt>) -> Run {
    let mut test = Test::new()
        .args(["run", "--format", "ndjson", "--invocation", "-"])
        .args(["--graph-url", &server.url()])
        .env("IDENTITY_ENDPOINT", format!("{}{ARC_PATH}", server.url()))
        .env("IMDS_ENDPOINT", server.url())
        .stdin(
            json!({ "UserName": "adele.vance@contoso.com", "CallerName": "admin@contoso.com" })
                .to_string(),
        );
    if let Some(var_opt) = var_opt {
        test = test.var_opt(var_opt.dir.path());
    }
    tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap()
}

/// The binary, challenged with `realm`, fails with AuthenticationFailed naming `why`, having
/// sent one request and no key, and printed nothing of the file it was pointed at.
async fn assert_refused(realm: &str, var_opt: Option<&VarOpt>, why: &str) {
    let server = MockServer::start().await;
    server.route(
        "GET",
        ARC_PATH,
        vec![
            Reply::json(401, json!({"error": "unauthorized"}))
                .header("WWW-Authenticate", &format!("Basic realm={realm}")),
        ],
    );
    let run = run_job(&server, var_opt).await;
    assert_eq!(run.code, 1, "{realm}: {}", run.stdout);
    let result = run.result();
    assert_eq!(result["error"]["code"], "AuthenticationFailed", "{result}");
    let message = result["error"]["message"].as_str().unwrap();
    assert!(message.contains(why), "{realm}: {message}");
    assert!(message.contains("nothing was sent"), "{message}");
    assert!(message.contains("Azure Arc-enabled server"), "{message}");
    assert_absent(
        &run,
        STOLEN,
        "the content of a file outside the agent's folder",
    );
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        1,
        "{realm}: no second request, no Graph call"
    );
    assert!(!requests[0].headers.contains_key("authorization"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_realm_outside_the_agents_folder_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    let stolen = outside.path().join("stolen.key");
    fs::write(&stolen, STOLEN).unwrap();
    assert_refused(
        stolen.to_str().unwrap(),
        None,
        "was refused: it is not directly inside",
    )
    .await;
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_realms_are_refused_inside_a_real_agent_folder() {
    let outside = tempfile::tempdir().unwrap();
    let stolen = outside.path().join("stolen.key");
    fs::write(&stolen, STOLEN).unwrap();
    let var_opt = VarOpt::new(true);
    fs::write(var_opt.tokens("stolen.txt"), STOLEN).unwrap();
    fs::write(
        var_opt.tokens("big.key"),
        format!("{STOLEN}{}", "k".repeat(4096)),
    )
    .unwrap();
    std::os::unix::fs::symlink(&stolen, var_opt.tokens("link.key")).unwrap();
    let escape = format!("{AGENT_FOLDER}/../../../..{}", stolen.display());
    for (realm, why) in [
        (stolen.display().to_string(), "not directly inside"),
        (escape, "not directly inside"),
        (
            format!("{AGENT_FOLDER}/link.key"),
            "outside the agent's tokens folder",
        ),
        (format!("{AGENT_FOLDER}/stolen.txt"), "not a .key file"),
        (format!("{AGENT_FOLDER}/big.key"), "larger than 4096 bytes"),
    ] {
        assert_refused(&realm, Some(&var_opt), why).await;
    }
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_agents_folder_nothing_is_read() {
    let var_opt = VarOpt::new(false);
    assert_refused(
        &format!("{AGENT_FOLDER}/0a1b.key"),
        Some(&var_opt),
        "the agent's tokens folder /var/opt/azcmagent/tokens cannot be resolved",
    )
    .await;
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_gets_its_token_from_the_agents_folder() {
    let var_opt = VarOpt::new(true);
    let mut doc: Value =
        serde_json::from_str(&fs::read_to_string(fixture("tenant.json")).unwrap()).unwrap();
    doc["app"]["arcKeyFolder"] = json!(AGENT_FOLDER);
    let tenant = var_opt.dir.path().join("tenant.json");
    fs::write(&tenant, doc.to_string()).unwrap();
    let test = Test::new()
        .args([
            "run",
            "--format",
            "ndjson",
            "--invocation",
            "-",
            "--simulate",
        ])
        .arg(tenant.to_str().unwrap())
        .stdin(
            json!({ "UserName": "adele.vance@contoso.com", "CallerName": "admin@contoso.com" })
                .to_string(),
        )
        .var_opt(var_opt.dir.path());
    let run = tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.result()["status"], "Completed");
    assert!(
        run.stream("Verbose")
            .iter()
            .any(|l| l.contains("Azure Arc-enabled server")),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("Basic "));
    let left: Vec<_> = fs::read_dir(var_opt.tokens("")).unwrap().collect();
    assert!(left.is_empty(), "the key was used up: {left:?}");
}
