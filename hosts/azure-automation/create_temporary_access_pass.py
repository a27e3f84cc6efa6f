#!/usr/bin/env python3
r"""Create Temporary Access Pass: an Azure Automation Python runbook (Python 3.8+).

Creates a Temporary Access Pass (TAP) for a user in Microsoft Entra ID, replacing the user's
existing pass, and optionally tells the user by email that a pass was created (the email
never contains the pass).

Each argument is Name=Value, with a parameter name below in any letter case (Azure
Automation passes a Python runbook's parameters in sys.argv). Only the parameters given are
passed on; tap-runbook applies the defaults, the tenant's settings and the customization. An
unknown name is refused with exit code 2 before anything starts. The binary is the one named
by the environment variable TAP_RUNBOOK_EXE, else by the Automation variable TapRunbookPath,
else %ProgramFiles%\tap-runbook\tap-runbook.exe on Windows and /opt/tap-runbook/tap-runbook
elsewhere. The tenant's customization is the file named by TAP_RUNBOOK_CUSTOMIZATION, else
the text of the Automation variable TapRunbookCustomization.

Output messages go to stdout as text; Warning and Error messages to stderr, prefixed
"WARNING: " and "ERROR: "; Verbose messages to stdout, prefixed "VERBOSE: ", only with
Verbose=true. The result record is the last line on stdout, as one JSON object. The exit
code is tap-runbook's: 0 completed, 1 failed, 2 invalid input (nothing changed), 130 or 143
stopped.

Parameters:
  UserName (String, default — (required))
      The user's user principal name (local@domain) or object id. Filled in by the job host from
      the user the runbook runs for.
  LifetimeInMinutes (Int32, default 240)
      How long the pass stays valid after its start, 60 to 480 minutes. The tenant's Temporary
      Access Pass policy may narrow this range.
  OneTimeUseOnly (Boolean, default true)
      Whether the pass works for a single sign-in. The tenant policy may force one-time use.
  StartDateTime (String, default now)
      When the pass becomes usable, as RFC 3339 with an offset (2026-11-29T09:00:00+01:00). Empty
      means now. Not more than 5 minutes in the past.
  NotifyUser (Boolean, default false)
      Send the user an email saying that a pass was created for their account. The email never
      contains the pass. Requires EmailFrom.
  LanguageOverride (String, default "")
      Language of the notification email. Empty chooses from the user's preferred language, then
      usage location, then English.
  EmailFrom (String, default "")
      Mailbox the notification is sent from. Required when NotifyUser is set.
  ServiceDeskDisplayName (String, default "")
      Name of the Service Desk shown in the email.
  ServiceDeskEmail (String, default "")
      Service Desk email address, shown as a mailto link.
  ServiceDeskPhone (String, default "")
      Service Desk phone number, shown as a tel link.
  ServiceDeskPortalUrl (String, default "")
      https link to the Service Desk portal.
  ServiceDeskTicketUrl (String, default "")
      https link where the user can open a Service Desk ticket.
  BrandingHeaderImageUrl (String, default "")
      https URL of a PNG, JPEG or GIF (at most 200 KB) shown at the top of the email.
  BrandingFooterImageUrl (String, default "")
      https URL of a PNG, JPEG or GIF (at most 200 KB) shown at the bottom of the email.
  BrandingFooterLink (String, default "")
      https link behind the footer image.
  BrandingAccentColor (String, default "")
      Accent colour of the email as #RRGGBB. An invalid value gives a warning and the default
      colour.
  BrandingTextColor (String, default "")
      Text colour of the email as #RRGGBB. An invalid value gives a warning and the default
      colour.
  CallerName (String, default — (required))
      The operator who started the job, recorded for the audit trail.

Options of this runbook:
  Verbose=true
      also print Verbose messages
  DryRun=true
      rehearse: do every read and check, report what would be removed and created,
      change nothing and send nothing (tap-runbook --what-if)

Generated from runbook.json, version 1.0.0.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile

RUNBOOK = "rjgit-user_security_create-temporary-access-pass"
PARAMETERS = (
    "UserName",
    "LifetimeInMinutes",
    "OneTimeUseOnly",
    "StartDateTime",
    "NotifyUser",
    "LanguageOverride",
    "EmailFrom",
    "ServiceDeskDisplayName",
    "ServiceDeskEmail",
    "ServiceDeskPhone",
    "ServiceDeskPortalUrl",
    "ServiceDeskTicketUrl",
    "BrandingHeaderImageUrl",
    "BrandingFooterImageUrl",
    "BrandingFooterLink",
    "BrandingAccentColor",
    "BrandingTextColor",
    "CallerName",
)
OPTIONS = ("Verbose", "DryRun")


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
