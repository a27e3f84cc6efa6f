//! The Graph routes the conformance tests check, as route shapes. The client's test suite
//! includes this file too, to show that the binary calls no route outside the list.

/// The query the client sends when it looks the user up (`src/graph/model.rs`).
pub const CLIENT_USER_QUERY: &str =
    "$select=id,userPrincipalName,mail,usageLocation,preferredLanguage,userType,displayName";

/// The route shapes this module checks; `{user}` and `{id}` stand for any key.
pub const CHECKED_ROUTES: &[&str] = &[
    "GET /users/{user}",
    "GET /users/{user}/authentication/temporaryAccessPassMethods",
    "POST /users/{user}/authentication/temporaryAccessPassMethods",
    "GET /users/{user}/authentication/temporaryAccessPassMethods/{id}",
    "DELETE /users/{user}/authentication/temporaryAccessPassMethods/{id}",
    "GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
    "POST /users/{user}/sendMail",
    "GET /users/{user}/mailboxSettings",
];

/// `GET /v1.0/users/x%40y/authentication/temporaryAccessPassMethods/p1` →
/// `GET /users/{user}/authentication/temporaryAccessPassMethods/{id}`.
pub fn route_shape(method: &str, path: &str) -> String {
    let mut segments: Vec<String> = path.split('/').skip(2).map(str::to_owned).collect();
    if segments
        .first()
        .is_some_and(|s| s == "users" || s.starts_with("users("))
    {
        segments[0] = "users".into();
        if path
            .split('/')
            .nth(2)
            .is_some_and(|s| s.starts_with("users("))
        {
            segments.insert(1, "{user}".into());
        } else if segments.len() > 1 {
            segments[1] = "{user}".into();
        }
        if segments.len() == 5 {
            segments[4] = "{id}".into();
        }
    }
    format!("{method} /{}", segments.join("/"))
}
