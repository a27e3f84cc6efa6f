//! The scripts a job host runs around the binary, rendered from the manifest: the Azure
//! Automation runbooks (PowerShell and Python) and the script that grants the Graph
//! permissions. The copies under `hosts/azure-automation/` are these renderings written out;
//! a test keeps them equal.

mod permissions;
mod powershell;
mod python;

use clap::ValueEnum;

use crate::manifest::{Manifest, ParamType, ParameterSpec};

pub use permissions::az_rest_markdown;

/// Where the rendered scripts are committed, relative to the repository root.
pub const HOSTS_DIR: &str = "hosts/azure-automation";

/// The Automation variable that names the binary's path.
pub const PATH_VARIABLE: &str = "TapRunbookPath";

/// The Automation variable that holds the tenant's customization document.
pub const CUSTOMIZATION_VARIABLE: &str = "TapRunbookCustomization";

/// The environment variable that names the binary's path; it wins over everything else.
pub const EXE_ENV: &str = "TAP_RUNBOOK_EXE";

/// The environment variable that names a customization file; it wins over the variable.
pub const CUSTOMIZATION_ENV: &str = "TAP_RUNBOOK_CUSTOMIZATION";

/// The install folder under `%ProgramFiles%` on Windows.
pub const WINDOWS_INSTALL_DIR: &str = "tap-runbook";

/// The binary's path when nothing else names it, on Linux.
pub const LINUX_DEFAULT_EXE: &str = "/opt/tap-runbook/tap-runbook";

/// Microsoft Graph's application id, the same in every tenant.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// One script a job host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HostScript {
    /// The PowerShell 7.2+ runbook, a drop-in for RealmJoin's.
    Powershell,
    /// The Python 3.8+ runbook.
    Python,
    /// The Microsoft Graph PowerShell script that grants the app roles.
    GrantPermissions,
}

impl HostScript {
    /// Every script, in the order the README lists them.
    pub const ALL: [HostScript; 3] = [Self::Powershell, Self::Python, Self::GrantPermissions];

    /// The committed file's name inside [`HOSTS_DIR`].
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Powershell => "create-temporary-access-pass.ps1",
            Self::Python => "create_temporary_access_pass.py",
            Self::GrantPermissions => "grant-permissions.ps1",
        }
    }

    /// The script's text, rendered from the manifest.
    pub fn render(self, m: &Manifest) -> String {
        match self {
            Self::Powershell => powershell::render(m),
            Self::Python => python::render(m),
            Self::GrantPermissions => permissions::render(m),
        }
    }
}

/// A PowerShell single-quoted string literal: nothing inside is expanded, and `'` is doubled.
fn ps_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A Python string literal. JSON's string syntax is a subset of Python's.
fn py_quote(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// The PowerShell type accelerator of a parameter type.
fn ps_type(kind: ParamType) -> &'static str {
    match kind {
        ParamType::String => "string",
        ParamType::Int32 => "int",
        ParamType::Boolean => "bool",
    }
}

/// A parameter's manifest default as a PowerShell literal, if it has one.
fn ps_default(p: &ParameterSpec) -> Option<String> {
    use serde_json::Value;
    p.default.as_ref().map(|v| match v {
        Value::Bool(true) => "$true".to_owned(),
        Value::Bool(false) => "$false".to_owned(),
        Value::String(s) => ps_quote(s),
        other => other.to_string(),
    })
}

/// Help text for a comment block: lines indented by four spaces. Text that would end the
/// block early (`#>`) never comes from the manifest; a test holds that.
fn help_lines(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}\n"))
        .collect::<String>()
}

/// Words wrapped at 92 columns, so help text reads well at 100 with its indent.
fn wrap(text: &str) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.len() > 92 {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

/// The manifest's permission names, required or optional.
fn permission_names(m: &Manifest, required: bool) -> Vec<&str> {
    m.permissions
        .application
        .iter()
        .filter(|p| p.required == required)
        .map(|p| p.name.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed copy of every script is what the code renders from runbook.json; with
    /// `TAP_RUNBOOK_WRITE_HOSTS=1` the files are written instead of failing.
    #[test]
    fn committed_host_scripts_are_the_rendered_ones() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(HOSTS_DIR);
        let mut stale = Vec::new();
        for script in HostScript::ALL {
            let path = dir.join(script.file_name());
            let rendered = script.render(Manifest::get());
            if std::fs::read_to_string(&path).ok().as_deref() != Some(rendered.as_str()) {
                if std::env::var_os("TAP_RUNBOOK_WRITE_HOSTS").is_some() {
                    std::fs::create_dir_all(&dir).unwrap();
                    std::fs::write(&path, &rendered).unwrap();
                }
                stale.push(script.file_name());
            }
        }
        assert!(
            stale.is_empty(),
            "{stale:?} under {HOSTS_DIR} are stale: run `TAP_RUNBOOK_WRITE_HOSTS=1 cargo test --lib hosts` and commit them"
        );
    }

    #[test]
    fn manifest_text_cannot_break_out_of_a_powershell_comment_block() {
        let m = Manifest::get();
        let texts = std::iter::once(m.description.as_str())
            .chain(m.parameters.iter().map(|p| p.description.as_str()))
            .chain(m.permissions.application.iter().map(|p| p.reason.as_str()));
        for text in texts {
            assert!(!text.contains("#>") && !text.contains("<#"), "{text}");
        }
    }

    /// The runbooks' code looks where their help says it looks.
    #[test]
    fn runbooks_use_the_documented_names_and_paths() {
        let m = Manifest::get();
        let ps = HostScript::Powershell.render(m);
        let py = HostScript::Python.render(m);
        for needle in [
            format!("$env:{EXE_ENV}"),
            format!("$env:{CUSTOMIZATION_ENV}"),
            format!("Get-AutomationSetting '{PATH_VARIABLE}'"),
            format!("Get-AutomationSetting '{CUSTOMIZATION_VARIABLE}'"),
            format!("Join-Path $env:ProgramFiles '{WINDOWS_INSTALL_DIR}' 'tap-runbook.exe'"),
            format!("'{LINUX_DEFAULT_EXE}'"),
        ] {
            assert!(ps.contains(&needle), "{needle}");
        }
        for needle in [
            format!("os.environ.get(\"{EXE_ENV}\")"),
            format!("os.environ.get(\"{CUSTOMIZATION_ENV}\")"),
            format!("automation_variable(\"{PATH_VARIABLE}\")"),
            format!("automation_variable(\"{CUSTOMIZATION_VARIABLE}\")"),
            format!("\"{WINDOWS_INSTALL_DIR}\", \"tap-runbook.exe\""),
            format!("\"{LINUX_DEFAULT_EXE}\""),
        ] {
            assert!(py.contains(&needle), "{needle}");
        }
    }

    #[test]
    fn wrapping_keeps_every_word() {
        let wrapped = wrap(&"word ".repeat(50));
        assert!(wrapped.lines().all(|l| l.len() <= 92));
        assert_eq!(wrapped.split_whitespace().count(), 50);
    }

    #[test]
    fn quoting_keeps_text_literal() {
        assert_eq!(ps_quote("it's $x"), "'it''s $x'");
        assert_eq!(py_quote("a\"b\\c"), r#""a\"b\\c""#);
    }
}
