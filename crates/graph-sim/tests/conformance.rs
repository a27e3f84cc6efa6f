//! Every object the simulated tenant returns on the routes the client uses, under `/v1.0` and
//! `/beta`, held to Graph's own metadata (the CSDL extract in `tests/data`). The client's own
//! test suite shows that every route the binary calls is among them ([`super::routes`]).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::csdl::{Csdl, Direction, object_properties};
use super::routes::{CHECKED_ROUTES, CLIENT_USER_QUERY, route_shape};
use super::{ADELE, SENDER, Tenant, mail_to};

fn assert_conforms(csdl: &Csdl, value: &Value, type_name: &str, what: &str) {
    let problems = csdl.check(value, type_name, Direction::Response);
    assert!(problems.is_empty(), "{what}: {problems:#?}\n{value:#}");
}

/// An error answer: Graph's envelope, `publicErrorResponse` in the metadata, with the string
/// `code` and `message` the OData JSON format requires.
async fn assert_error_conforms(csdl: &Csdl, response: reqwest::Response, status: StatusCode) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_conforms(
        csdl,
        &body,
        "publicErrorResponse",
        &format!("{status} error"),
    );
    assert!(body["error"]["code"].is_string() && body["error"]["message"].is_string());
}

#[tokio::test]
async fn every_object_the_client_reads_conforms_to_graph_metadata() {
    let csdl = Csdl::load();
    let every_user_property: Vec<String> = csdl
        .properties("user")
        .into_iter()
        .filter(|p| p.name != "id")
        .map(|p| p.name)
        .collect();
    for version in ["/v1.0", "/beta"] {
        let t = Tenant::start("tenant.json").await;
        let users = format!("{version}/users");

        for (path, what) in [
            (
                format!("{users}/{ADELE}?{CLIENT_USER_QUERY}"),
                "the client's user query",
            ),
            (format!("{users}/{ADELE}"), "the default user properties"),
            (
                format!("{users}('$helpdesk.bot@contoso.com')"),
                "the key form",
            ),
        ] {
            let response = t.get(&path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_conforms(&csdl, &response.json().await.unwrap(), "user", what);
        }
        let select = format!("$select=id,{}", every_user_property.join(","));
        let response = t.get(&format!("{users}/{ADELE}?{select}")).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "every user property can be selected"
        );
        let everything: Value = response.json().await.unwrap();
        assert_conforms(&csdl, &everything, "user", "every user property");
        assert_eq!(
            object_properties(&everything).len(),
            every_user_property.len() + 1
        );

        let passes = format!("{users}/{ADELE}/authentication/temporaryAccessPassMethods");
        let list: Value = t.get(&passes).await.json().await.unwrap();
        assert_eq!(
            object_properties(&list),
            ["value"],
            "a collection is `value` plus annotations"
        );
        for pass in list["value"].as_array().unwrap() {
            assert_conforms(
                &csdl,
                pass,
                "temporaryAccessPassAuthenticationMethod",
                "listed pass",
            );
        }

        let response = t
            .post(
                &passes,
                json!({ "lifetimeInMinutes": 60, "isUsableOnce": false }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let created: Value = response.json().await.unwrap();
        assert_conforms(
            &csdl,
            &created,
            "temporaryAccessPassAuthenticationMethod",
            "created",
        );
        assert!(created["temporaryAccessPass"].is_string());
        let id = created["id"].as_str().unwrap();

        let fetched: Value = t.get(&format!("{passes}/{id}")).await.json().await.unwrap();
        assert_conforms(
            &csdl,
            &fetched,
            "temporaryAccessPassAuthenticationMethod",
            "fetched",
        );

        let policy: Value = t
            .get(&format!(
                "{version}/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass"
            ))
            .await
            .json()
            .await
            .unwrap();
        assert_conforms(
            &csdl,
            &policy,
            "temporaryAccessPassAuthenticationMethodConfiguration",
            "policy",
        );

        let deleted = t
            .call(Method::DELETE, &format!("{passes}/{id}"), None)
            .await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        assert!(deleted.bytes().await.unwrap().is_empty());

        for query in ["?$select=timeZone", ""] {
            let path = format!("{users}/{ADELE}/mailboxSettings{query}");
            let settings: Value = t.get(&path).await.json().await.unwrap();
            assert_conforms(&csdl, &settings, "mailboxSettings", &path);
            assert!(settings["timeZone"].is_string(), "{path}");
        }

        let sent = t
            .post(&format!("{users}/{SENDER}/sendMail"), mail_to(ADELE))
            .await;
        assert_eq!(sent.status(), StatusCode::ACCEPTED);
        assert!(sent.bytes().await.unwrap().is_empty());

        assert_error_conforms(
            &csdl,
            t.get(&format!("{users}/nobody@contoso.com")).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_error_conforms(
            &csdl,
            t.post(&passes, json!({ "lifetimeInMinutes": 10 })).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_error_conforms(
            &csdl,
            t.http.get(t.url(&passes)).send().await.unwrap(),
            StatusCode::UNAUTHORIZED,
        )
        .await;
        let no_policy = Tenant::start("tenants/no-policy-permission.json").await;
        assert_error_conforms(
            &csdl,
            no_policy
                .get(&format!(
                    "{version}/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass"
                ))
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;

        // The list the client's suite holds the binary to is the list checked here.
        let checked: Vec<String> = t
            .sim
            .requests()
            .iter()
            .map(|r| route_shape(&r.method, &r.path))
            .collect();
        for route in CHECKED_ROUTES {
            assert!(
                checked.iter().any(|c| c == route),
                "{route} is listed but not checked"
            );
        }
    }
}

#[test]
fn route_shapes_name_the_resource_not_the_key() {
    assert_eq!(
        route_shape(
            "GET",
            "/v1.0/users/0a5e%40x/authentication/temporaryAccessPassMethods/p1"
        ),
        "GET /users/{user}/authentication/temporaryAccessPassMethods/{id}"
    );
    assert_eq!(
        route_shape("POST", "/v1.0/users('%24a%40x')/sendMail"),
        "POST /users/{user}/sendMail"
    );
    assert_eq!(route_shape("GET", "/v1.0/users/a%40x"), "GET /users/{user}");
}
