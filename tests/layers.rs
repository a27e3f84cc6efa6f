//! The module layering ARCHITECTURE.md states, checked on the source: each module names only
//! the crate modules it may know (unit tests at the end of a file are not counted).

use std::path::{Path, PathBuf};

/// What the runbook's steps may know: the typed request, the ready Graph client, the job's
/// log, the notification and the user lock.
const WORKFLOW: &[&str] = &[
    "graph",
    "input",
    "job",
    "notify",
    "user_lock",
    "address",
    "secret",
    "text",
];

/// A module (a file or a folder under `src/`) and the crate modules it may use besides its
/// own.
const LAYERS: &[(&str, &[&str])] = &[
    ("net", &[]),
    ("manifest.rs", &[]),
    ("auth", &["net", "secret", "text", "job"]),
    ("graph", &["net", "auth", "secret", "text", "job"]),
    ("workflow.rs", WORKFLOW),
    ("workflow", WORKFLOW),
];

#[test]
fn each_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut breaches = Vec::new();
    for (module, allowed) in LAYERS {
        let own = module.trim_end_matches(".rs");
        for file in rust_files(&src.join(module)) {
            let text = std::fs::read_to_string(&file).unwrap();
            let code = text
                .split("#[cfg(test)]\nmod tests")
                .next()
                .unwrap_or_default();
            for used in crate_modules(code) {
                if used != own && !allowed.contains(&used.as_str()) {
                    breaches.push(format!("{} uses crate::{used}", file.display()));
                }
            }
        }
    }
    assert!(breaches.is_empty(), "{}", breaches.join("\n"));
}

/// The modules that may know the simulator crate: it is started for `--simulate` and served
/// by `simulator`, and nothing else may lean on its types.
const SIMULATOR_USERS: &[&str] = &["app.rs", "run_config.rs", "endpoint.rs"];

#[test]
fn only_the_run_set_up_knows_the_simulator() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let breaches: Vec<String> = rust_files(&src)
        .into_iter()
        .filter(|file| {
            let relative = file.strip_prefix(&src).unwrap().to_string_lossy();
            !SIMULATOR_USERS.contains(&relative.as_ref())
                && std::fs::read_to_string(file).unwrap().contains("graph_sim")
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(breaches.is_empty(), "{}", breaches.join("\n"));
}

/// The `.rs` files of a module: the file itself, or every file in its folder.
fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The top-level crate modules a source text names, in `crate::x` paths and in
/// `crate::{x, y::z}` groups.
fn crate_modules(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.push(first_segment(&group[start..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(first_segment(&group[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            names.push(first_segment(rest));
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

fn first_segment(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}
