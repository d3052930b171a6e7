//! User: one account, its organizations, roles, recent activity and brute-force blocks, its
//! metadata as JSON editors (app_metadata only for operators who may read it, and editable only
//! by those who may change it), and the actions the operator may take. Each action is a form
//! (POST with the CSRF token) that runs one mutation; the page comes back with what happened.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Map, Value, json};

use super::{Operator, user_path};
use crate::portal::Portal;
use crate::portal::page::{csrf, initials, problems, when, yes_no};
use crate::portal::session::{Flash, Realm};

const DOCUMENT: &str = "query($t: ID!, $id: ID!, $logs: Boolean!, $app: Boolean!) {
    user(tenant: $t, id: $id) {
        id tenant { id name } email emailVerified username phoneNumber name nickname givenName familyName
        identities { connection provider isSocial } createdAt updatedAt lastLogin lastIp loginsCount blocked
        userMetadata appMetadata @include(if: $app) termsAccepted
        organizations { id name displayName } roles { id name description }
        logs(first: 20) @include(if: $logs) { id date type typeDescription description ip clientName }
        bruteForceBlocks { identifier ip connection } } }";

/// A metadata editor's text that could not be saved, shown again with why.
struct EditorError {
    which: &'static str,
    text: String,
    message: String,
}

/// The profile fields the form edits: (form name, GraphQL name, label).
const PROFILE: [(&str, &str, &str); 4] = [
    ("name", "name", "Name"),
    ("given_name", "givenName", "Given name"),
    ("family_name", "familyName", "Family name"),
    ("nickname", "nickname", "Nickname"),
];

async fn load(
    portal: &Portal,
    operator: &Operator,
    tenant: &str,
    id: &str,
) -> crate::portal::gql::Answer {
    let variables = json!({
        "t": tenant, "id": id,
        "logs": operator.may("read:logs"),
        "app": operator.may("read:users_app_metadata"),
    });
    portal.admin_run(operator, DOCUMENT, variables).await
}

pub(crate) async fn page(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    uri: Uri,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Response, Response> {
    let operator = portal.operator(&headers, &uri).await?;
    Ok(render(&portal, operator, &tenant, &id, None).await)
}

async fn render(
    portal: &Portal,
    operator: Operator,
    tenant: &str,
    id: &str,
    editor_error: Option<EditorError>,
) -> Response {
    let answer = load(portal, &operator, tenant, id).await;
    let user = answer.data["user"].clone();
    if user.is_null() {
        let body = html! {
            (problems(&answer))
            @if answer.problems.is_empty() {
                p { "There is no such user in your reach." }
            }
            p { a href="/admin/users" { "Back to the users" } }
        };
        return portal.admin_page(operator, "users", "User", StatusCode::NOT_FOUND, &body);
    }
    let status = if editor_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = user["email"]
        .as_str()
        .or(user["name"].as_str())
        .unwrap_or(id)
        .to_owned();
    let body = body(&operator, &answer, &user, tenant, id, editor_error.as_ref());
    portal.admin_page(operator, "users", &title, status, &body)
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

fn pretty(value: &Value) -> String {
    let value = if value.is_null() {
        json!({})
    } else {
        value.clone()
    };
    serde_json::to_string_pretty(&value).unwrap_or_else(|_| "{}".to_owned())
}

fn body(
    operator: &Operator,
    answer: &crate::portal::gql::Answer,
    user: &Value,
    tenant: &str,
    id: &str,
    editor_error: Option<&EditorError>,
) -> Markup {
    let action = |name: &str| format!("{}/{name}", user_path(tenant, id));
    let session = &operator.session;
    let blocked = user["blocked"].as_bool() == Some(true);
    let verified = user["emailVerified"].as_bool() == Some(true);
    let database = user["identities"]
        .as_array()
        .is_some_and(|ids| ids.iter().any(|i| i["provider"] == json!("auth0")));
    let blocks = user["bruteForceBlocks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let email = text(user, "email");
    let may_update = operator.may("update:users");
    html! {
        (problems(answer))
        div class="profile-head" {
            span class="avatar large" aria-hidden="true" { (initials(user["name"].as_str(), user["email"].as_str())) }
            div {
                p { strong { (text(user, "name")) } }
                p class="muted" { (text(&user["tenant"], "name")) " · " code { (id) } }
            }
        }
        section aria-labelledby="actions-title" {
            h2 id="actions-title" { "Actions" }
            div class="actions" {
                @if operator.may("block:users") {
                    @if blocked {
                        form method="post" action=(action("unblock")) { (csrf(session)) button type="submit" { "Unblock" } }
                    } @else {
                        form method="post" action=(action("block")) { (csrf(session)) button type="submit" class="danger" { "Block" } }
                    }
                    @if !blocks.is_empty() {
                        form method="post" action=(action("remove-blocks")) { (csrf(session)) button type="submit" class="secondary" { "Remove brute-force blocks" } }
                    }
                }
                @if may_update && !verified && !email.is_empty() {
                    form method="post" action=(action("send-verification")) { (csrf(session)) button type="submit" class="secondary" { "Send verification email" } }
                }
                @if may_update && database {
                    form method="post" action=(action("password-ticket")) { (csrf(session)) button type="submit" class="secondary" { "Create password change ticket" } }
                }
            }
            @if !operator.may("block:users") && !may_update && !operator.may("delete:users") {
                p class="muted" { "Your account may not change users." }
            }
        }
        div class="grid-2" {
            section aria-labelledby="profile-title" {
                h2 id="profile-title" { "Profile" }
                dl class="facts" {
                    dt { "Email" } dd { (email) " " @if verified { span class="yes" { "(verified)" } } @else { span class="no" { "(not verified)" } } }
                    dt { "Username" } dd { (user["username"].as_str().unwrap_or("—")) }
                    dt { "Phone" } dd { (user["phoneNumber"].as_str().unwrap_or("—")) }
                    dt { "Blocked" } dd { (crate::portal::page::blocked(user["blocked"].as_bool())) }
                    dt { "Connections" } dd {
                        @for (i, identity) in user["identities"].as_array().into_iter().flatten().enumerate() {
                            @if i > 0 { ", " } (text(identity, "connection"))
                        }
                    }
                    dt { "Created" } dd { (when(user["createdAt"].as_str())) }
                    dt { "Updated" } dd { (when(user["updatedAt"].as_str())) }
                    dt { "Last login" } dd { (when(user["lastLogin"].as_str())) }
                    @if let Some(ip) = user["lastIp"].as_str() { dt { "Last IP" } dd { (ip) } }
                    dt { "Logins" } dd { (user["loginsCount"].as_i64().unwrap_or(0)) }
                    @if !user["termsAccepted"].is_null() {
                        dt { "Current terms accepted" } dd { (yes_no(user["termsAccepted"].as_bool())) }
                    }
                }
                @if may_update {
                    h3 { "Edit the profile" }
                    form class="stack" method="post" action=(action("profile")) {
                        (csrf(session))
                        @for (field, key, label) in PROFILE {
                            div class="field" {
                                label for=(format!("profile-{field}")) { (label) }
                                input id=(format!("profile-{field}")) name=(field) type="text" value=(text(user, key));
                                input type="hidden" name=(format!("was_{field}")) value=(text(user, key));
                            }
                        }
                        div { button type="submit" { "Save" } }
                    }
                }
            }
            section aria-labelledby="memberships-title" {
                h2 id="memberships-title" { "Organizations" }
                @match user["organizations"].as_array() {
                    Some(list) if !list.is_empty() => ul { @for org in list { li { (org["displayName"].as_str().unwrap_or(text(org, "name"))) " " span class="muted" { "(" (text(org, "id")) ")" } } } },
                    Some(_) => p class="muted" { "None." },
                    None => p class="muted" { "Not available." },
                }
                h2 { "Roles" }
                @match user["roles"].as_array() {
                    Some(list) if !list.is_empty() => ul { @for role in list { li { (text(role, "name")) @if let Some(d) = role["description"].as_str() { " — " span class="muted" { (d) } } } } },
                    Some(_) => p class="muted" { "None." },
                    None => p class="muted" { "Not available." },
                }
                h2 { "Brute-force blocks" }
                @if blocks.is_empty() {
                    p class="muted" { "None." }
                } @else {
                    ul { @for block in &blocks {
                        li { (text(block, "identifier")) @if let Some(ip) = block["ip"].as_str() { " from " (ip) } }
                    } }
                }
            }
        }
        section aria-labelledby="metadata-title" {
            h2 id="metadata-title" { "Metadata" }
            div class="grid-2" {
                (editor("user_metadata", "user-metadata", &user["userMetadata"], may_update, &action("user-metadata"), session, editor_error))
                @if operator.may("read:users_app_metadata") {
                    (editor("app_metadata", "app-metadata", &user["appMetadata"], may_update && operator.may("update:users_app_metadata"), &action("app-metadata"), session, editor_error))
                }
            }
        }
        @if operator.may("read:logs") {
            section aria-labelledby="activity-title" {
                h2 id="activity-title" { "Recent activity" }
                @match user["logs"].as_array() {
                    Some(logs) if !logs.is_empty() => div class="table-wrap" { table {
                        thead { tr { th scope="col" { "When" } th scope="col" { "Event" } th scope="col" { "Details" } th scope="col" { "Application" } th scope="col" { "IP" } } }
                        tbody { @for event in logs { tr {
                            td { (when(event["date"].as_str())) }
                            td { (text(event, "typeDescription")) " " span class="muted" { "(" (text(event, "type")) ")" } }
                            td { (event["description"].as_str().unwrap_or("—")) }
                            td { (event["clientName"].as_str().unwrap_or("—")) }
                            td { (event["ip"].as_str().unwrap_or("—")) }
                        } } }
                    } },
                    Some(_) => p class="muted" { "No recent events." },
                    None => p class="muted" { "Not available." },
                }
            }
        }
        @if operator.may("delete:users") {
            section class="danger-zone" aria-labelledby="delete-title" {
                h2 id="delete-title" { "Delete this user" }
                p { "The account is deleted for good in " (text(&user["tenant"], "name")) "." }
                form class="inline" method="post" action=(action("delete")) {
                    (csrf(session))
                    div class="field" {
                        label for="confirm" { "Type the email to confirm" }
                        input id="confirm" name="confirm" type="text" autocomplete="off"
                            data-confirm=(if email.is_empty() { id } else { email }) data-confirm-button="delete-button";
                    }
                    button id="delete-button" type="submit" class="danger" { "Delete" }
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn editor(
    label: &str,
    which: &'static str,
    value: &Value,
    editable: bool,
    action: &str,
    session: &crate::portal::session::Session,
    error: Option<&EditorError>,
) -> Markup {
    let error = error.filter(|e| e.which == which);
    let shown = error.map_or_else(|| pretty(value), |e| e.text.clone());
    let id = format!("{which}-editor");
    html! {
        div class="field" {
            @if editable {
                form class="stack" method="post" action=(action) {
                    (csrf(session))
                    label for=(id) { (label) " (JSON)" }
                    textarea id=(id) name="json" data-json spellcheck="false"
                        aria-invalid=(if error.is_some() { "true" } else { "false" })
                        aria-describedby=(format!("{id}-live {id}-error")) { (shown) }
                    p id=(format!("{id}-live")) class="error-text" aria-live="polite" {}
                    @if let Some(error) = error {
                        p id=(format!("{id}-error")) class="error-text" role="alert" { (error.message) }
                    }
                    input type="hidden" name="original" value=(pretty(value));
                    div { button type="submit" { "Save " (label) } }
                }
            } @else {
                label for=(id) { (label) " (JSON, read only)" }
                textarea id=(id) readonly { (shown) }
            }
        }
    }
}

/// The first-level patch turning `original` into `edited`: keys added or changed are set,
/// keys removed are set to null (so keys someone else changed meanwhile are left alone).
fn patch(original: &Map<String, Value>, edited: &Map<String, Value>) -> Map<String, Value> {
    let mut patch = Map::new();
    for (key, value) in edited {
        if original.get(key) != Some(value) {
            patch.insert(key.clone(), value.clone());
        }
    }
    for key in original.keys() {
        if !edited.contains_key(key) {
            patch.insert(key.clone(), Value::Null);
        }
    }
    patch
}

const UPDATE: &str = "mutation($t: ID!, $id: ID!, $input: UpdateUserInput!) {
    updateUser(tenant: $t, id: $id, input: $input) { id } }";

pub(crate) async fn act(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    uri: Uri,
    Path((tenant, id, action)): Path<(String, String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Response> {
    let (session, jar) = portal.posted(&headers, Realm::Admin, &form)?;
    let here = user_path(&tenant, &id);
    let vars = json!({"t": tenant, "id": id});
    let run = |document: &'static str, variables: Value| {
        let portal = portal.clone();
        let session = session.clone();
        async move { portal.run(&session, document, variables).await }
    };
    let flash = match action.as_str() {
        "block" | "unblock" => {
            let document = if action == "block" {
                "mutation($t: ID!, $id: ID!) { blockUser(tenant: $t, id: $id) { id } }"
            } else {
                "mutation($t: ID!, $id: ID!) { unblockUser(tenant: $t, id: $id) { id } }"
            };
            let answer = run(document, vars).await;
            answer.refusal().map_or_else(
                || {
                    Flash::ok(if action == "block" {
                        "The user is blocked."
                    } else {
                        "The user is unblocked."
                    })
                },
                Flash::error,
            )
        }
        "remove-blocks" => {
            let answer = run(
                "mutation($t: ID!, $id: ID!) { removeBruteForceBlocks(tenant: $t, id: $id) }",
                vars,
            )
            .await;
            answer.refusal().map_or_else(
                || Flash::ok("The brute-force blocks are removed."),
                Flash::error,
            )
        }
        "send-verification" => {
            let answer = run(
                "mutation($t: ID!, $id: ID!) { sendVerificationEmail(tenant: $t, id: $id) { id } }",
                vars,
            )
            .await;
            answer.refusal().map_or_else(
                || Flash::ok("Auth0 is sending the verification email."),
                Flash::error,
            )
        }
        "password-ticket" => {
            let answer = run("mutation($t: ID!, $id: ID!) { createPasswordChangeTicket(tenant: $t, id: $id) { url } }", vars).await;
            match (answer.refusal(), answer.data["createPasswordChangeTicket"]["url"].as_str()) {
                (None, Some(url)) => Flash {
                    ok: true,
                    text: "A password change ticket was created. Send this link to the user; it works once, for five days.".to_owned(),
                    link: Some(url.to_owned()),
                },
                (refusal, _) => Flash::error(refusal.unwrap_or_else(|| "No ticket was created.".to_owned())),
            }
        }
        "delete" => {
            let current = run(
                "query($t: ID!, $id: ID!) { user(tenant: $t, id: $id) { id email } }",
                vars.clone(),
            )
            .await;
            let expected = current.data["user"]["email"]
                .as_str()
                .unwrap_or(&id)
                .to_owned();
            let typed = form.get("confirm").map(|c| c.trim()).unwrap_or_default();
            if current.data["user"].is_null() {
                Flash::error(
                    current
                        .refusal()
                        .unwrap_or_else(|| "There is no such user in your reach.".to_owned()),
                )
            } else if !typed.eq_ignore_ascii_case(&expected) {
                Flash::error(format!(
                    "Nothing was deleted: type {expected} exactly to confirm."
                ))
            } else {
                let answer = run(
                    "mutation($t: ID!, $id: ID!) { deleteUser(tenant: $t, id: $id) }",
                    vars,
                )
                .await;
                match answer.refusal() {
                    None => {
                        let flash = Flash::ok(format!("{expected} was deleted from {tenant}."));
                        return Ok(portal.after_post(jar, session, flash, "/admin/users"));
                    }
                    Some(refusal) => Flash::error(refusal),
                }
            }
        }
        "profile" => {
            let mut input = Map::new();
            for (field, key, _) in PROFILE {
                let now = form.get(field).map(|v| v.trim()).unwrap_or_default();
                let was = form
                    .get(&format!("was_{field}"))
                    .map(String::as_str)
                    .unwrap_or_default();
                if now != was {
                    let value = if now.is_empty() {
                        Value::Null
                    } else {
                        Value::from(now)
                    };
                    input.insert(key.to_owned(), value);
                }
            }
            if input.is_empty() {
                Flash::ok("Nothing changed.")
            } else {
                let answer = run(UPDATE, json!({"t": tenant, "id": id, "input": input})).await;
                answer
                    .refusal()
                    .map_or_else(|| Flash::ok("The profile is saved."), Flash::error)
            }
        }
        "user-metadata" | "app-metadata" => {
            let which = if action == "user-metadata" {
                "user-metadata"
            } else {
                "app-metadata"
            };
            let key = if action == "user-metadata" {
                "userMetadata"
            } else {
                "appMetadata"
            };
            let text = form.get("json").cloned().unwrap_or_default();
            let fail = |message: String| EditorError {
                which,
                text: text.clone(),
                message,
            };
            let edited: Result<Map<String, Value>, String> =
                match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(map)) => Ok(map),
                    Ok(_) => Err("This must be a JSON object, { … }.".to_owned()),
                    Err(error) => Err(format!("Not valid JSON: {error}.")),
                };
            let original = form
                .get("original")
                .and_then(|o| serde_json::from_str::<Value>(o).ok())
                .and_then(|o| o.as_object().cloned())
                .unwrap_or_default();
            let outcome = match edited {
                Err(message) => Err(fail(message)),
                Ok(edited) => {
                    let changes = patch(&original, &edited);
                    if changes.is_empty() {
                        Ok(Flash::ok("Nothing changed."))
                    } else {
                        let answer = run(
                            UPDATE,
                            json!({"t": tenant, "id": id, "input": {key: changes}}),
                        )
                        .await;
                        match answer.refusal() {
                            None => Ok(Flash::ok(format!(
                                "{} is saved.",
                                key.replace("Metadata", "_metadata")
                            ))),
                            Some(refusal) => Err(fail(refusal)),
                        }
                    }
                }
            };
            match outcome {
                Ok(flash) => flash,
                Err(error) => {
                    let operator = portal.operator(&headers, &uri).await?;
                    return Ok(render(&portal, operator, &tenant, &id, Some(error)).await);
                }
            }
        }
        _ => Flash::error("There is no such action."),
    };
    Ok(portal.after_post(jar, session, flash, &here))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metadata_patch_sets_what_changed_and_removes_what_went() {
        let original = json!({"a": 1, "b": {"x": 1}, "c": true});
        let edited = json!({"a": 1, "b": {"x": 2}, "d": "new"});
        let patch = patch(original.as_object().unwrap(), edited.as_object().unwrap());
        assert_eq!(
            Value::Object(patch),
            json!({"b": {"x": 2}, "d": "new", "c": null})
        );
    }
}
