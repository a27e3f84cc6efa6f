//! `create-temporary-access-pass.ps1`: the PowerShell 7.2+ runbook, a drop-in for RealmJoin's
//! runbook of the same name. Its help, `.INPUTS` customization and param block come from the
//! manifest; the rest starts the binary and maps its records to PowerShell's streams.
//!
//! The script uses single-quoted strings and `-f` formatting only, with no backtick escapes, so
//! nothing in it is expanded by surprise and the syntax check's grammar reads it as PowerShell
//! does.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::ser::PrettyFormatter;

use super::{
    CUSTOMIZATION_ENV, CUSTOMIZATION_VARIABLE, EXE_ENV, LINUX_DEFAULT_EXE, PATH_VARIABLE,
    WINDOWS_INSTALL_DIR, help_lines, permission_names, ps_default, ps_quote, ps_type, wrap,
};
use crate::manifest::Manifest;

/// The wrapper's own parameter (not the manifest's): run the binary with `--what-if`.
pub const DRY_RUN: &str = "DryRun";

/// Renders the runbook.
pub fn render(m: &Manifest) -> String {
    let mut out = String::from("<#\n");
    out.push_str(&help(m));
    out.push_str("#>\n\n#Requires -Version 7.2\n\n");
    out.push_str(&param_block(m));
    out.push_str(&parameter_names(m));
    out.push_str(&BODY.replace("@RUNBOOK@", &ps_quote(&m.name)));
    out
}

fn help(m: &Manifest) -> String {
    let mut out = format!(".SYNOPSIS\n{}", help_lines(&m.display_name));
    out.push_str(".DESCRIPTION\n");
    out.push_str(&help_lines(&wrap(&m.description)));
    out.push('\n');
    out.push_str(&help_lines(&wrap(&format!(
        "This runbook starts tap-runbook on the Hybrid Runbook Worker and writes what it reports to \
         the Output, Verbose, Warning and Error streams, then the result record as an object. A \
         job that fails or is stopped ends with an error \"<code>: <message>\". The binary is the \
         one named by the environment variable {EXE_ENV}, else by the Automation variable \
         {PATH_VARIABLE}, else %ProgramFiles%\\{WINDOWS_INSTALL_DIR}\\tap-runbook.exe on Windows \
         and {LINUX_DEFAULT_EXE} on Linux. The tenant's customization is the file named by \
         {CUSTOMIZATION_ENV}, else the text of the Automation variable {CUSTOMIZATION_VARIABLE}. \
         Generated from runbook.json, version {}.",
        m.version
    ))));
    for p in &m.parameters {
        let _ = write!(
            out,
            "\n.PARAMETER {}\n{}",
            p.name,
            help_lines(&wrap(&p.description))
        );
    }
    let _ = write!(
        out,
        "\n.PARAMETER {DRY_RUN}\n{}",
        help_lines(&wrap(
            "Rehearse: do every read and check, report what would be removed and created, \
             change nothing and send nothing (tap-runbook --what-if)."
        ))
    );
    out.push_str("\n.NOTES\n    Microsoft Graph application permissions needed:\n");
    for name in permission_names(m, true) {
        let _ = writeln!(out, "    - {name}");
    }
    out.push_str("    Optional:\n");
    for name in permission_names(m, false) {
        let _ = writeln!(out, "    - {name}");
    }
    // RealmJoin reads this block as JSON, written at the start of the line.
    let _ = write!(
        out,
        "\n.INPUTS\nRunbookCustomization: {}\n",
        four_space_json(&m.default_customization)
    );
    out
}

fn param_block(m: &Manifest) -> String {
    let mut out = String::from("param(\n");
    for p in &m.parameters {
        if p.required {
            out.push_str("    [Parameter(Mandatory = $true)]\n");
        }
        let _ = write!(out, "    [{}] ${}", ps_type(p.kind), p.name);
        if let Some(default) = ps_default(p) {
            let _ = write!(out, " = {default}");
        }
        out.push_str(",\n");
    }
    let _ = write!(out, "    [bool] ${DRY_RUN} = $false\n)\n\n");
    out
}

fn parameter_names(m: &Manifest) -> String {
    let mut out = String::from(
        "# Only the parameters the caller gave are passed on: tap-runbook applies the manifest's\n\
         # defaults, the tenant's settings and the customization under them itself.\n\
         $parameterNames = @(\n",
    );
    for p in &m.parameters {
        let _ = writeln!(out, "    {}", ps_quote(&p.name));
    }
    out.push_str(")\n");
    out
}

/// JSON indented by four spaces, as RealmJoin's runbooks write their `.INPUTS` block.
fn four_space_json(value: &serde_json::Value) -> String {
    let mut bytes = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut bytes, PrettyFormatter::with_indent(b"    "));
    value.serialize(&mut ser).expect("a JSON value serializes");
    String::from_utf8(bytes).expect("JSON is UTF-8")
}

const BODY: &str = r#"
$invocation = [ordered]@{
    runbook    = @RUNBOOK@
    parameters = [ordered]@{}
}
foreach ($name in $parameterNames) {
    if ($PSBoundParameters.ContainsKey($name)) {
        $invocation.parameters[$name] = $PSBoundParameters[$name]
    }
}
$metadata = Get-Variable -Name 'PSPrivateMetadata' -ValueOnly -ErrorAction SilentlyContinue
if ($metadata -and $metadata.JobId) {
    $invocation.jobId = [string] $metadata.JobId
}

# An Automation variable, or nothing when it or the command does not exist (outside Automation).
function Get-AutomationSetting([string] $Name) {
    if (-not (Get-Command -Name 'Get-AutomationVariable' -ErrorAction SilentlyContinue)) {
        return $null
    }
    try {
        return Get-AutomationVariable -Name $Name -ErrorAction Stop
    }
    catch {
        Write-Verbose ('Automation variable {0} not read: {1}' -f $Name, $_.Exception.Message)
        return $null
    }
}

$exe = $env:TAP_RUNBOOK_EXE
if (-not $exe) {
    $exe = Get-AutomationSetting 'TapRunbookPath'
}
if (-not $exe) {
    if ($IsWindows) {
        $exe = Join-Path $env:ProgramFiles 'tap-runbook' 'tap-runbook.exe'
    }
    else {
        $exe = '/opt/tap-runbook/tap-runbook'
    }
}
if (-not (Test-Path -LiteralPath $exe -PathType Leaf)) {
    throw ('tap-runbook was not found at {0}: install it there, or name its path in the Automation variable TapRunbookPath' -f $exe)
}

$arguments = @('run', '--invocation', '-', '--format', 'ndjson')
if ($DryRun) {
    $arguments += '--what-if'
}
$customizationFile = $null
if ($env:TAP_RUNBOOK_CUSTOMIZATION) {
    $arguments += @('--customization', $env:TAP_RUNBOOK_CUSTOMIZATION)
}
else {
    $customization = Get-AutomationSetting 'TapRunbookCustomization'
    if ($customization) {
        $customizationFile = New-TemporaryFile
        [System.IO.File]::WriteAllText($customizationFile.FullName, [string] $customization)
        $arguments += @('--customization', $customizationFile.FullName)
    }
}

# tap-runbook writes UTF-8 whatever the worker's code page; the invocation goes in as ASCII.
$utf8 = [System.Text.UTF8Encoding]::new($false)
$OutputEncoding = $utf8
try {
    [Console]::OutputEncoding = $utf8
}
catch {
    Write-Verbose ('Console encoding left as it is: {0}' -f $_.Exception.Message)
}
$invocationJson = ConvertTo-Json -InputObject $invocation -Compress -EscapeHandling EscapeNonAscii

# Each record is written the moment it arrives, so the pass reaches Output even if the job
# is ended before the binary exits.
$result = $null
try {
    $invocationJson | & $exe @arguments | ForEach-Object {
        $record = ConvertFrom-Json -InputObject $_
        if ($record.type -eq 'result') {
            $result = $record
        }
        else {
            switch ($record.stream) {
                'Output' { Write-Output $record.message }
                'Verbose' { Write-Verbose $record.message }
                'Warning' { Write-Warning $record.message }
                'Error' { Write-Error -Message $record.message -ErrorAction Continue }
            }
        }
    }
    $exitCode = $LASTEXITCODE
}
finally {
    if ($customizationFile) {
        Remove-Item -LiteralPath $customizationFile.FullName -Force -ErrorAction SilentlyContinue
    }
}

if (-not $result) {
    throw ('tap-runbook ended with exit code {0} and wrote no result record' -f $exitCode)
}
Write-Output $result
if ($result.status -ne 'Completed') {
    if ($result.error) {
        throw ('{0}: {1}' -f $result.error.code, $result.error.message)
    }
    throw ('{0}: the job was stopped before it finished; the result above holds what was done' -f $result.status)
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_block_has_the_manifest_parameters_with_types_defaults_and_mandatory() {
        let block = param_block(Manifest::get());
        assert!(block.contains("    [Parameter(Mandatory = $true)]\n    [string] $UserName,\n"));
        assert!(block.contains("    [int] $LifetimeInMinutes = 240,\n"));
        assert!(block.contains("    [bool] $OneTimeUseOnly = $true,\n"));
        assert!(block.contains("    [string] $LanguageOverride = '',\n"));
        assert!(block.contains("    [Parameter(Mandatory = $true)]\n    [string] $CallerName,\n"));
        assert!(block.ends_with("    [bool] $DryRun = $false\n)\n\n"));
        let lines: Vec<&str> = block.lines().collect();
        for p in &Manifest::get().parameters {
            let at = lines
                .iter()
                .position(|l| l.contains(&format!("] ${}", p.name)))
                .unwrap();
            let default = p.default.as_ref().map(|d| match d {
                serde_json::Value::String(s) => format!("'{s}'"),
                serde_json::Value::Bool(b) => format!("${b}"),
                other => other.to_string(),
            });
            let expected = format!(
                "    [{}] ${}{},",
                ps_type(p.kind),
                p.name,
                default.map_or(String::new(), |d| format!(" = {d}"))
            );
            assert_eq!(lines[at], expected);
            assert_eq!(
                lines[at - 1] == "    [Parameter(Mandatory = $true)]",
                p.required,
                "{}",
                p.name
            );
        }
    }

    #[test]
    fn inputs_block_is_the_default_customization_in_realmjoin_layout() {
        let m = Manifest::get();
        let text = render(m);
        let start = text.find("RunbookCustomization: ").unwrap() + "RunbookCustomization: ".len();
        let end = text.find("\n#>").unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&text[start..end]).unwrap();
        assert_eq!(parsed, m.default_customization);
        assert!(text[start..end].contains("\n    \"Parameters\": {\n        \"UserName\""));
    }
}
