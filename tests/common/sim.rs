//! Running the binary against a simulated tenant started by the test: the tenant, the
//! invocation, and a run with only what a job host on Azure Automation would set.

use serde_json::{Value, json};
use tap_runbook::simulate::{Simulator, TenantFile};

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

/// Runs the binary against `sim` with only what a job host on Azure Automation would set.
pub async fn run(sim: &Simulator, invocation: String, args: &[&str]) -> Run {
    let mut test = Test::new()
        .args(["run", "--format", "ndjson", "--invocation", "-"])
        .args(args.iter().copied())
        .stdin(invocation);
    for (k, v) in sim.client_env() {
        if k.starts_with("IDENTITY_") || k == "IMDS_ENDPOINT" || k == "TAP_RUNBOOK_GRAPH_URL" {
            test = test.env(&k, v);
        }
    }
    tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap()
}
