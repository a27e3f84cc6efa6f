//! The runbook manifest (`runbook.json`), embedded at build time: the single source of truth
//! for the runbook's name, version, parameters and permissions.

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

/// The manifest file as shipped.
pub const MANIFEST_JSON: &str = include_str!("../runbook.json");

/// The runbook manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub display_name: String,
    pub location: Vec<String>,
    pub version: String,
    pub description: String,
    pub permissions: Permissions,
    pub parameters: Vec<ParameterSpec>,
    /// The runbook's own customization, applied below the tenant's.
    pub default_customization: Value,
}

/// Graph permissions the runbook asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    pub application: Vec<Permission>,
}

/// One Graph application permission and why it is needed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    pub name: String,
    pub required: bool,
    pub reason: String,
}

/// The declared type of a parameter, with PowerShell's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ParamType {
    String,
    Int32,
    Boolean,
}

impl ParamType {
    /// The name used in messages and the README.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "String",
            Self::Int32 => "Int32",
            Self::Boolean => "Boolean",
        }
    }
}

/// A value format a string parameter must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `local@domain` or an object id (GUID).
    UpnOrObjectId,
    /// RFC 3339 with an offset.
    DateTime,
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// An absolute https URL.
    HttpsUrl,
    /// `#RRGGBB`; an invalid value is a warning, not an error.
    Color,
}

/// One parameter of the runbook.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParameterSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ParamType,
    #[serde(default)]
    pub required: bool,
    pub default: Option<Value>,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    pub format: Option<Format>,
    pub allowed: Option<Vec<String>>,
    /// Path under the customization's `Settings` that feeds this parameter.
    pub setting: Option<String>,
    /// Only the tenant sets this value (a setting or the customization's `Default`): an
    /// invocation may repeat it but not change it, unless the tenant's customization sets
    /// `AllowEdit: true` for it. For values that make the job connect somewhere or send the
    /// user somewhere, such as the branding image URLs.
    #[serde(default)]
    pub tenant_owned: bool,
    pub display_name: String,
    pub description: String,
}

impl Manifest {
    /// The embedded manifest. It is compiled in and checked by tests, so a parse failure is a
    /// build defect, not a runtime condition.
    pub fn get() -> &'static Manifest {
        static MANIFEST: OnceLock<Manifest> = OnceLock::new();
        MANIFEST.get_or_init(|| {
            serde_json::from_str(MANIFEST_JSON)
                .expect("runbook.json embedded in the binary is valid")
        })
    }

    /// The parameter with this name, matched case-insensitively.
    pub fn parameter(&self, name: &str) -> Option<&ParameterSpec> {
        self.parameters
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

impl ParameterSpec {
    /// The default as a person writes it, for the README and `--help`-like listings.
    pub fn default_text(&self) -> String {
        match &self.default {
            None => "— (required)".into(),
            Some(Value::String(s)) if s.is_empty() && self.name == "StartDateTime" => "now".into(),
            Some(Value::String(s)) if s.is_empty() => "\"\"".into(),
            Some(v) => v.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_manifest_is_consistent() {
        let m = Manifest::get();
        assert_eq!(m.name, "rjgit-user_security_create-temporary-access-pass");
        let mut names: Vec<_> = m.parameters.iter().map(|p| p.name.to_lowercase()).collect();
        names.sort();
        names.dedup();
        assert_eq!(
            names.len(),
            m.parameters.len(),
            "parameter names are unique"
        );
        for p in &m.parameters {
            assert!(
                p.required != p.default.is_some(),
                "{}: a parameter is either required or has a default",
                p.name
            );
            if p.minimum.is_some() || p.maximum.is_some() {
                assert_eq!(p.kind, ParamType::Int32, "{}: ranges are for Int32", p.name);
            }
        }
        assert!(m.parameter("lifetimeinminutes").is_some());
    }

    #[test]
    fn the_crate_version_is_the_manifest_version() {
        assert_eq!(
            env!("CARGO_PKG_VERSION"),
            Manifest::get().version,
            "Cargo.toml's version must equal runbook.json's"
        );
    }

    #[test]
    fn language_override_offers_exactly_the_shipped_languages() {
        let allowed = Manifest::get()
            .parameter("LanguageOverride")
            .unwrap()
            .allowed
            .clone()
            .unwrap();
        let mut expected = vec![String::new()];
        expected.extend(
            crate::notify::SHIPPED_LANGUAGES
                .iter()
                .map(|l| (*l).to_owned()),
        );
        assert_eq!(allowed, expected);
    }
}
