//! Running the binary against a simulated tenant started by the test: the tenant, the
//! invocation, and a run with only what a job host on Azure Automation would set.

use graph_sim::{Simulator, TenantFile};
use serde_json::{Value, json};

use super::{Run, Test, fixture};

/// Starts the demo tenant (`fixtures/tenant.json`), changed by `edit`.
pub async fn tenant(edit: impl FnOnce(&mut Value)) -> Simulator {
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("tenant.json")).unwrap()).unwrap();
    edit(&mut doc);
    let tenant = TenantFile::from_json(&doc.to_string()).unwrap();
    Simulator::start(tenant, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// A wrapper invocation (job id `job-42`) for `user`, with `extra` parameters.
pub fn invocation(user: &str, extra: Value) -> String {
    let mut params = json!({ "UserName": user, "CallerName": "admin@contoso.com" });
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({ "jobId": "job-42", "parameters": params }).to_string()
}

/// The demo tenant's user with a pass, her object id and that pass's id.
pub const ADELE: &str = "adele.vance@contoso.com";
pub const ADELE_ID: &str = "0a5e7f3c-1d2b-4c8e-9f6a-7b3c2d1e0f91";
pub const ADELE_PASS_ID: &str = "b7e4c1d2-6a3f-4e5b-8c9d-0f1a2b3c4d5e";

/// What a job host on Azure Automation would set for `sim`: its managed-identity endpoint and
/// the Graph URL.
pub fn host_env(sim: &Simulator) -> Vec<(String, String)> {
    let mut env = sim.managed_identity_env();
    env.extend(sim.graph_env());
    env
}

/// The passes the tenant holds for `upn`, values included.
pub fn passes_of(sim: &Simulator, upn: &str) -> Vec<Value> {
    let state = sim.state();
    let user = state["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["userPrincipalName"] == upn)
        .unwrap()
        .clone();
    user["temporaryAccessPasses"].as_array().unwrap().clone()
}

/// The Graph calls (method and path) the simulator served, token requests left out.
pub fn graph_calls(sim: &Simulator) -> Vec<String> {
    sim.requests()
        .iter()
        .filter(|r| r.path.starts_with("/v1.0"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// The Graph calls that change something.
pub fn writes(sim: &Simulator) -> Vec<String> {
    graph_calls(sim)
        .into_iter()
        .filter(|c| !c.starts_with("GET"))
        .collect()
}

/// Runs the binary against `sim` with only what a job host on Azure Automation would set.
pub async fn run(sim: &Simulator, invocation: String, args: &[&str]) -> Run {
    let mut test = Test::new()
        .args(["run", "--format", "ndjson", "--invocation", "-"])
        .args(args.iter().copied())
        .stdin(invocation);
    for (k, v) in host_env(sim) {
        test = test.env(&k, v);
    }
    tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap()
}

/// A what-if run that notifies Adele (from the demo tenant's sender, `extra` parameters added)
/// with its outbox in a new folder, which is returned with the run.
pub async fn what_if_notice(sim: &Simulator, extra: Value) -> (Run, tempfile::TempDir) {
    let outbox = tempfile::tempdir().unwrap();
    let outbox_arg = outbox.path().to_str().unwrap().to_owned();
    let mut params = json!({ "NotifyUser": true, "EmailFrom": "it-service@contoso.com" });
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let args = ["--what-if", "--outbox", outbox_arg.as_str()];
    (run(sim, invocation(ADELE, params), &args).await, outbox)
}
