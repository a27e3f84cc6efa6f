//! Graph's CSDL types, read from the extract in `tests/data`, and a checker that holds a JSON
//! value to one of them: only properties the type defines (plus `@odata.*` annotations), JSON
//! types that match the EDM types, enum members as strings, collections as arrays, and no
//! null where the metadata says `Nullable="false"`.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The extract of Graph's v1.0 metadata the simulator is held to.
const EXTRACT: &str = include_str!("data/graph-csdl-extract.xml");

/// The properties of a JSON object that are not annotations.
pub fn object_properties(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .filter(|k| !k.starts_with("@odata."))
        .map(String::as_str)
        .collect()
}

/// One structural or navigation property.
#[derive(Debug, Clone)]
pub struct Property {
    pub name: String,
    /// `Edm.String`, or a type of the extract by its short name (`itemBody`).
    pub type_name: String,
    pub collection: bool,
    pub nullable: bool,
}

#[derive(Debug, Clone)]
enum TypeDef {
    Enum(Vec<String>),
    Structured {
        base: Option<String>,
        open: bool,
        properties: Vec<Property>,
    },
}

/// Dynamic properties Graph documents on an open type, all strings: the error reference's
/// `innerError` carries the request ids and the date, which the metadata leaves to
/// `publicInnerError` being open. Other open types (`user`, `message`) get no pass: the
/// simulator must answer only with declared properties there.
const DOCUMENTED_DYNAMIC: &[(&str, &[&str])] = &[(
    "publicInnerError",
    &["date", "request-id", "client-request-id"],
)];

/// How strictly values are read: Graph writes enum members exactly as the metadata spells
/// them, and reads request bodies without regard to case (`"HTML"` for `bodyType.html`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Response,
    Request,
}

/// The types of the extract, by short name.
pub struct Csdl {
    types: BTreeMap<String, TypeDef>,
}

/// The value of `name="…"` in an element's attribute text.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_owned())
}

/// `graph.x`, `microsoft.graph.x` → `x`; `Edm.*` stays.
fn short(type_name: &str) -> String {
    type_name
        .strip_prefix("microsoft.graph.")
        .or_else(|| type_name.strip_prefix("graph."))
        .unwrap_or(type_name)
        .to_owned()
}

impl Csdl {
    /// Reads the extract. Its elements are one per line, as in Graph's clean metadata.
    pub fn load() -> Csdl {
        let mut types = BTreeMap::new();
        let mut current: Option<(String, TypeDef)> = None;
        for line in EXTRACT.lines().map(str::trim) {
            let element = line.trim_start_matches('<').split([' ', '>', '/']).next();
            match element.unwrap_or_default() {
                "EnumType" => {
                    let name = attribute(line, "Name").expect("EnumType has a Name");
                    current = Some((name, TypeDef::Enum(Vec::new())));
                }
                "EntityType" | "ComplexType" => {
                    let name = attribute(line, "Name").expect("type has a Name");
                    let base = attribute(line, "BaseType").map(|b| short(&b));
                    let open = attribute(line, "OpenType").as_deref() == Some("true");
                    current = Some((
                        name,
                        TypeDef::Structured {
                            base,
                            open,
                            properties: Vec::new(),
                        },
                    ));
                }
                "Member" => {
                    if let Some((_, TypeDef::Enum(members))) = current.as_mut() {
                        members.push(attribute(line, "Name").expect("Member has a Name"));
                    }
                }
                "Property" | "NavigationProperty" => {
                    if let Some((_, TypeDef::Structured { properties, .. })) = current.as_mut() {
                        let declared = attribute(line, "Type").expect("Property has a Type");
                        let inner = declared
                            .strip_prefix("Collection(")
                            .and_then(|t| t.strip_suffix(')'));
                        properties.push(Property {
                            name: attribute(line, "Name").expect("Property has a Name"),
                            type_name: short(inner.unwrap_or(&declared)),
                            collection: inner.is_some(),
                            nullable: attribute(line, "Nullable").as_deref() != Some("false"),
                        });
                    }
                }
                _ => {}
            }
            let closes = line.starts_with("</EnumType")
                || line.starts_with("</EntityType")
                || line.starts_with("</ComplexType")
                || ((line.starts_with("<EntityType")
                    || line.starts_with("<ComplexType")
                    || line.starts_with("<EnumType"))
                    && line.ends_with("/>"));
            if closes && let Some((name, def)) = current.take() {
                types.insert(name, def);
            }
        }
        Csdl { types }
    }

    /// Every property of a structured type, its base types' included.
    pub fn properties(&self, type_name: &str) -> Vec<Property> {
        match self.types.get(type_name) {
            Some(TypeDef::Structured {
                base, properties, ..
            }) => {
                let mut all = base
                    .as_deref()
                    .map(|b| self.properties(b))
                    .unwrap_or_default();
                all.extend(properties.iter().cloned());
                all
            }
            _ => panic!("{type_name} is not a structured type of the extract"),
        }
    }

    /// Whether `key` is a documented dynamic property of the open type `type_name`.
    fn documented_dynamic(&self, type_name: &str, key: &str) -> bool {
        matches!(
            self.types.get(type_name),
            Some(TypeDef::Structured { open: true, .. })
        ) && DOCUMENTED_DYNAMIC
            .iter()
            .any(|(t, keys)| *t == type_name && keys.contains(&key))
    }

    /// Whether `derived` is `base` or inherits from it.
    fn derives_from(&self, derived: &str, base: &str) -> bool {
        derived == base
            || matches!(
                self.types.get(derived),
                Some(TypeDef::Structured { base: Some(parent), .. }) if self.derives_from(parent, base)
            )
    }

    /// Every way `value` departs from `type_name`, as `path: problem` lines.
    pub fn check(&self, value: &Value, type_name: &str, direction: Direction) -> Vec<String> {
        let mut problems = Vec::new();
        self.structured(value, type_name, direction, "$", &mut problems);
        problems
    }

    fn structured(
        &self,
        value: &Value,
        type_name: &str,
        direction: Direction,
        path: &str,
        problems: &mut Vec<String>,
    ) {
        let Some(object) = value.as_object() else {
            problems.push(format!(
                "{path}: expected an object of {type_name}, got {value}"
            ));
            return;
        };
        // A derived type announces itself: `"@odata.type": "#microsoft.graph.fileAttachment"`.
        let actual = match object.get("@odata.type").and_then(Value::as_str) {
            Some(odata) => {
                let derived = short(odata.trim_start_matches('#'));
                if !self.types.contains_key(&derived) || !self.derives_from(&derived, type_name) {
                    problems.push(format!("{path}: @odata.type {odata} is not a {type_name}"));
                    return;
                }
                derived
            }
            None => type_name.to_owned(),
        };
        let properties = self.properties(&actual);
        for (key, member) in object {
            if key.starts_with("@odata.") {
                continue;
            }
            // A property annotation (`includeTargets@odata.context`) needs its property.
            let name = key.split_once("@odata.").map_or(key.as_str(), |(p, _)| p);
            let Some(property) = properties.iter().find(|p| p.name == name) else {
                if !(self.documented_dynamic(&actual, key) && member.is_string()) {
                    problems.push(format!("{path}.{key}: {actual} has no such property"));
                }
                continue;
            };
            if name != key {
                continue;
            }
            self.property(
                member,
                property,
                direction,
                &format!("{path}.{key}"),
                problems,
            );
        }
    }

    fn property(
        &self,
        value: &Value,
        property: &Property,
        direction: Direction,
        path: &str,
        problems: &mut Vec<String>,
    ) {
        if value.is_null() {
            if !property.nullable || property.collection {
                problems.push(format!("{path}: null, but the metadata says it cannot be"));
            }
            return;
        }
        if property.collection {
            let Some(items) = value.as_array() else {
                problems.push(format!("{path}: expected an array, got {value}"));
                return;
            };
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                if item.is_null() {
                    problems.push(format!("{item_path}: null inside a collection"));
                } else {
                    self.single(item, &property.type_name, direction, &item_path, problems);
                }
            }
        } else {
            self.single(value, &property.type_name, direction, path, problems);
        }
    }

    fn single(
        &self,
        value: &Value,
        type_name: &str,
        direction: Direction,
        path: &str,
        problems: &mut Vec<String>,
    ) {
        let fits = match type_name {
            "Edm.String" => value.is_string(),
            "Edm.Boolean" => value.is_boolean(),
            "Edm.Int32" => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            "Edm.Int64" => value.is_i64(),
            "Edm.DateTimeOffset" => value
                .as_str()
                .is_some_and(|s| OffsetDateTime::parse(s, &Rfc3339).is_ok()),
            "Edm.Binary" => value
                .as_str()
                .is_some_and(|s| base64::engine::general_purpose::STANDARD.decode(s).is_ok()),
            "Edm.Guid" => value.as_str().is_some_and(uuid_shaped),
            edm if edm.starts_with("Edm.") => {
                problems.push(format!("{path}: {edm} is not checked by this test"));
                return;
            }
            _ => match self.types.get(type_name) {
                Some(TypeDef::Enum(members)) => value.as_str().is_some_and(|s| {
                    members.iter().any(|m| match direction {
                        Direction::Response => m == s,
                        Direction::Request => m.eq_ignore_ascii_case(s),
                    })
                }),
                Some(TypeDef::Structured { .. }) => {
                    self.structured(value, type_name, direction, path, problems);
                    return;
                }
                None => {
                    problems.push(format!("{path}: {type_name} is not in the extract"));
                    return;
                }
            },
        };
        if !fits {
            problems.push(format!("{path}: {value} is not a {type_name}"));
        }
    }
}

/// `8-4-4-4-12` hexadecimal digits.
fn uuid_shaped(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[test]
fn the_extract_reads_as_graph_defines_it() {
    let csdl = Csdl::load();
    let user = csdl.properties("user");
    assert!(user.iter().any(|p| p.name == "id" && !p.nullable));
    assert!(user.iter().any(|p| p.name == "deletedDateTime"));
    let phones = user.iter().find(|p| p.name == "businessPhones").unwrap();
    assert!(phones.collection && phones.type_name == "Edm.String" && !phones.nullable);
    let policy = csdl.properties("temporaryAccessPassAuthenticationMethodConfiguration");
    let names: Vec<&str> = policy.iter().map(|p| p.name.as_str()).collect();
    assert!(names.contains(&"excludeTargets") && names.contains(&"includeTargets"));
    assert!(csdl.derives_from("fileAttachment", "attachment"));
    assert_eq!(
        csdl.check(
            &serde_json::json!({ "contentType": "HTML" }),
            "itemBody",
            Direction::Request
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        csdl.check(
            &serde_json::json!({ "contentType": "HTML" }),
            "itemBody",
            Direction::Response
        )
        .len(),
        1
    );
    assert_eq!(
        csdl.check(
            &serde_json::json!({ "department": 5, "nope": 1 }),
            "user",
            Direction::Response
        )
        .len(),
        2
    );
}
