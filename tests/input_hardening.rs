//! Hostile input: the bad-input corpus (committed and generated) through `validate` and `run`
//! with no network reachable, the size and depth limits seen from the binary, and property
//! tests that no input makes the input stage panic.

use std::fs;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{Value, json};
use tap_runbook::input::document::{MAX_DEPTH, MAX_DOCUMENT_BYTES};
use tap_runbook::input::{self, MAX_PROBLEMS};
use time::OffsetDateTime;

use crate::common::{Run, Test, root};

const RUNBOOK: &str = "rjgit-user_security_create-temporary-access-pass";

/// One bad-input case: an invocation, maybe a customization, and what must come of it.
struct Case {
    name: String,
    invocation: PathBuf,
    customization: Option<PathBuf>,
    /// `None`: either input error code will do.
    code: Option<String>,
    fields: Vec<String>,
}

impl Case {
    fn args(&self, command: &str) -> Test {
        let mut t = Test::new()
            .args([command, "--format", "ndjson"])
            .path_arg("--invocation", &self.invocation);
        if let Some(c) = &self.customization {
            t = t.path_arg("--customization", c);
        }
        t
    }

    /// Exit 2, one result record with the expected code, every expected field named, every
    /// problem saying something, nothing on stderr, and a bounded report.
    fn check(&self, run: &Run, command: &str) {
        let name = format!("{command} {}", self.name);
        assert_eq!(run.code, 2, "{name}: exit code\n{}", run.stdout);
        let result = run.result();
        assert_eq!(result["status"], "Failed", "{name}");
        let code = result["error"]["code"].as_str().unwrap_or_default();
        match &self.code {
            Some(want) => assert_eq!(code, want, "{name}: {}", result["error"]),
            None => assert!(
                ["InvalidInput", "InvalidCustomization"].contains(&code),
                "{name}: {code}"
            ),
        }
        let fields = run.problem_fields();
        for field in &self.fields {
            assert!(
                fields.contains(field),
                "{name}: {field} not among {fields:?}"
            );
        }
        let problems = result["error"]["problems"].as_array().unwrap();
        assert!(
            problems.len() <= MAX_PROBLEMS + 1,
            "{name}: {}",
            problems.len()
        );
        for p in problems {
            let text = p["problem"].as_str().unwrap();
            assert!(!text.is_empty(), "{name}: every problem says what is wrong");
            let field = p["field"].as_str().unwrap();
            assert!(
                !field.chars().any(char::is_control),
                "{name}: a control character in the field path {field:?}"
            );
        }
        assert!(
            run.stdout.len() < 256 * 1024,
            "{name}: {} bytes of output",
            run.stdout.len()
        );
        assert!(run.stderr.is_empty(), "{name}: stderr: {}", run.stderr);
    }
}

/// The committed corpus in `fixtures/bad`.
fn committed_cases() -> Vec<Case> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(root().join("fixtures/bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let expect: Value =
                serde_json::from_str(&fs::read_to_string(dir.join("expect.json")).unwrap())
                    .unwrap();
            let customization = dir.join("customization.jsonc");
            Case {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                invocation: dir.join("invocation.json"),
                customization: customization.exists().then_some(customization),
                code: expect["code"].as_str().map(str::to_owned),
                fields: expect["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_str().unwrap().to_owned())
                    .collect(),
            }
        })
        .collect()
}

fn good_invocation() -> Vec<u8> {
    br#"{"UserName":"adele.vance@contoso.com","CallerName":"admin@contoso.com"}"#.to_vec()
}

/// A valid invocation of exactly `len` bytes (the CallerName is padded).
fn invocation_of_len(len: usize) -> Vec<u8> {
    let frame = r#"{"UserName":"adele.vance@contoso.com","CallerName":""}"#;
    let pad = len - frame.len();
    let mut doc = String::from(r#"{"UserName":"adele.vance@contoso.com","CallerName":""#);
    doc.push_str(&"a".repeat(pad));
    doc.push_str(r#""}"#);
    assert_eq!(doc.len(), len);
    doc.into_bytes()
}

/// Cases too big or too odd to commit, written to `dir`.
fn generated_cases(dir: &Path) -> Vec<Case> {
    let good = dir.join("good-invocation.json");
    fs::write(&good, good_invocation()).unwrap();
    let mut cases = Vec::new();
    let mut add = |name: &str,
                   invocation: Option<Vec<u8>>,
                   customization: Option<Vec<u8>>,
                   code: Option<&str>,
                   fields: &[&str]| {
        let invocation = match invocation {
            Some(bytes) => {
                let p = dir.join(format!("{name}.invocation.json"));
                fs::write(&p, bytes).unwrap();
                p
            }
            None => good.clone(),
        };
        let customization = customization.map(|bytes| {
            let p = dir.join(format!("{name}.customization.jsonc"));
            fs::write(&p, bytes).unwrap();
            p
        });
        cases.push(Case {
            name: name.to_owned(),
            invocation,
            customization,
            code: code.map(str::to_owned),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        });
    };
    add(
        "invocation-one-byte-over-1mib",
        Some(invocation_of_len(MAX_DOCUMENT_BYTES + 1)),
        None,
        Some("InvalidInput"),
        &["--invocation"],
    );
    // Not UTF-8 and not JSON: only the size may be reported, so nothing was parsed.
    let mut garbage = vec![0xff_u8; 4 * MAX_DOCUMENT_BYTES];
    garbage[0] = b'{';
    add(
        "invocation-4mib-of-garbage",
        Some(garbage.clone()),
        None,
        Some("InvalidInput"),
        &["--invocation"],
    );
    add(
        "customization-over-1mib",
        None,
        Some(garbage),
        None,
        &["--customization"],
    );
    add(
        "invocation-deeply-nested",
        Some(format!("{}{}", "[".repeat(200_000), "]".repeat(200_000)).into_bytes()),
        None,
        Some("InvalidInput"),
        &["invocation"],
    );
    add(
        "invocation-nested-one-level-too-deep",
        Some(
            format!(
                r#"{{"UserName":"a@contoso.com","CallerName":"x","X":{}{}}}"#,
                "[".repeat(MAX_DEPTH as usize),
                "]".repeat(MAX_DEPTH as usize)
            )
            .into_bytes(),
        ),
        None,
        Some("InvalidInput"),
        &["invocation"],
    );
    add(
        "customization-deeply-nested",
        None,
        Some(
            format!(
                "{}1{}",
                r#"{"Parameters":"#.repeat(50_000),
                "}".repeat(50_000)
            )
            .into_bytes(),
        ),
        Some("InvalidCustomization"),
        &["customization"],
    );
    let keys: Vec<String> = (0..60_000).map(|i| format!(r#""Param{i}":1"#)).collect();
    add(
        "invocation-60000-unknown-parameters",
        Some(format!("{{{}}}", keys.join(",")).into_bytes()),
        None,
        Some("InvalidInput"),
        &["parameters.Param0", "input"],
    );
    let modifiers: Vec<String> = (0..60_000).map(|i| format!(r#""Mod{i}":1"#)).collect();
    add(
        "customization-60000-unknown-modifiers",
        None,
        Some(
            format!(
                r#"{{"Parameters":{{"LifetimeInMinutes":{{{}}}}}}}"#,
                modifiers.join(",")
            )
            .into_bytes(),
        ),
        Some("InvalidCustomization"),
        &["customization.Parameters.LifetimeInMinutes.Mod0", "input"],
    );
    let long_key = "K".repeat(MAX_DOCUMENT_BYTES - 100);
    add(
        "invocation-key-of-a-megabyte",
        Some(
            format!(r#"{{"UserName":"a@contoso.com","CallerName":"x","{long_key}":1}}"#)
                .into_bytes(),
        ),
        None,
        Some("InvalidInput"),
        &[],
    );
    add(
        "username-of-a-megabyte",
        Some(
            format!(
                r#"{{"UserName":"{}@contoso.com","CallerName":"x"}}"#,
                "a".repeat(MAX_DOCUMENT_BYTES - 100)
            )
            .into_bytes(),
        ),
        None,
        Some("InvalidInput"),
        &["parameters.UserName"],
    );
    cases
}

#[test]
fn the_corpus_has_at_least_fifty_committed_cases() {
    let cases = committed_cases();
    assert!(cases.len() >= 50, "the corpus has {} cases", cases.len());
    for case in &cases {
        assert!(
            case.code.is_some() && !case.fields.is_empty(),
            "{}: expect.json names the code and at least one field",
            case.name
        );
    }
}

#[test]
fn every_generated_bad_case_is_refused_by_validate() {
    let dir = tempfile::tempdir().unwrap();
    for case in generated_cases(dir.path()) {
        let run = case.args("validate").run();
        case.check(&run, "validate");
    }
}

/// `run` over every bad case, committed and generated, with Graph and the identity endpoint
/// pointing at a loopback listener this test owns: exit 2 and not one connection.
#[test]
fn run_refuses_every_bad_case_without_a_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let mut cases = committed_cases();
    cases.extend(generated_cases(dir.path()));
    for case in &cases {
        let run = case
            .args("run")
            .env("TAP_RUNBOOK_GRAPH_URL", &base)
            .env("IDENTITY_ENDPOINT", format!("{base}/msi/token"))
            .env("IDENTITY_HEADER", "hardening-identity-header")
            .run();
        case.check(&run, "run");
        match listener.accept() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Ok((_, peer)) => panic!("{}: run connected to the listener from {peer}", case.name),
            Err(e) => panic!("{}: accept failed: {e}", case.name),
        }
    }
    // The listener does see a connection when one is made: the check above can fail.
    drop(std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap());
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(
        listener.accept().is_ok(),
        "the listener records connections"
    );
}

fn validate_stdin(bytes: Vec<u8>) -> Run {
    Test::new()
        .args(["validate", "--format", "ndjson", "--invocation", "-"])
        .stdin(bytes)
        .run()
}

#[test]
fn the_size_limit_is_exact_on_stdin_and_in_files() {
    let at_limit = invocation_of_len(MAX_DOCUMENT_BYTES);
    let run = validate_stdin(at_limit.clone());
    // Accepted by the size check, then refused only for the over-long CallerName.
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(run.problem_fields(), ["parameters.CallerName"]);

    for bytes in [
        invocation_of_len(MAX_DOCUMENT_BYTES + 1),
        vec![b'['; 3 * MAX_DOCUMENT_BYTES],
    ] {
        let run = validate_stdin(bytes);
        assert_eq!(run.code, 2, "{}", run.stdout);
        assert_eq!(run.problem_fields(), ["--invocation"]);
        let problem = run.result()["error"]["problems"][0]["problem"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(problem.contains("larger than 1048576 bytes"), "{problem}");
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.json");
    fs::write(&file, invocation_of_len(MAX_DOCUMENT_BYTES + 1)).unwrap();
    let run = Test::new()
        .args(["validate", "--format", "ndjson"])
        .path_arg("--invocation", &file)
        .run();
    assert_eq!(run.code, 2);
    let problem = &run.result()["error"]["problems"][0];
    assert_eq!(problem["field"], "--invocation");
    let text = problem["problem"].as_str().unwrap();
    assert!(
        text.contains("big.json") && text.contains("larger than 1048576 bytes"),
        "{text}"
    );
}

#[test]
fn a_large_but_allowed_document_is_read_whole() {
    // Just under the limit, with the padding in whitespace: the document is valid.
    let mut doc = good_invocation();
    doc.resize(MAX_DOCUMENT_BYTES, b' ');
    let run = validate_stdin(doc);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

// ---------------------------------------------------------------------------------------------
// No input makes the input stage panic.

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap()
}

/// Runs the input stage and checks what any outcome must satisfy.
fn prepare_never_panics(invocation: &[u8], customization: Option<&[u8]>) {
    if let Err(e) = input::prepare(invocation, customization, now()) {
        assert!(!e.problems.is_empty());
        assert!(e.problems.len() <= MAX_PROBLEMS + 1);
        for p in &e.problems {
            assert!(!p.field.is_empty() && !p.problem.is_empty(), "{p:?}");
            assert!(!p.field.chars().any(char::is_control), "{p:?}");
        }
    }
}

const NAMES: &[&str] = &[
    "UserName",
    "username",
    "LifetimeInMinutes",
    "OneTimeUseOnly",
    "StartDateTime",
    "NotifyUser",
    "LanguageOverride",
    "EmailFrom",
    "ServiceDeskEmail",
    "ServiceDeskPhone",
    "ServiceDeskPortalUrl",
    "BrandingAccentColor",
    "CallerName",
    "runbook",
    "jobId",
    "parameters",
    "Parameters",
    "ParameterList",
    "Name",
    "Settings",
    "RJReport",
    "EmailSender",
    "Branding",
    "Templates",
    "Runbooks",
    RUNBOOK,
    "$schema",
    "$id",
    "$values",
    "$ref",
    "Default",
    "DefaultValue",
    "Hide",
    "ReadOnly",
    "Mandatory",
    "AllowEdit",
    "SelectSimple",
    "Select",
    "Options",
    "Value",
    "Lifetime\r\nInMinutes",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(NAMES).prop_map(str::to_owned),
        1 => ".{0,12}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![
            0_i64,
            59,
            60,
            240,
            480,
            481,
            2_147_483_647,
            -2_147_483_648,
            2_147_483_648,
        ])
        .prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "",
            "240",
            "2.4e2",
            "True",
            "$false",
            "yes",
            "A",
            "B",
            "C",
            "de",
            "#0078D4",
            "adele@contoso.com",
            "adele\u{ff20}contoso.com",
            "a@contoso.com?x",
            "adele%2F..@contoso.com",
            "https://help.contoso.com",
            "http://x",
            "x\u{0}y",
            "\u{202e}",
            "2026-11-29T09:00:00+01:00",
            RUNBOOK,
        ])
        .prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ]
}

/// Random JSON with parameter-like keys, modifiers and `$ref`/`$id`/`$values` blocks.
fn json_ish() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner.clone()), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            prop::sample::select(vec!["A", "B", "C", "D"]).prop_map(|id| json!({ "$ref": id })),
            (prop::sample::select(vec!["A", "B", "C"]), inner)
                .prop_map(|(id, v)| json!({ "$id": id, "$values": v })),
        ]
    })
}

/// A tenant document whose templates refer to each other at random (cycles included).
fn tenant_with_templates() -> impl Strategy<Value = Value> {
    let ids = prop::sample::select(vec!["A", "B", "C", "D"]);
    (
        prop::collection::vec((ids.clone(), json_ish()), 0..5),
        prop::collection::vec((prop::sample::select(NAMES), json_ish()), 0..4),
        ids,
    )
        .prop_map(|(templates, params, first)| {
            let templates: Vec<Value> = templates
                .into_iter()
                .map(|(id, v)| json!({ "$id": id, "$values": v }))
                .collect();
            let mut parameters = serde_json::Map::new();
            for (name, modifiers) in params {
                parameters.insert(name.to_owned(), modifiers);
            }
            parameters.insert(
                "LifetimeInMinutes".into(),
                json!({ "SelectSimple": { "$ref": first } }),
            );
            json!({
                "Settings": { "RJReport": { "EmailSender": "it@contoso.com" } },
                "Templates": { "T": templates },
                "Runbooks": { RUNBOOK: { "Parameters": parameters } }
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(
        invocation in prop::collection::vec(any::<u8>(), 0..256),
        customization in prop::option::of(prop::collection::vec(any::<u8>(), 0..256)),
    ) {
        prepare_never_panics(&invocation, customization.as_deref());
    }

    #[test]
    fn json_ish_documents_never_panic(invocation in json_ish(), customization in prop::option::of(json_ish())) {
        let customization = customization.map(|c| c.to_string().into_bytes());
        prepare_never_panics(invocation.to_string().as_bytes(), customization.as_deref());
    }

    #[test]
    fn random_templates_and_refs_never_panic(
        params in prop::collection::vec((prop::sample::select(NAMES), leaf()), 0..8),
        tenant in tenant_with_templates(),
    ) {
        let invocation: serde_json::Map<String, Value> =
            params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let invocation = Value::Object(invocation).to_string();
        prepare_never_panics(invocation.as_bytes(), Some(tenant.to_string().as_bytes()));
    }

    #[test]
    fn near_valid_invocations_never_panic(
        extra in prop::collection::vec((key(), leaf()), 0..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut doc = json!({ "UserName": "adele.vance@contoso.com", "CallerName": "admin@contoso.com" });
        for (k, v) in extra {
            doc[k] = v;
        }
        let text = doc.to_string();
        prepare_never_panics(text.as_bytes(), None);
        // And every prefix of it (a truncated upload).
        let at = cut.index(text.len() + 1);
        prepare_never_panics(&text.as_bytes()[..at], None);
    }
}
