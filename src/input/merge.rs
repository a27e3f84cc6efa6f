//! The merge, lowest to highest: manifest default → setting → customization `Default` →
//! invocation value. Each resolved value remembers where it came from.

use std::fmt;

use serde_json::Value;
use time::OffsetDateTime;

use super::customization::{Customization, Modifiers};
use super::invocation::Invocation;
use super::rules::{self, Accepted, TypedValue, Verdict, allowed_text};
use super::suggest::did_you_mean;
use super::value::{ParamValue, coerce, display_key};
use crate::job::Problem;
use crate::manifest::{Format, Manifest, ParameterSpec};

/// Where a resolved value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The manifest's default.
    Default,
    /// A tenant setting, with its path under `Settings`.
    Setting(String),
    /// The customization's `Default`.
    Customization,
    /// The invocation.
    Invocation,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::Setting(path) => write!(f, "setting Settings.{path}"),
            Self::Customization => f.write_str("customization"),
            Self::Invocation => f.write_str("invocation"),
        }
    }
}

/// One parameter after the merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedParameter {
    pub name: String,
    /// The value as written.
    pub value: ParamValue,
    /// The value in its format's type, when the parameter has a format and the value is set.
    pub typed: Option<TypedValue>,
    pub source: Source,
    /// Hidden from the form by the customization.
    pub hidden: bool,
    /// Fixed by the customization; the invocation may not change it.
    pub read_only: bool,
}

/// Every parameter of the manifest, resolved, in manifest order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedParameters(pub Vec<ResolvedParameter>);

impl ResolvedParameters {
    /// The parameter named `name` (canonical name).
    pub fn get(&self, name: &str) -> Option<&ResolvedParameter> {
        self.0.iter().find(|p| p.name == name)
    }

    /// The string value of `name`, `None` when empty.
    pub fn text(&self, name: &str) -> Option<String> {
        match self.get(name).map(|p| &p.value) {
            Some(ParamValue::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }
    }

    /// The Boolean value of `name`.
    pub fn flag(&self, name: &str) -> bool {
        matches!(
            self.get(name).map(|p| &p.value),
            Some(ParamValue::Boolean(true))
        )
    }

    /// As JSON: `{ name: { value, source } }`, for `validate` and Verbose lines.
    pub fn to_json(&self) -> Value {
        let map = self
            .0
            .iter()
            .map(|p| {
                let mut entry = serde_json::json!({ "value": p.value.to_json(), "source": p.source.to_string() });
                if p.hidden {
                    entry["hidden"] = Value::Bool(true);
                }
                if p.read_only {
                    entry["readOnly"] = Value::Bool(true);
                }
                (p.name.clone(), entry)
            })
            .collect();
        Value::Object(map)
    }
}

/// What the merge produced besides the values.
#[derive(Debug, Default)]
pub struct MergeReport {
    pub problems: Vec<Problem>,
    /// Non-fatal problems (an invalid colour falls back to the default).
    pub warnings: Vec<String>,
    /// Detail for the Verbose stream.
    pub notes: Vec<String>,
}

/// Merges the layers for every parameter and checks every rule. Problems are collected, not
/// returned at the first one, so the caller can report them all together.
pub fn merge(
    invocation: &Invocation,
    tenant: &Customization,
    now: OffsetDateTime,
) -> (ResolvedParameters, MergeReport) {
    let m = Manifest::get();
    let own = Customization::runbook_default();
    let mut report = MergeReport::default();
    let given = given_values(invocation, m, &mut report);
    let mut resolved = Vec::new();
    // Hidden fields that a wrapper fills in (UserName, CallerName) come with every call: one
    // note names them all rather than one line each on every run.
    let mut hidden_given = Vec::new();
    for spec in &m.parameters {
        let problems_before = report.problems.len();
        let tenant_mods = tenant.modifiers(&spec.name);
        let own_mods = own.modifiers(&spec.name);
        let pick = |f: fn(&Modifiers) -> Option<bool>| {
            tenant_mods
                .and_then(f)
                .or_else(|| own_mods.and_then(f))
                .unwrap_or(false)
        };
        let hidden = pick(|m| m.hide);
        let read_only = pick(|m| m.read_only);
        let mandatory = pick(|m| m.mandatory);
        let allow_edit = pick(|m| m.allow_edit);

        // The manifest's default passes the same rule, so it has its typed form too.
        let mut current: Option<(Accepted, Source)> = spec
            .default
            .as_ref()
            .and_then(|d| coerce(spec, d).ok().flatten())
            .and_then(|v| match rules::check(spec, v, now) {
                Verdict::Accept(accepted) => Some((accepted, Source::Default)),
                Verdict::Warn(..) | Verdict::Refuse(_) => None,
            });

        if let Some(path) = &spec.setting
            && let Some(raw) = tenant.setting(path).filter(|v| !is_blank(v))
        {
            let field = format!("customization.Settings.{path}");
            if let Some(v) = accept(spec, raw, &field, now, &mut report) {
                current = Some((v, Source::Setting(path.clone())));
            }
        }
        if let Some(mods) = tenant_mods
            && let Some(raw) = &mods.default
        {
            let field = format!("{}.Default", mods.path);
            if let Some(v) = accept(spec, raw, &field, now, &mut report) {
                current = Some((v, Source::Customization));
            }
        }
        if let Some((written, raw)) = given
            .iter()
            .find(|(n, _, _)| *n == spec.name)
            .map(|(_, w, r)| (w, r))
        {
            let field = format!("parameters.{}", display_key(written));
            if let Some(given) = accept(spec, raw, &field, now, &mut report) {
                let v = &given.value;
                if hidden {
                    hidden_given.push(spec.name.as_str());
                }
                if read_only
                    && let Some((Accepted { value: fixed, .. }, _)) = &current
                    && !same_value(spec, fixed, v)
                {
                    report.problems.push(Problem {
                                field: field.clone(),
                                problem: format!("is read-only in this tenant's customization and fixed to {fixed}; {v} was given"),
                                allowed: Some(format!("{fixed}, or leave it out")),
                            });
                }
                // A tenant-owned value (a branding URL) is read-only unless the tenant
                // opens it: the operator must not choose where the job connects to.
                if spec.tenant_owned
                    && !allow_edit
                    && !read_only
                    && let Some((Accepted { value: fixed, .. }, _)) = &current
                    && !same_value(spec, fixed, v)
                {
                    let configured = match fixed {
                        ParamValue::String(s) if s.is_empty() => {
                            "the tenant has not set it".to_owned()
                        }
                        _ => format!("the tenant set it to {fixed}"),
                    };
                    report.problems.push(Problem {
                        field: field.clone(),
                        problem: format!(
                            "is set by the tenant only ({configured}); {v} was given"
                        ),
                        allowed: Some(format!(
                            "{fixed}, or leave it out; the tenant's customization may allow other values with \"AllowEdit\": true for {}",
                            spec.name
                        )),
                    });
                }
                if let (Some(options), false) =
                    (tenant_mods.and_then(|m| m.options.as_ref()), allow_edit)
                {
                    let offered: Vec<ParamValue> = options
                        .iter()
                        .filter_map(|o| coerce(spec, o).ok().flatten())
                        .collect();
                    if !offered.iter().any(|o| same_value(spec, o, v)) {
                        let list: Vec<String> = offered.iter().map(ToString::to_string).collect();
                        report.problems.push(Problem {
                            field,
                            problem: format!(
                                "{v} is not one of the choices this tenant's customization offers"
                            ),
                            allowed: Some(list.join(", ")),
                        });
                    }
                }
                current = Some((given, Source::Invocation));
            }
        }

        let missing = match &current {
            None => true,
            Some((accepted, _)) => accepted.value.as_str() == Some(""),
        };
        // A refused value was reported already; "is required" would only repeat it.
        let refused = report.problems.len() > problems_before;
        if missing && !refused && (spec.required || mandatory) {
            report.problems.push(Problem {
                field: format!("parameters.{}", spec.name),
                problem: if spec.required {
                    "is required".into()
                } else {
                    "is mandatory in this tenant's customization".into()
                },
                allowed: Some(allowed_text(spec)),
            });
        }
        if let Some((Accepted { value, typed }, source)) = current {
            resolved.push(ResolvedParameter {
                name: spec.name.clone(),
                value,
                typed,
                source,
                hidden,
                read_only,
            });
        }
    }
    if !hidden_given.is_empty() {
        report.notes.push(format!(
            "Given by the caller though hidden in the form (a wrapper runbook fills these in): {}",
            hidden_given.join(", ")
        ));
    }
    let resolved = ResolvedParameters(resolved);
    if resolved.flag("NotifyUser") && resolved.text("EmailFrom").is_none() {
        report.problems.push(Problem {
            field: "parameters.EmailFrom".into(),
            problem: "is required when NotifyUser is true".into(),
            allowed: Some("the sender mailbox's address, given here or as Settings.RJReport.EmailSender in the customization".into()),
        });
    }
    (resolved, report)
}

/// The invocation's values by canonical name; unknown names become problems with a hint.
fn given_values(
    invocation: &Invocation,
    m: &Manifest,
    report: &mut MergeReport,
) -> Vec<(String, String, Value)> {
    let names: Vec<&str> = m.parameters.iter().map(|p| p.name.as_str()).collect();
    let mut out: Vec<(String, String, Value)> = Vec::new();
    for (written, raw) in &invocation.parameters {
        match m.parameter(written) {
            Some(spec) if out.iter().any(|(n, _, _)| *n == spec.name) => {
                report.problems.push(Problem {
                    field: format!("parameters.{}", display_key(written)),
                    problem: format!(
                        "gives {} a second time (names match in any letter case)",
                        spec.name
                    ),
                    allowed: None,
                })
            }
            Some(spec) => out.push((spec.name.clone(), written.clone(), raw.clone())),
            None => report.problems.push(Problem {
                field: format!("parameters.{}", display_key(written)),
                problem: format!(
                    "is not a parameter of this runbook{}",
                    did_you_mean(written, &names)
                ),
                allowed: Some(names.join(", ")),
            }),
        }
    }
    out
}

/// Coerces and checks one layer's value; records a problem or warning and returns the value
/// to use, if any.
fn accept(
    spec: &ParameterSpec,
    raw: &Value,
    field: &str,
    now: OffsetDateTime,
    report: &mut MergeReport,
) -> Option<Accepted> {
    let value = match coerce(spec, raw) {
        Ok(v) => v?,
        Err(problem) => {
            report.problems.push(Problem {
                field: field.to_owned(),
                problem,
                allowed: Some(allowed_text(spec)),
            });
            return None;
        }
    };
    match rules::check(spec, value, now) {
        Verdict::Accept(v) => Some(v),
        Verdict::Warn(v, warning) => {
            report.warnings.push(warning);
            Some(Accepted::plain(v))
        }
        Verdict::Refuse(problem) => {
            report.problems.push(Problem {
                field: field.to_owned(),
                problem,
                allowed: Some(allowed_text(spec)),
            });
            None
        }
    }
}

fn is_blank(v: &Value) -> bool {
    v.is_null() || v.as_str().is_some_and(str::is_empty)
}

/// Email addresses compare without regard to case; everything else exactly.
fn same_value(spec: &ParameterSpec, a: &ParamValue, b: &ParamValue) -> bool {
    match (a, b, spec.format) {
        (
            ParamValue::String(x),
            ParamValue::String(y),
            Some(Format::Email | Format::UpnOrObjectId),
        ) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::customization;
    use serde_json::json;

    fn merged(inv: Value, cust: Value) -> (ResolvedParameters, MergeReport) {
        let (invocation, problems) = crate::input::invocation::load(inv.to_string().as_bytes());
        assert!(problems.is_empty());
        let tenant = customization::from_value(cust).unwrap();
        merge(&invocation, &tenant, OffsetDateTime::now_utc())
    }

    #[test]
    fn hidden_fields_every_caller_gives_are_noted_once() {
        let (_, report) = merged(
            json!({ "UserName": "a@contoso.com", "CallerName": "op" }),
            json!({}),
        );
        let hidden: Vec<&String> = report
            .notes
            .iter()
            .filter(|n| n.contains("hidden in the form"))
            .collect();
        assert_eq!(
            hidden,
            [
                "Given by the caller though hidden in the form (a wrapper runbook fills these in): UserName, CallerName"
            ]
        );
    }

    #[test]
    fn each_layer_overrides_the_one_below() {
        let base = json!({ "UserName": "a@contoso.com", "CallerName": "op" });
        let settings =
            json!({ "Settings": { "RJReport": { "ServiceDesk_DisplayName": "From setting" } } });
        let with_default = json!({
            "Settings": { "RJReport": { "ServiceDesk_DisplayName": "From setting" } },
            "Runbooks": { "rjgit-user_security_create-temporary-access-pass": {
                "Parameters": { "ServiceDeskDisplayName": { "Default": "From customization" } } } }
        });
        let mut given = base.clone();
        given["ServiceDeskDisplayName"] = json!("From invocation");

        let layers = [
            (base.clone(), json!({}), "", Source::Default),
            (
                base.clone(),
                settings,
                "From setting",
                Source::Setting("RJReport.ServiceDesk_DisplayName".into()),
            ),
            (
                base,
                with_default.clone(),
                "From customization",
                Source::Customization,
            ),
            (given, with_default, "From invocation", Source::Invocation),
        ];
        for (inv, cust, value, source) in layers {
            let (params, report) = merged(inv, cust);
            assert!(report.problems.is_empty(), "{:?}", report.problems);
            let p = params.get("ServiceDeskDisplayName").unwrap();
            assert_eq!((p.value.as_str().unwrap(), &p.source), (value, &source));
        }
    }

    #[test]
    fn read_only_allows_the_configured_value_in_any_case() {
        let cust = json!({
            "Settings": { "RJReport": { "EmailSender": "it-service@contoso.com" } },
            "Runbooks": { "rjgit-user_security_create-temporary-access-pass": { "Parameters": { "EmailFrom": { "ReadOnly": true } } } }
        });
        let same = json!({ "UserName": "a@contoso.com", "CallerName": "op", "EmailFrom": "IT-Service@contoso.com" });
        assert!(merged(same, cust.clone()).1.problems.is_empty());
        let other = json!({ "UserName": "a@contoso.com", "CallerName": "op", "EmailFrom": "ceo@contoso.com" });
        let problems = merged(other, cust).1.problems;
        assert_eq!(problems.len(), 1);
        assert!(problems[0].problem.contains("read-only"));
    }

    #[test]
    fn branding_urls_are_the_tenants_unless_it_allows_edits() {
        const RUNBOOK: &str = "rjgit-user_security_create-temporary-access-pass";
        let configured = json!({ "Settings": { "RJReport": { "Branding": {
            "HeaderImageUrl": "https://cdn.contoso.com/logo.png" } } } });
        let given = |url: &str| {
            json!({ "UserName": "a@contoso.com", "CallerName": "op", "BrandingHeaderImageUrl": url,
                    "BrandingFooterLink": "https://phish.example/login" })
        };
        let problems = merged(given("https://127.0.0.1:8443/x.png"), configured.clone())
            .1
            .problems;
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "parameters.BrandingHeaderImageUrl",
                "parameters.BrandingFooterLink"
            ]
        );
        assert!(
            problems[0].problem.contains("set by the tenant only"),
            "{}",
            problems[0].problem
        );
        assert!(
            problems[1].problem.contains("has not set it"),
            "{}",
            problems[1].problem
        );

        let same = given("https://cdn.contoso.com/logo.png");
        let mut same = same.as_object().unwrap().clone();
        same.remove("BrandingFooterLink");
        assert!(
            merged(Value::Object(same), configured)
                .1
                .problems
                .is_empty()
        );

        let open = json!({ "Runbooks": { RUNBOOK: { "Parameters": {
            "BrandingHeaderImageUrl": { "AllowEdit": true },
            "BrandingFooterLink": { "AllowEdit": true } } } } });
        let (params, report) = merged(given("https://cdn.fabrikam.com/x.png"), open);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(
            params.text("BrandingHeaderImageUrl").as_deref(),
            Some("https://cdn.fabrikam.com/x.png")
        );
    }

    #[test]
    fn every_manifest_default_passes_its_own_rule() {
        let now = OffsetDateTime::now_utc();
        for spec in &Manifest::get().parameters {
            let Some(default) = &spec.default else {
                continue;
            };
            let value = coerce(spec, default).unwrap().unwrap();
            assert!(
                matches!(rules::check(spec, value, now), Verdict::Accept(_)),
                "{}",
                spec.name
            );
        }
    }

    #[test]
    fn an_invalid_colour_is_a_warning_and_falls_back() {
        let inv = json!({ "UserName": "a@contoso.com", "CallerName": "op", "BrandingAccentColor": "blue" });
        let (params, report) = merged(inv, json!({}));
        assert!(report.problems.is_empty());
        assert_eq!(report.warnings.len(), 1);
        assert_eq!(params.text("BrandingAccentColor"), None);
    }
}
