//! The one usage-error path: a command line clap refused. A job command's refusal still ends
//! with a result record, since a job host reads stdout (or the result file) for it.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::job::{ErrorCode, JobError, JobLog, JobResult, OutputFormat, Problem};
use crate::manifest::Manifest;

/// The exit code of a refused command line, as for any input error.
const USAGE_EXIT_CODE: i32 = 2;

/// Prints what clap says and returns the exit code: help and version are a normal end. A
/// usage error of a job command (`run`, `validate`) also ends with a result record; clap's
/// explanation goes to stderr.
pub fn usage_error(e: &clap::Error) -> i32 {
    use clap::error::ErrorKind;
    let _ = e.print();
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        return 0;
    }
    // args_os: `args` panics on an argument that is not valid Unicode, which is exactly the
    // kind of command line that ends up here.
    let job_command = std::env::args_os()
        .skip(1)
        .find(|a| !a.to_string_lossy().starts_with('-'))
        .is_some_and(|a| a == "run" || a == "validate");
    if job_command {
        // The format asked for holds even though the rest of the command line was refused.
        let format = flag_value(std::env::args_os().skip(1), "--format")
            .and_then(|f| <OutputFormat as clap::ValueEnum>::from_str(f.to_str()?, true).ok())
            .unwrap_or(OutputFormat::Auto);
        let log = JobLog::stdout(format, false);
        let m = Manifest::get();
        log.set_runbook(&m.name, &m.version);
        // A job host that reads the result file instead of stdout still gets its record.
        log.set_result_file(
            flag_value(std::env::args_os().skip(1), "--result-file").map(PathBuf::from),
        );
        let message = e
            .kind()
            .as_str()
            .unwrap_or("invalid command line")
            .to_owned();
        let mut error = JobError::new(
            ErrorCode::InvalidInput,
            format!("command line: {message}; see stderr or --help"),
        );
        error.problems.push(Problem {
            field: "command line".into(),
            problem: message,
            allowed: None,
        });
        log.finish(&JobResult::failed(error));
    }
    USAGE_EXIT_CODE
}

/// The value of `flag` (`--flag VALUE` or `--flag=VALUE`) on a command line clap refused, if
/// one can be made out.
fn flag_value(args: impl Iterator<Item = OsString>, flag: &str) -> Option<OsString> {
    let mut args = args.peekable();
    let mut found = None;
    let prefix = format!("{flag}=");
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if arg == flag {
            found = args.next_if(|v| !v.to_string_lossy().starts_with('-'));
        } else if let Some(value) = arg.to_str().and_then(|a| a.strip_prefix(prefix.as_str())) {
            found = Some(value.into());
        }
    }
    found.filter(|v| !v.is_empty())
}
