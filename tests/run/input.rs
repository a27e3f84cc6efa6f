//! Input and endpoint checks before any work: the Graph URL rule, and `--simulate` running the
//! whole job in process.

use serde_json::json;

use crate::common::sim::{ADELE, invocation};
use crate::common::{Test, assert_pass_only_where_allowed, fixture};

#[test]
fn graph_url_must_be_https_or_loopback() {
    let run = Test::new()
        .args([
            "run",
            "--format",
            "ndjson",
            "--graph-url",
            "http://graph.example.com",
            "--invocation",
            "-",
        ])
        .stdin(invocation(ADELE, json!({})))
        .run();
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(run.problem_fields(), ["--graph-url"]);
}

#[test]
fn simulate_runs_the_whole_job_in_process() {
    let run = Test::new()
        .args(["run", "--format", "ndjson", "--simulate"])
        .arg(fixture("tenant.json").to_str().unwrap())
        .args([
            "--invocation",
            fixture("invocation/flat.json").to_str().unwrap(),
            "--customization",
            fixture("customization/tenant.jsonc").to_str().unwrap(),
        ])
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stream("Output")[0].contains("SIMULATED tenant"));
    let result = run.result();
    assert_eq!(result["result"]["notification"]["sent"], true);
    assert_pass_only_where_allowed(
        &run,
        result["result"]["temporaryAccessPass"].as_str().unwrap(),
    );
}
