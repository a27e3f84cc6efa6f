//! The process environment, captured once at start so nothing deep inside reads it and tests
//! can hand in exactly the variables they mean.

use std::collections::HashMap;
use std::fmt;

/// Environment variables by name. `Debug` lists names only: values include client secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: HashMap<String, String>,
}

impl Environment {
    /// The current process's environment (variables that are not valid Unicode are skipped).
    pub fn capture() -> Self {
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect()
    }

    /// A variable's value; an empty value counts as unset, as job hosts export empty ones.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Whether a variable is set to something.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Environment {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self {
            vars: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.vars.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("Environment")
            .field("names", &names)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_unset_and_debug_hides_values() {
        let env: Environment = [("AZURE_CLIENT_SECRET", "s3cr3t"), ("EMPTY", " ")]
            .into_iter()
            .collect();
        assert_eq!(env.get("AZURE_CLIENT_SECRET"), Some("s3cr3t"));
        assert!(!env.has("EMPTY"));
        assert!(!env.has("MISSING"));
        let debug = format!("{env:?}");
        assert!(debug.contains("AZURE_CLIENT_SECRET"));
        assert!(!debug.contains("s3cr3t"));
    }
}
