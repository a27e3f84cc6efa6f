//! The JSON Schema (draft 2020-12) of every record `run` and `validate` write: log records on
//! each stream, and the one result record of each status with each kind of result. It is
//! generated from the types that write the records (the error codes, streams and statuses are
//! enumerated from their enums, the parameters and runbook name from the manifest), and is
//! strict: a field, code or shape the binary never writes is refused. `job-record.schema.json`
//! is this schema written out; a test keeps the file equal to what the code generates.

use serde::Serialize;
use serde_json::{Map, Value, json};
use strum::IntoEnumIterator;

use super::{ErrorCode, JobStatus, Stream};
use crate::manifest::{Manifest, ParamType, ParameterSpec};
use crate::notify::Language;

/// The shipped schema file.
pub const RECORD_SCHEMA_JSON: &str = include_str!("../../job-record.schema.json");

/// A release version as the manifest writes it: semantic versioning.
pub const VERSION_PATTERN: &str =
    r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$";

/// Every record's `time`: RFC 3339 in UTC with milliseconds.
const TIME_PATTERN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$";

/// The wire names of an enum's variants, as serde writes them.
fn names<T: IntoEnumIterator + Serialize>() -> Vec<Value> {
    T::iter()
        .map(|v| serde_json::to_value(v).expect("a unit variant serializes to its name"))
        .collect()
}

/// An object with exactly these properties, `required` among them.
fn object(properties: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

fn reference(def: &str) -> Value {
    json!({ "$ref": format!("#/$defs/{def}") })
}

/// The result record of one status: the envelope every result carries, with that status's
/// `result` and `error`.
fn result_record(status: JobStatus, result: Value, error: Value) -> Value {
    let mut record = object(
        json!({
            "type": { "const": "result" },
            "time": reference("time"),
            "jobId": reference("jobId"),
            "runbook": reference("runbook"),
            "version": reference("version"),
            "status": { "const": status },
            "simulated": {
                "type": "boolean",
                "description": "True when the job ran against a simulated tenant (--simulate): nothing real was changed and any pass is not a real one."
            },
            "result": result,
            "warnings": { "type": "array", "items": { "type": "string" } },
            "error": error
        }),
        &[
            "type",
            "time",
            "jobId",
            "runbook",
            "version",
            "status",
            "simulated",
            "result",
            "warnings",
            "error",
        ],
    );
    record["description"] = json!(match status {
        JobStatus::Completed =>
            "The job did its work: a pass was created, planned (--what-if) or the inputs validated.",
        JobStatus::Failed =>
            "The job could not do its work; `error` says why and `result` holds what was done.",
        JobStatus::Stopped =>
            "A signal stopped the job; `result` holds what was done (a created pass above all).",
    });
    record
}

fn parameter_value(spec: &ParameterSpec) -> Value {
    let value = json!({
        "type": match spec.kind {
            ParamType::String => "string",
            ParamType::Int32 => "integer",
            ParamType::Boolean => "boolean",
        }
    });
    let mut sources = vec![
        json!("default"),
        json!("customization"),
        json!("invocation"),
    ];
    if let Some(path) = &spec.setting {
        sources.push(json!(format!("setting Settings.{path}")));
    }
    object(
        json!({
            "value": value,
            "source": { "enum": sources },
            "hidden": { "const": true },
            "readOnly": { "const": true }
        }),
        &["value", "source"],
    )
}

fn definitions(m: &Manifest) -> Map<String, Value> {
    let mut defs = Map::new();
    let mut def = |name: &str, schema: Value| {
        defs.insert(name.to_owned(), schema);
    };
    def("time", json!({ "type": "string", "pattern": TIME_PATTERN }));
    def(
        "jobId",
        json!({ "type": ["string", "null"], "description": "The invocation's jobId, else null." }),
    );
    def("runbook", json!({ "const": m.name }));
    def(
        "version",
        json!({ "type": "string", "pattern": VERSION_PATTERN }),
    );
    def("count", json!({ "type": "integer", "minimum": 0 }));
    def(
        "removedPasses",
        json!({
            "type": "array",
            "description": "The passes this job removed, so that jobs which ran at once can be told apart.",
            "items": object(
                json!({ "id": { "type": "string" }, "createdDateTime": { "type": "string" } }),
                &["id"],
            )
        }),
    );
    def(
        "logRecord",
        object(
            json!({
                "type": { "const": "log" },
                "time": reference("time"),
                "jobId": reference("jobId"),
                "stream": { "enum": names::<Stream>() },
                "message": { "type": "string" }
            }),
            &["type", "time", "jobId", "stream", "message"],
        ),
    );
    def(
        "completedRecord",
        result_record(
            JobStatus::Completed,
            json!({ "oneOf": [reference("passResult"), reference("whatIfResult"), reference("validateResult")] }),
            json!({ "type": "null" }),
        ),
    );
    let partial = json!({ "oneOf": [{ "type": "null" }, reference("passResult"), reference("progressResult")] });
    def(
        "failedRecord",
        result_record(JobStatus::Failed, partial.clone(), reference("error")),
    );
    def(
        "stoppedRecord",
        result_record(JobStatus::Stopped, partial, json!({ "type": "null" })),
    );
    def(
        "error",
        object(
            json!({
                "code": { "enum": names::<ErrorCode>() },
                "message": { "type": "string" },
                "graph": object(
                    json!({
                        "status": { "type": "integer", "minimum": 100, "maximum": 599 },
                        "code": { "type": "string" },
                        "requestId": { "type": "string" }
                    }),
                    &["status"],
                ),
                "problems": {
                    "type": "array",
                    "minItems": 1,
                    "items": object(
                        json!({
                            "field": { "type": "string" },
                            "problem": { "type": "string" },
                            "allowed": { "type": "string" }
                        }),
                        &["field", "problem"],
                    )
                }
            }),
            &["code", "message"],
        ),
    );
    def(
        "notification",
        object(
            json!({
                "requested": { "type": "boolean" },
                "sent": { "type": "boolean" },
                "recipient": { "type": "string" },
                "language": { "enum": Language::ALL.iter().map(|l| l.code()).collect::<Vec<_>>() }
            }),
            &["requested", "sent"],
        ),
    );
    let mut pass = object(
        json!({
            "userPrincipalName": { "type": "string" },
            "userId": { "type": "string" },
            "temporaryAccessPass": { "type": "string", "description": "The pass: this record and one Output line are the only places it appears." },
            "startDateTime": { "type": ["string", "null"] },
            "lifetimeInMinutes": { "type": "integer", "minimum": 1 },
            "isUsableOnce": { "type": "boolean" },
            "isUsable": { "type": "boolean" },
            "methodUsabilityReason": { "type": "string" },
            "removedPassCount": reference("count"),
            "removedPasses": reference("removedPasses"),
            "temporaryAccessPassId": { "type": "string" },
            "superseded": { "type": "boolean", "description": "Another job replaced the new pass after it was created: it no longer works (error ReplacedByAnotherJob)." },
            "notification": reference("notification")
        }),
        &[
            "userPrincipalName",
            "userId",
            "temporaryAccessPass",
            "startDateTime",
            "lifetimeInMinutes",
            "isUsableOnce",
            "removedPassCount",
            "removedPasses",
            "superseded",
            "notification",
        ],
    );
    pass["description"] = json!("The pass that was created.");
    def("passResult", pass);
    let mut progress = object(
        json!({
            "userPrincipalName": { "type": "string" },
            "userId": { "type": "string" },
            "removedPassCount": reference("count"),
            "removedPasses": reference("removedPasses"),
            "passMayExist": { "type": "boolean", "description": "A create was sent and never answered: Graph may have made a pass nobody received." },
            "replacementInterrupted": { "const": true, "description": "Stopped between the first delete and the create's answer." },
            "createSentAt": reference("time")
        }),
        &[
            "userPrincipalName",
            "userId",
            "removedPassCount",
            "removedPasses",
            "passMayExist",
        ],
    );
    progress["description"] = json!("What a job that ended before a pass was created had done.");
    def("progressResult", progress);
    def(
        "whatIfResult",
        object(
            json!({
                "whatIf": { "const": true },
                "userPrincipalName": { "type": "string" },
                "userId": { "type": "string" },
                "wouldRemovePassCount": reference("count"),
                "wouldCreate": object(
                    json!({
                        "lifetimeInMinutes": { "type": "integer", "minimum": 1 },
                        "isUsableOnce": { "type": "boolean" },
                        "startDateTime": { "type": "string" }
                    }),
                    &["lifetimeInMinutes", "isUsableOnce"],
                ),
                "notification": reference("notification")
            }),
            &[
                "whatIf",
                "userPrincipalName",
                "userId",
                "wouldRemovePassCount",
                "wouldCreate",
                "notification",
            ],
        ),
    );
    let mut parameters = Map::new();
    for spec in &m.parameters {
        parameters.insert(spec.name.clone(), parameter_value(spec));
    }
    let names: Vec<&str> = m.parameters.iter().map(|p| p.name.as_str()).collect();
    def(
        "validateResult",
        object(
            json!({
                "valid": { "const": true },
                "parameters": object(Value::Object(parameters), &names)
            }),
            &["valid", "parameters"],
        ),
    );
    defs
}

/// Generates the record schema from the manifest and the record types.
pub fn generate(m: &Manifest) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:tap-runbook:job-record",
        "title": format!("A record written by {} (tap-runbook run or validate)", m.name),
        "description": "One line of the NDJSON stream: a log record on one of Azure Automation's streams, or the single result record that ends every job (Completed, Failed or Stopped).",
        "oneOf": [
            reference("logRecord"),
            reference("completedRecord"),
            reference("failedRecord"),
            reference("stoppedRecord")
        ],
        "$defs": definitions(m)
    })
}

/// A validator of records, built from the generated schema (no remote references).
pub fn record_validator() -> Result<jsonschema::Validator, String> {
    build(generate(Manifest::get()))
}

/// A validator of the one kind of record `record` claims to be by its `type` and `status`
/// (or `None` when it claims none), whose errors point at the field at fault where the whole
/// schema's `oneOf` can only say that no kind matched.
pub fn kind_validator(record: &Value) -> Option<Result<jsonschema::Validator, String>> {
    let def = match (record["type"].as_str()?, record["status"].as_str()) {
        ("log", _) => "logRecord",
        ("result", Some("Completed")) => "completedRecord",
        ("result", Some("Failed")) => "failedRecord",
        ("result", Some("Stopped")) => "stoppedRecord",
        _ => return None,
    };
    let mut root = generate(Manifest::get());
    let object = root.as_object_mut().expect("the schema is an object");
    object.remove("oneOf");
    object.insert("$ref".into(), json!(format!("#/$defs/{def}")));
    Some(build(root))
}

fn build(schema: Value) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{
        GraphErrorInfo, JobError, JobLog, JobResult, NotificationOutcome, Problem, RemovedPass,
        StopSignal, TapOutcome,
    };
    use crate::secret::Secret;

    fn pass() -> TapOutcome {
        TapOutcome {
            user_principal_name: "adele@contoso.com".into(),
            user_id: "0a5e7f3c".into(),
            temporary_access_pass: Some(Secret::new("Abc$123!")),
            start_date_time: Some("2026-11-29T10:00:00Z".into()),
            lifetime_in_minutes: 240,
            is_usable_once: true,
            is_usable: Some(true),
            method_usability_reason: Some("EnabledByPolicy".into()),
            removed_pass_count: 1,
            removed_passes: vec![RemovedPass {
                id: "old-1".into(),
                created_date_time: Some("2026-11-28T10:00:00Z".into()),
            }],
            temporary_access_pass_id: Some("new-1".into()),
            superseded: false,
            notification: NotificationOutcome {
                requested: true,
                sent: true,
                recipient: Some("adele@contoso.com".into()),
                language: Some("de".into()),
            },
        }
    }

    /// The records a `JobLog` writes for `result`, after one line on every stream.
    fn records(result: &JobResult) -> Vec<Value> {
        let (log, sink) = JobLog::memory();
        let m = Manifest::get();
        log.set_runbook(&m.name, &m.version);
        log.output("o");
        log.verbose("v");
        log.warning("w");
        log.error("e");
        log.finish(result);
        sink.contents()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn errors(validator: &jsonschema::Validator, record: &Value) -> Vec<String> {
        validator
            .iter_errors(record)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    #[test]
    fn shipped_schema_is_the_generated_one() {
        let generated = generate(Manifest::get());
        let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
        if text != RECORD_SCHEMA_JSON {
            if std::env::var_os("TAP_RUNBOOK_WRITE_SCHEMA").is_some() {
                std::fs::write(
                    concat!(env!("CARGO_MANIFEST_DIR"), "/job-record.schema.json"),
                    &text,
                )
                .unwrap();
            }
            panic!(
                "job-record.schema.json is stale: run `TAP_RUNBOOK_WRITE_SCHEMA=1 cargo test --lib schema` and commit it"
            );
        }
        assert!(jsonschema::meta::is_valid(&generated));
        assert!(regex_like(VERSION_PATTERN, &Manifest::get().version));
    }

    /// The manifest's version has the shape the schema requires (checked with the schema
    /// engine itself, which speaks ECMA-262 patterns).
    fn regex_like(pattern: &str, text: &str) -> bool {
        jsonschema::is_valid(&json!({ "pattern": pattern }), &json!(text))
    }

    #[test]
    fn every_record_the_log_writes_is_valid() {
        let validator = record_validator().unwrap();
        let mut failed = JobError::new(ErrorCode::GraphUnavailable, "Graph failed");
        failed.graph = Some(GraphErrorInfo {
            status: 503,
            code: Some("serviceNotAvailable".into()),
            request_id: Some("r-1".into()),
        });
        failed.problems.push(Problem {
            field: "parameters.UserName".into(),
            problem: "missing".into(),
            allowed: Some("a UPN".into()),
        });
        let mut failed_after_create = JobResult::failed(failed.clone());
        failed_after_create.result = serde_json::to_value(pass()).ok();
        let progress = json!({
            "userPrincipalName": "a@b.c", "userId": "1", "removedPassCount": 1,
            "removedPasses": [{ "id": "old-1" }], "passMayExist": true,
            "replacementInterrupted": true, "createSentAt": "2026-11-29T10:00:00.123Z",
        });
        let request = crate::input::prepare(
            br#"{"UserName":"adele@contoso.com","CallerName":"op"}"#,
            None,
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
        let validated = json!({ "valid": true, "parameters": request.parameters.to_json() });
        let what_if = json!({
            "whatIf": true, "userPrincipalName": "a@b.c", "userId": "1", "wouldRemovePassCount": 1,
            "wouldCreate": crate::graph::CreatePass { lifetime_in_minutes: 60, is_usable_once: true, start_date_time: None },
            "notification": NotificationOutcome::not_requested(),
        });
        let mut results = vec![
            JobResult::completed(pass()),
            JobResult::completed(validated),
            JobResult::completed(what_if),
            JobResult::failed(failed),
            failed_after_create,
            JobResult::stopped(StopSignal::Terminate, None),
            JobResult::stopped(StopSignal::Interrupt, Some(progress)),
            JobResult::stopped(StopSignal::Interrupt, serde_json::to_value(pass()).ok()),
        ];
        for code in ErrorCode::iter() {
            results.push(JobResult::failed(JobError::new(code, "m")));
        }
        for result in &results {
            for record in records(result) {
                assert_eq!(
                    errors(&validator, &record),
                    Vec::<String>::new(),
                    "{record}"
                );
            }
        }
    }

    #[test]
    fn records_the_binary_never_writes_are_refused() {
        let validator = record_validator().unwrap();
        let good = records(&JobResult::completed(pass()));
        let log = &good[0];
        let result = good.last().unwrap();
        let mut refused = Vec::new();
        let mut change = |base: &Value, edit: &dyn Fn(&mut Value)| {
            let mut record = base.clone();
            edit(&mut record);
            refused.push(record);
        };
        change(log, &|r| r["stream"] = json!("Debug"));
        change(log, &|r| r["extra"] = json!(1));
        change(log, &|r| r["time"] = json!("yesterday"));
        change(log, &|r| {
            r.as_object_mut().unwrap().remove("jobId");
        });
        change(result, &|r| r["status"] = json!("Cancelled"));
        change(result, &|r| r["runbook"] = json!("another-runbook"));
        change(result, &|r| r["version"] = json!("v1"));
        change(result, &|r| {
            r["error"] = json!({ "code": "Timeout", "message": "m" })
        });
        change(result, &|r| r["result"]["secret"] = json!("x"));
        change(result, &|r| {
            r["result"]
                .as_object_mut()
                .unwrap()
                .remove("temporaryAccessPass");
        });
        change(result, &|r| {
            r["result"]["notification"]["language"] = json!("xx")
        });
        change(result, &|r| {
            r["status"] = json!("Failed");
            r["error"] = json!({ "code": "NoSuchCode", "message": "m" });
        });
        change(result, &|r| {
            r["status"] = json!("Failed");
            r["error"] = json!({ "code": "Timeout", "message": "m", "graph": { "status": 503, "request-id": "r" } });
        });
        change(result, &|r| {
            r["status"] = json!("Failed");
            r["error"] = json!({ "code": "InvalidInput", "message": "m", "problems": [] });
        });
        change(result, &|r| {
            r["status"] = json!("Stopped");
            r["error"] = json!({ "code": "Timeout", "message": "m" });
        });
        change(result, &|r| {
            r["result"] = json!({ "valid": true, "parameters": { "NoSuchParameter": { "value": 1, "source": "default" } } });
        });
        for record in refused {
            assert!(!validator.is_valid(&record), "accepted: {record}");
        }
    }
}
