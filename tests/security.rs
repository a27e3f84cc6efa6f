//! Integration tests: security — each attack of the security review, staged on loopback
//! against the real binary: planted links at the files that hold the pass, proxies that must
//! not see loopback traffic, branding URLs an operator may not choose or that point inside
//! the host's network, forged text from Graph, floods and gzip bombs, redirects.

mod bodies;
mod branding;
mod escaping;
mod files;
mod inputs;
mod proxy;
mod secrets;
mod servers;

use graph_sim::Simulator;
use serde_json::Value;

use crate::common::{Run, Test};

/// Runs `run` against `sim` with only the simulator's managed identity and Graph URL, plus
/// `env`, the invocation on standard input and `args`.
async fn job(sim: &Simulator, invocation: String, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut test = Test::new()
        .args(["run", "--invocation", "-"])
        .args(args.iter().copied())
        .stdin(invocation);
    for (k, v) in crate::common::sim::host_env(sim) {
        test = test.env(&k, v);
    }
    for (k, v) in env {
        test = test.env(k, v);
    }
    tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap()
}

/// A customization document in a temporary file, for `--customization`.
fn customization_file(doc: &Value) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), doc.to_string()).unwrap();
    file
}
