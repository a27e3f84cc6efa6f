//! `validate`, `manifest` and `schema` over the fixtures, run as the real binary.

use std::fs;

use serde_json::Value;

use crate::common::{Test, fixture, root};

fn validate(invocation: &str, customization: Option<&str>) -> crate::common::Run {
    let mut t = Test::new()
        .arg("validate")
        .path_arg("--invocation", &fixture(invocation));
    if let Some(c) = customization {
        t = t.path_arg("--customization", &fixture(c));
    }
    t.arg("--format").arg("ndjson").run()
}

fn param(run: &crate::common::Run, name: &str) -> (Value, String) {
    let p = &run.result()["result"]["parameters"][name];
    (
        p["value"].clone(),
        p["source"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn every_good_invocation_validates_with_every_customization() {
    for inv in [
        "invocation/flat.json",
        "invocation/wrapped.json",
        "invocation/strings.json",
        "invocation/notify.json",
    ] {
        for cust in [
            None,
            Some("customization/tenant.jsonc"),
            Some("customization/fragment.jsonc"),
            Some("customization/entry.json"),
        ] {
            let run = validate(inv, cust);
            // The tenant offers fixed lifetimes (60/240/480) and a read-only sender.
            assert_eq!(run.code, 0, "{inv} with {cust:?}:\n{}", run.stdout);
            assert_eq!(run.result()["status"], "Completed");
        }
    }
}

#[test]
fn tenant_document_feeds_settings_templates_and_defaults() {
    let run = validate("invocation/flat.json", Some("customization/tenant.jsonc"));
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        param(&run, "LifetimeInMinutes"),
        (Value::from(240), "customization".into())
    );
    assert_eq!(
        param(&run, "OneTimeUseOnly"),
        (Value::from(true), "customization".into())
    );
    assert_eq!(
        param(&run, "NotifyUser"),
        (Value::from(true), "customization".into())
    );
    assert_eq!(
        param(&run, "EmailFrom"),
        (
            Value::from("it-service@contoso.com"),
            "setting Settings.RJReport.EmailSender".into()
        )
    );
    assert_eq!(
        param(&run, "BrandingAccentColor"),
        (
            Value::from("#0F6CBD"),
            "setting Settings.RJReport.Branding.AccentColor".into()
        )
    );
    assert_eq!(
        param(&run, "UserName"),
        (Value::from("adele.vance@contoso.com"), "invocation".into())
    );
    assert_eq!(
        param(&run, "ServiceDeskTicketUrl"),
        (Value::from(""), "default".into())
    );
}

#[test]
fn string_values_are_coerced_and_invocation_wins() {
    let run = validate(
        "invocation/strings.json",
        Some("customization/fragment.jsonc"),
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        param(&run, "LifetimeInMinutes"),
        (Value::from(480), "invocation".into())
    );
    assert_eq!(
        param(&run, "OneTimeUseOnly"),
        (Value::from(false), "invocation".into())
    );
    assert_eq!(
        param(&run, "LanguageOverride"),
        (Value::from("de"), "invocation".into())
    );
    let run = validate("invocation/flat.json", Some("customization/entry.json"));
    assert_eq!(
        param(&run, "LifetimeInMinutes"),
        (Value::from(90), "customization".into())
    );
}

#[test]
fn wrapper_job_id_is_echoed_in_every_record() {
    let run = validate("invocation/wrapped.json", None);
    assert_eq!(run.code, 0);
    for r in run.records() {
        assert_eq!(r["jobId"], "0c9d3b4e-1f2a-4b5c-8d7e-9f0a1b2c3d4e", "{r}");
    }
}

#[test]
fn every_bad_fixture_exits_2_naming_its_field() {
    let dir = root().join("fixtures/bad");
    let mut cases: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 25, "the corpus has {} cases", cases.len());
    for case in cases {
        let expect: Value =
            serde_json::from_str(&fs::read_to_string(case.join("expect.json")).unwrap()).unwrap();
        let mut t = Test::new()
            .arg("validate")
            .arg("--format")
            .arg("ndjson")
            .path_arg("--invocation", &case.join("invocation.json"));
        let customization = case.join("customization.jsonc");
        if customization.exists() {
            t = t.path_arg("--customization", &customization);
        }
        let run = t.run();
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(run.code, 2, "{name}: exit code\n{}", run.stdout);
        let result = run.result();
        assert_eq!(result["status"], "Failed", "{name}");
        assert_eq!(
            result["error"]["code"], expect["code"],
            "{name}: {}",
            result["error"]
        );
        let fields = run.problem_fields();
        for field in expect["fields"].as_array().unwrap() {
            assert!(
                fields.iter().any(|f| f == field.as_str().unwrap()),
                "{name}: {field} not among {fields:?}"
            );
        }
        for p in result["error"]["problems"].as_array().unwrap() {
            assert!(
                !p["problem"].as_str().unwrap().is_empty(),
                "{name}: every problem says what is wrong"
            );
        }
        assert!(
            run.stderr.is_empty(),
            "{name}: nothing on stderr: {}",
            run.stderr
        );
    }
}

#[test]
fn a_misspelt_parameter_gets_a_suggestion() {
    let run = Test::new()
        .args(["validate", "--format", "ndjson", "--invocation", "-"])
        .stdin(r#"{"UserName":"adele@contoso.com","CallerName":"x","OneTimeUse":true}"#)
        .run();
    assert_eq!(run.code, 2);
    let problem = &run.result()["error"]["problems"][0];
    assert_eq!(problem["field"], "parameters.OneTimeUse");
    assert!(
        problem["problem"]
            .as_str()
            .unwrap()
            .contains("did you mean \"OneTimeUseOnly\""),
        "{problem}"
    );
}

#[test]
fn all_problems_are_reported_together() {
    let run = Test::new()
        .args(["validate", "--format", "ndjson", "--invocation", "-"])
        .stdin(r#"{"UserName":"adele","LifetimeInMinutes":5,"OneTimeUseOnly":"maybe","CallerName":""}"#)
        .run();
    assert_eq!(run.code, 2);
    let mut fields = run.problem_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "parameters.CallerName",
            "parameters.LifetimeInMinutes",
            "parameters.OneTimeUseOnly",
            "parameters.UserName"
        ]
    );
    assert_eq!(run.stream("Error").len(), 4);
}

#[test]
fn unreadable_input_file_is_an_input_error() {
    let run = Test::new()
        .args([
            "validate",
            "--format",
            "ndjson",
            "--invocation",
            "/nonexistent/invocation.json",
        ])
        .run();
    assert_eq!(run.code, 2);
    assert_eq!(run.result()["error"]["code"], "InvalidInput");
    assert_eq!(run.problem_fields(), ["--invocation"]);
}

#[test]
fn validate_output_snapshot() {
    let run = validate(
        "invocation/wrapped.json",
        Some("customization/tenant.jsonc"),
    );
    insta::assert_json_snapshot!("validate_wrapped_tenant", run.redacted_records());
    let run = validate(
        "invocation/strings.json",
        Some("customization/fragment.jsonc"),
    );
    insta::assert_json_snapshot!(
        "validate_strings_fragment_result",
        run.redacted_records().last()
    );
}

#[test]
fn text_format_for_people() {
    let run = Test::new()
        .args(["validate", "--format", "text", "--invocation", "-"])
        .stdin(r#"{"UserName":"adele","CallerName":"admin@contoso.com"}"#)
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stdout
            .starts_with("ERROR: parameters.UserName: \"adele\" is not a user principal name"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Status: Failed"));
}

#[test]
fn manifest_and_schema_print_the_shipped_files() {
    let manifest = Test::new().arg("manifest").run();
    assert_eq!(manifest.code, 0);
    assert_eq!(
        manifest.stdout,
        fs::read_to_string(root().join("runbook.json")).unwrap()
    );
    let schema = Test::new().arg("schema").run();
    assert_eq!(schema.code, 0);
    let parsed: Value = serde_json::from_str(&schema.stdout).unwrap();
    assert_eq!(
        parsed["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(parsed["$id"], "urn:tap-runbook:customization");
    let records = Test::new().args(["schema", "--records"]).run();
    assert_eq!(records.code, 0);
    assert_eq!(
        records.stdout,
        fs::read_to_string(root().join("job-record.schema.json")).unwrap()
    );
}

#[test]
fn version_is_the_manifest_version() {
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(root().join("runbook.json")).unwrap()).unwrap();
    let run = Test::new().arg("--version").run();
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout,
        format!("tap-runbook {}\n", manifest["version"].as_str().unwrap())
    );
}

#[test]
fn run_refuses_bad_input_before_anything_else() {
    let run = Test::new()
        .args(["run", "--format", "ndjson", "--invocation", "-"])
        .env("TAP_RUNBOOK_GRAPH_URL", "http://127.0.0.1:9")
        .stdin(r#"{"UserName":"adele@contoso.com"}"#)
        .run();
    assert_eq!(run.code, 2);
    assert_eq!(run.problem_fields(), ["parameters.CallerName"]);
}

// Windows has no SIGTERM; the Windows stop events are covered by scripts/wine-smoke.py.
#[cfg(unix)]
#[test]
fn simulator_prints_its_environment_and_stops_on_sigterm() {
    let sim = crate::common::process::StandaloneSimulator::start(&[], "TAP_RUNBOOK_GRAPH_URL");
    let exports: Vec<String> = sim
        .exports("# Point tap-runbook at it")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert!(
        exports.contains(&"IDENTITY_ENDPOINT".to_owned())
            && exports.contains(&"IDENTITY_HEADER".to_owned()),
        "{exports:?}"
    );
    assert!(
        sim.banner
            .iter()
            .any(|l| l.starts_with("export TAP_RUNBOOK_GRAPH_URL=http://127.0.0.1:")),
        "{:?}",
        sim.banner
    );
    sim.stop();
}

#[test]
fn simulator_refuses_a_bad_tenant_file_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant.json");
    let mut tenant: Value =
        serde_json::from_str(&fs::read_to_string(fixture("tenant.json")).unwrap()).unwrap();
    tenant["users"][0]["mailbox"] = Value::from("yes");
    fs::write(&path, tenant.to_string()).unwrap();
    let run = Test::new()
        .args(["simulator", "--tenant", path.to_str().unwrap()])
        .run();
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("users[0].mailbox"), "{}", run.stderr);
}

#[test]
fn simulator_refuses_a_non_loopback_address() {
    let run = Test::new()
        .args([
            "simulator",
            "--tenant",
            fixture("tenant.json").to_str().unwrap(),
            "--listen",
            "0.0.0.0:0",
        ])
        .run();
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("loopback"), "{}", run.stderr);
}

#[test]
fn readme_parameter_table_matches_the_manifest() {
    let table =
        tap_runbook::readme::parameter_table_markdown(tap_runbook::manifest::Manifest::get());
    crate::common::assert_readme_section("parameters", &table);
}

#[test]
fn a_usage_error_of_a_job_command_still_ends_with_a_result_record() {
    let run = Test::new()
        .args(["run", "--format", "ndjson", "--no-such-flag"])
        .run();
    assert_eq!(run.code, 2);
    let result = run.result();
    assert_eq!(result["status"], "Failed");
    assert_eq!(result["error"]["code"], "InvalidInput");
    assert!(run.stderr.contains("--no-such-flag"), "{}", run.stderr);
    let help = Test::new().args(["run", "--help"]).run();
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("--what-if"));
}
