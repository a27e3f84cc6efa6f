//! Safe Graph paths: user input is always percent-encoded into one path segment, so no value
//! can add a segment, a query or a fragment.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything except RFC 3986's unreserved characters is encoded. In particular `/`, `?`,
/// `#`, `%`, `'`, `(`, `)` and `$` can never reach Graph as syntax.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A user as the job names them: a user principal name or an object id (GUID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRef(String);

impl UserRef {
    /// Wraps a UPN or an object id as given. No validation: that is the input stage's job,
    /// and the path built from it is safe whatever it contains.
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The name as given.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// `/users/{encoded}`, or `/users('{encoded}')` for names Graph would otherwise read as
    /// something else: a leading `$` (a system query option such as `$count`) or a segment of
    /// dots only, which URL normalisation would turn into `..` traversal.
    pub fn path(&self) -> String {
        let name = self.0.as_str();
        let needs_key_form =
            name.starts_with('$') || name.is_empty() || name.chars().all(|c| c == '.');
        if needs_key_form {
            // Inside an OData string literal a quote is written twice.
            let literal = name.replace('\'', "''");
            format!("/users('{}')", encode_segment(&literal))
        } else {
            format!("/users/{}", encode_segment(name))
        }
    }
}

impl std::fmt::Display for UserRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Percent-encodes one path segment.
pub(crate) fn encode_segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use percent_encoding::percent_decode_str;
    use proptest::prelude::*;

    /// Reverses [`UserRef::path`]: the name Graph will see.
    fn name_from_path(path: &str) -> String {
        let segment = path.strip_prefix("/users").expect("a users path");
        if let Some(key) = segment.strip_prefix("('") {
            let literal = key.strip_suffix("')").expect("closing quote");
            let literal = percent_decode_str(literal).decode_utf8().unwrap();
            literal.replace("''", "'")
        } else {
            let segment = segment.strip_prefix('/').expect("a segment");
            percent_decode_str(segment)
                .decode_utf8()
                .unwrap()
                .into_owned()
        }
    }

    #[test]
    fn plain_upn_and_guid() {
        assert_eq!(
            UserRef::new("adele.vance@contoso.com").path(),
            "/users/adele.vance%40contoso.com"
        );
        assert_eq!(
            UserRef::new("0c9d6a7e-1b2c-4d5e-8f90-a1b2c3d4e5f6").path(),
            "/users/0c9d6a7e-1b2c-4d5e-8f90-a1b2c3d4e5f6"
        );
    }

    #[test]
    fn hash_quote_and_dollar() {
        assert_eq!(
            UserRef::new("a#b@contoso.com").path(),
            "/users/a%23b%40contoso.com"
        );
        assert_eq!(
            UserRef::new("o'neil@contoso.com").path(),
            "/users/o%27neil%40contoso.com"
        );
        assert_eq!(
            UserRef::new("$admin'x@contoso.com").path(),
            "/users('%24admin%27%27x%40contoso.com')"
        );
    }

    #[test]
    fn input_cannot_change_path_or_query() {
        assert_eq!(UserRef::new("../me").path(), "/users/..%2Fme");
        assert_eq!(UserRef::new("..").path(), "/users('..')");
        assert_eq!(UserRef::new("").path(), "/users('')");
        assert_eq!(UserRef::new("x?$top=1").path(), "/users/x%3F%24top%3D1");
    }

    fn upn() -> impl Strategy<Value = String> {
        (
            "[A-Za-z0-9'._!#^~$-]{1,30}",
            "[A-Za-z0-9-]{1,20}(\\.[A-Za-z0-9-]{1,10}){0,3}",
        )
            .prop_map(|(local, domain)| format!("{local}@{domain}"))
    }

    proptest! {
        #[test]
        fn any_upn_round_trips_through_the_path(name in upn()) {
            let path = UserRef::new(name.clone()).path();
            prop_assert_eq!(name_from_path(&path), name);
            let segment = &path["/users".len()..];
            prop_assert!(!segment[1..].contains('/'));
            prop_assert!(!segment.contains('?'));
            prop_assert!(!segment.contains('#'));
        }

        #[test]
        fn any_text_stays_inside_its_segment(name in any::<String>()) {
            let path = UserRef::new(name.clone()).path();
            prop_assert_eq!(name_from_path(&path), name);
            let url = reqwest::Url::parse(&format!("https://graph.example/v1.0{path}")).unwrap();
            prop_assert_eq!(url.path(), format!("/v1.0{path}"));
            prop_assert!(url.query().is_none());
            prop_assert!(url.fragment().is_none());
        }
    }
}
