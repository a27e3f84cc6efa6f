//! `create_temporary_access_pass.py`: the Python 3.8+ runbook (standard library only). Its
//! help and the parameter names it accepts come from the manifest; the rest starts the binary
//! and turns its records into text streams.

use std::fmt::Write as _;

use super::{
    CUSTOMIZATION_ENV, CUSTOMIZATION_VARIABLE, EXE_ENV, LINUX_DEFAULT_EXE, PATH_VARIABLE,
    WINDOWS_INSTALL_DIR, py_quote, wrap,
};
use crate::manifest::Manifest;

/// Renders the runbook.
pub fn render(m: &Manifest) -> String {
    let mut out = String::from("#!/usr/bin/env python3\n");
    out.push_str(&docstring(m));
    out.push_str(IMPORTS);
    let _ = writeln!(out, "\nRUNBOOK = {}", py_quote(&m.name));
    out.push_str("PARAMETERS = (\n");
    for p in &m.parameters {
        let _ = writeln!(out, "    {},", py_quote(&p.name));
    }
    out.push_str(")\n");
    out.push_str(BODY);
    out
}

fn docstring(m: &Manifest) -> String {
    let mut out = format!(
        "r\"\"\"{}: an Azure Automation Python runbook (Python 3.8+).\n\n",
        m.display_name
    );
    out.push_str(&wrap(&m.description));
    out.push_str("\n\n");
    out.push_str(&wrap(&format!(
        "Each argument is Name=Value, with a parameter name below in any letter case (Azure \
         Automation passes a Python runbook's parameters in sys.argv). Only the parameters given \
         are passed on; tap-runbook applies the defaults, the tenant's settings and the \
         customization. An unknown name is refused with exit code 2 before anything starts. The \
         binary is the one named by the environment variable {EXE_ENV}, else by the Automation \
         variable {PATH_VARIABLE}, else %ProgramFiles%\\{WINDOWS_INSTALL_DIR}\\tap-runbook.exe on \
         Windows and {LINUX_DEFAULT_EXE} elsewhere. The tenant's customization is the file named \
         by {CUSTOMIZATION_ENV}, else the text of the Automation variable \
         {CUSTOMIZATION_VARIABLE}."
    )));
    out.push_str("\n\n");
    out.push_str(&wrap(
        "Output messages go to stdout as text; Warning and Error messages to stderr, prefixed \
         \"WARNING: \" and \"ERROR: \"; Verbose messages to stdout, prefixed \"VERBOSE: \", only \
         with Verbose=true. The result record is the last line on stdout, as one JSON object. \
         The exit code is tap-runbook's: 0 completed, 1 failed, 2 invalid input (nothing \
         changed), 130 or 143 stopped.",
    ));
    out.push_str("\n\nParameters:\n");
    for p in &m.parameters {
        let head = format!(
            "{} ({}, default {})",
            p.name,
            p.kind.as_str(),
            p.default_text()
        );
        let _ = writeln!(out, "  {head}");
        for line in wrap(&p.description).lines() {
            let _ = writeln!(out, "      {line}");
        }
    }
    out.push_str(
        "\nOptions of this runbook:\n  \
         Verbose=true\n      also print Verbose messages\n  \
         DryRun=true\n      rehearse: do every read and check, report what would be removed and \
         created,\n      change nothing and send nothing (tap-runbook --what-if)\n",
    );
    let _ = write!(
        out,
        "\nGenerated from runbook.json, version {}.\n\"\"\"\n",
        m.version
    );
    out
}

const IMPORTS: &str = "
import json
import os
import signal
import subprocess
import sys
import tempfile
";

const BODY: &str = r#"OPTIONS = ("Verbose", "DryRun")


def parse_arguments(argv):
    """Returns the parameters and the options, or raises ValueError naming the argument."""
    known = {name.lower(): name for name in PARAMETERS + OPTIONS}
    parameters, options = {}, {}
    for argument in argv:
        name, equals, value = argument.partition("=")
        if not equals:
            raise ValueError("argument %r is not Name=Value" % argument)
        canonical = known.get(name.strip().lower())
        if canonical is None:
            raise ValueError(
                "unknown argument name %r; the names are %s"
                % (name, ", ".join(PARAMETERS + OPTIONS))
            )
        if canonical in parameters or canonical in options:
            raise ValueError("argument %s is given twice" % canonical)
        if canonical in OPTIONS:
            flag = value.strip().lower()
            if flag not in ("true", "false", "$true", "$false"):
                raise ValueError("%s=%r: use true or false" % (canonical, value))
            options[canonical] = flag in ("true", "$true")
        else:
            parameters[canonical] = value
    return parameters, options


def automation_variable(name):
    """An Automation variable, or None outside Automation or when it does not exist."""
    try:
        import automationassets
    except ImportError:
        return None
    try:
        return automationassets.get_automation_variable(name)
    except Exception:  # automationassets raises its own error types for a missing variable
        return None


def binary_path():
    path = os.environ.get("TAP_RUNBOOK_EXE") or automation_variable("TapRunbookPath")
    if path:
        return path
    if os.name == "nt":
        program_files = os.environ.get("ProgramFiles", r"C:\Program Files")
        return os.path.join(program_files, "tap-runbook", "tap-runbook.exe")
    return "/opt/tap-runbook/tap-runbook"


def error(message):
    print("ERROR: " + message, file=sys.stderr, flush=True)


def write_record(record, verbose):
    stream, message = record.get("stream"), record.get("message", "")
    if stream == "Output":
        print(message, flush=True)
    elif stream == "Verbose":
        if verbose:
            print("VERBOSE: " + message, flush=True)
    elif stream == "Warning":
        print("WARNING: " + message, file=sys.stderr, flush=True)
    elif stream == "Error":
        error(message)


def run(command, invocation, verbose):
    """Runs tap-runbook, writes its records as they arrive and returns its exit code."""
    try:
        child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    except OSError as problem:
        error("cannot start tap-runbook at %s: %s" % (command[0], problem.strerror))
        return 1
    # Stopping this runbook stops the job: tap-runbook finishes what must not be left half
    # done and writes a Stopped record, read to the end below. Ctrl-C in a terminal reaches
    # tap-runbook by itself, so it is not passed on twice.
    signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signum))
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    child.stdin.write(json.dumps(invocation).encode("utf-8"))
    child.stdin.close()
    result = None
    for line in child.stdout:
        try:
            record = json.loads(line.decode("utf-8"))
        except ValueError:
            error("tap-runbook wrote a line that is not a record")
            continue
        if record.get("type") == "result":
            result = record
        else:
            write_record(record, verbose)
    code = child.wait()
    if code < 0:
        code = 128 - code
    if result is None:
        error("tap-runbook ended with exit code %d and wrote no result record" % code)
        return code or 1
    print(json.dumps(result, separators=(",", ":")), flush=True)
    return code


def main(argv):
    # Text that the worker's encoding cannot show is escaped, never a crash.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        parameters, options = parse_arguments(argv)
    except ValueError as problem:
        error(str(problem))
        return 2
    exe = binary_path()
    if not os.path.isfile(exe):
        error(
            "tap-runbook was not found at %s: install it there, or name its path in the "
            "Automation variable TapRunbookPath" % exe
        )
        return 1
    command = [exe, "run", "--invocation", "-", "--format", "ndjson"]
    if options.get("DryRun"):
        command.append("--what-if")
    customization = os.environ.get("TAP_RUNBOOK_CUSTOMIZATION")
    temporary = None
    if not customization:
        text = automation_variable("TapRunbookCustomization")
        if text:
            handle, temporary = tempfile.mkstemp(suffix=".json")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
            customization = temporary
    if customization:
        command += ["--customization", customization]
    try:
        invocation = {"runbook": RUNBOOK, "parameters": parameters}
        return run(command, invocation, options.get("Verbose", False))
    finally:
        if temporary:
            os.remove(temporary)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_exactly_the_manifest_parameter_names() {
        let text = render(Manifest::get());
        for p in &Manifest::get().parameters {
            assert!(
                text.contains(&format!("    \"{}\",\n", p.name)),
                "{}",
                p.name
            );
        }
    }
}
