//! `Templates` and `$ref`: each `{ "$ref": "<id>" }` is replaced by the `$values` of the
//! template with that `$id`, within a nesting limit and an expansion budget.

use serde_json::Value;

use crate::input::problem;
use crate::input::value::display_key;
use crate::job::Problem;

/// How many JSON values `$ref` expansion may add to a document in total. Templates may refer
/// to templates, so without a budget a few kilobytes could expand to billions of values.
pub const MAX_TEMPLATE_EXPANSION: usize = 100_000;

/// How many templates may be pulled in inside one another.
const MAX_TEMPLATE_NESTING: usize = 8;

/// Every `{ "$id": …, "$values": … }` block anywhere under `Templates`.
pub(super) fn collect_templates(templates: Option<&Value>) -> Vec<(&str, &Value)> {
    fn walk<'a>(v: &'a Value, out: &mut Vec<(&'a str, &'a Value)>) {
        match v {
            Value::Object(o) => {
                if let (Some(Value::String(id)), Some(values)) = (o.get("$id"), o.get("$values")) {
                    out.push((id, values));
                }
                o.values().for_each(|c| walk(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(t) = templates {
        walk(t, &mut out);
    }
    out
}

/// Replaces each `{ "$ref": "<id>" }` with the `$values` of the template with that `$id`,
/// refusing cycles, deep nesting and expansion beyond [`MAX_TEMPLATE_EXPANSION`] values.
pub(super) struct Resolver<'t> {
    templates: &'t [(&'t str, &'t Value)],
    /// The templates being expanded, outermost first, to name a cycle.
    stack: Vec<&'t str>,
    /// Values expansion may still add.
    budget: usize,
    /// The budget ran out: stop, one problem is enough.
    exhausted: bool,
    /// Where the outermost `$ref` being expanded is written: problems found inside templates
    /// are reported there, since positions inside an expansion are in no file.
    origin: String,
}

impl<'t> Resolver<'t> {
    pub(super) fn new(templates: &'t [(&'t str, &'t Value)]) -> Self {
        Self {
            templates,
            stack: Vec::new(),
            budget: MAX_TEMPLATE_EXPANSION,
            exhausted: false,
            origin: String::new(),
        }
    }

    pub(super) fn resolve(&mut self, v: &mut Value, path: &str, problems: &mut Vec<Problem>) {
        if self.exhausted {
            return;
        }
        if let Value::Object(o) = v
            && o.len() == 1
            && let Some(Value::String(id)) = o.get("$ref")
        {
            if self.stack.is_empty() {
                self.origin = path.to_owned();
            }
            let path = self.origin.clone();
            let path = path.as_str();
            let Some(&(id, values)) = self.templates.iter().find(|(t, _)| t == id) else {
                problems.push(problem(
                    path,
                    format!(
                        "refers to the template \"{}\", which is not defined under Templates",
                        display_key(id)
                    ),
                    Some(
                        "the $id of a { \"$id\": …, \"$values\": … } block under Templates".into(),
                    ),
                ));
                return;
            };
            if self.stack.contains(&id) {
                let chain: Vec<String> = self
                    .stack
                    .iter()
                    .skip_while(|t| **t != id)
                    .chain([&id])
                    .map(|t| format!("\"{}\"", display_key(t)))
                    .collect();
                problems.push(problem(
                    path,
                    format!(
                        "template \"{}\" refers to itself ({})",
                        display_key(id),
                        chain.join(" → ")
                    ),
                    Some("templates that do not refer back to themselves".into()),
                ));
                return;
            }
            if self.stack.len() >= MAX_TEMPLATE_NESTING {
                problems.push(problem(
                    path,
                    format!(
                        "template \"{}\" is pulled in more than {MAX_TEMPLATE_NESTING} templates deep",
                        display_key(id)
                    ),
                    None,
                ));
                return;
            }
            let size = count_values(values);
            if size > self.budget {
                self.exhausted = true;
                problems.push(problem(
                    path,
                    format!(
                        "the template references expand to more than {MAX_TEMPLATE_EXPANSION} values (at \"{}\")",
                        display_key(id)
                    ),
                    Some("templates that are not pulled in again and again inside one another".into()),
                ));
                return;
            }
            self.budget -= size;
            *v = values.clone();
            self.stack.push(id);
            self.resolve(v, path, problems);
            self.stack.pop();
            return;
        }
        match v {
            Value::Object(o) => {
                for (k, c) in o.iter_mut() {
                    self.resolve(c, &format!("{path}.{}", display_key(k)), problems);
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter_mut().enumerate() {
                    self.resolve(c, &format!("{path}[{i}]"), problems);
                }
            }
            _ => {}
        }
    }
}

/// How many JSON values `v` holds, itself included.
fn count_values(v: &Value) -> usize {
    1 + match v {
        Value::Object(o) => o.values().map(count_values).sum(),
        Value::Array(a) => a.iter().map(count_values).sum(),
        _ => 0,
    }
}
