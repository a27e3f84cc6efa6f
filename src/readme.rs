//! The README's sections generated from the manifest, kept apart from the manifest itself so
//! that it knows nothing of the input rules it describes.

use crate::input::rules::allowed_text;
use crate::manifest::Manifest;

/// The README's parameter table, generated from the manifest.
pub fn parameter_table_markdown(m: &Manifest) -> String {
    let mut out =
        String::from("| name | type | default | setting | rule |\n|---|---|---|---|---|\n");
    for p in &m.parameters {
        let setting = p
            .setting
            .as_ref()
            .map_or(String::new(), |s| format!("`Settings.{s}`"));
        let mut rule = allowed_text(p).replace('|', "\\|");
        if p.tenant_owned {
            rule.push_str("; set by the tenant only, unless its customization sets `AllowEdit`");
        }
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            p.name,
            p.kind.as_str(),
            p.default_text(),
            setting,
            rule
        ));
    }
    out
}
