//! Create user: tenant, connection, email, password, name. A refusal (Auth0's password policy,
//! an email taken) is shown in place with what was typed, the password excepted. An
//! organization's administrator's new user joins its organization (the scope sees to it).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use maud::html;
use serde_json::json;

use super::{Operator, tenant_choices, tenant_options, user_path};
use crate::portal::Portal;
use crate::portal::page::csrf;
use crate::portal::session::{Flash, Realm};

const DATABASE: &str = "Username-Password-Authentication";

const CREATE: &str = "mutation($t: ID!, $input: CreateUserInput!) {
    createUser(tenant: $t, input: $input) { id tenant { id } email } }";

async fn form_page(
    portal: &Portal,
    operator: Operator,
    values: &HashMap<String, String>,
    error: Option<&str>,
) -> Response {
    if !operator.may("create:users") {
        return portal.lacks(operator, "create", "Create user", "create:users");
    }
    let tenants = tenant_choices(portal, &operator).await;
    let value = |name: &str| values.get(name).cloned().unwrap_or_default();
    let connection = values
        .get("connection")
        .cloned()
        .unwrap_or_else(|| DATABASE.to_owned());
    let body = html! {
        @if let Some(error) = error {
            div class="flash error" role="alert" id="create-error" { p { "The user was not created: " (error) } }
        }
        form class="stack" method="post" action="/admin/users/new" {
            (csrf(&operator.session))
            div class="field" {
                label for="tenant" { "Tenant" }
                select id="tenant" name="tenant" required { (tenant_options(&tenants, &value("tenant"), None)) }
            }
            div class="field" {
                label for="connection" { "Connection" }
                input id="connection" name="connection" type="text" value=(connection) required aria-describedby="connection-hint";
                p class="hint" id="connection-hint" { "The tenant's database connection; Auth0 creates users in database connections only." }
            }
            div class="field" {
                label for="email" { "Email" }
                input id="email" name="email" type="email" value=(value("email")) required autocomplete="off";
            }
            div class="field" {
                label for="password" { "Password" }
                input id="password" name="password" type="password" required autocomplete="new-password" aria-describedby="password-hint";
                p class="hint" id="password-hint" { "The tenant's password policy applies; Auth0 says what it lacks." }
            }
            div class="field" {
                label for="name" { "Name" }
                input id="name" name="name" type="text" value=(value("name"));
            }
            p class="hint" { "Auth0 sends the new user a verification email." }
            div { button type="submit" { "Create user" } }
        }
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    portal.admin_page(operator, "create", "Create user", status, &body)
}

pub(crate) async fn page(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Response> {
    let operator = portal.operator(&headers, &uri).await?;
    Ok(form_page(&portal, operator, &HashMap::new(), None).await)
}

pub(crate) async fn submit(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Response> {
    let (session, jar) = portal.posted(&headers, Realm::Admin, &form)?;
    let field = |name: &str| {
        form.get(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let name = field("name");
    let input = json!({
        "connection": field("connection"),
        "email": field("email"),
        "password": form.get("password").cloned().unwrap_or_default(),
        "name": if name.is_empty() { None } else { Some(name) },
    });
    let answer = portal
        .run(
            &session,
            CREATE,
            json!({"t": field("tenant"), "input": input}),
        )
        .await;
    let created = &answer.data["createUser"];
    match (answer.refusal(), created["id"].as_str()) {
        (None, Some(id)) => {
            let tenant = created["tenant"]["id"].as_str().unwrap_or_default();
            let flash = Flash::ok(format!(
                "{} was created in {tenant}.",
                created["email"].as_str().unwrap_or(id)
            ));
            Ok(portal.after_post(jar, session, flash, &user_path(tenant, id)))
        }
        (refusal, _) => {
            let operator = portal.operator(&headers, &uri).await?;
            let message = refusal.unwrap_or_else(|| "the tenant did not say why".to_owned());
            Ok(form_page(&portal, operator, &form, Some(&message)).await)
        }
    }
}
