//! `POST /oauth/token`: client credentials (management tokens) and the password-realm grant
//! (end-user tokens), with the Authentication API's errors, brute-force protection and logs.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::{Form, read_form};
use crate::clock::{iso, unix_now};
use crate::errors::{AuthError, json_response};
use crate::faults::CredentialsRevoked;
use crate::state::{AppState, SharedState};
use crate::store::{BlockedFor, LogEvent, LogKind, Store};

pub const PASSWORD_REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";

/// Consecutive failures from one IP after which Auth0's brute-force protection blocks an account.
const BRUTE_FORCE_THRESHOLD: u32 = 10;

/// `POST /oauth/token`
pub async fn token(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    revoked: Option<Extension<CredentialsRevoked>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AuthError> {
    let mut form = read_form(&headers, &body)?;
    basic_credentials(&headers, &mut form);
    // A revoked (rotated or deleted) secret is refused as a wrong one is.
    if revoked.is_some() && form.contains_key("client_secret") {
        return Err(unauthorized());
    }
    let ip = match peer.ip() {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(v6) => v6.to_ipv4_mapped().unwrap_or(Ipv4Addr::LOCALHOST),
    };
    // Tokens name the domain they were requested through; the audience is the canonical one.
    let issuer = state.tenant.issuer_for(&headers);
    let answer = match form.get("grant_type").map(String::as_str) {
        None => Err(AuthError::invalid_request(
            "Missing required parameter: grant_type",
        )),
        Some("client_credentials") => client_credentials(&state, &form, issuer),
        Some(PASSWORD_REALM) => password_realm(&state, &form, ip, issuer),
        Some(other) => Err(AuthError::new(
            StatusCode::FORBIDDEN,
            "unsupported_grant_type",
            format!("Unsupported grant type: {other}"),
        )),
    }?;
    let mut response = json_response(StatusCode::OK, &answer);
    // Token answers must not be cached (RFC 6749 §5.1).
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `client_secret_basic`: credentials in an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap, form: &mut Form) {
    let decoded = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    if let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
        form.entry("client_id".into())
            .or_insert_with(|| id.to_owned());
        form.entry("client_secret".into())
            .or_insert_with(|| secret.to_owned());
    }
}

fn unauthorized() -> AuthError {
    AuthError::access_denied(StatusCode::UNAUTHORIZED, "Unauthorized")
}

fn sign(state: &AppState, claims: &Value) -> Result<String, AuthError> {
    let key = std::sync::Arc::clone(state.keys().current());
    key.sign(claims, None).map_err(|error| {
        tracing::error!(%error, "signing a token");
        AuthError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Could not sign the token",
        )
    })
}

fn ttl_seconds(state: &AppState) -> i64 {
    i64::try_from(state.tenant.token_ttl.as_secs()).unwrap_or(86_400)
}

fn client_credentials(state: &AppState, form: &Form, issuer: &str) -> Result<Value, AuthError> {
    let client_id = form.get("client_id").ok_or_else(unauthorized)?;
    let client = state.tenant.client(client_id).ok_or_else(unauthorized)?;
    if form.get("client_secret") != Some(&client.client_secret) {
        return Err(unauthorized());
    }
    let audience = form.get("audience").ok_or_else(|| {
        AuthError::access_denied(
            StatusCode::FORBIDDEN,
            "No audience parameter was provided, and no default audience has been configured",
        )
    })?;
    if *audience != state.tenant.management_audience {
        return Err(AuthError::access_denied(
            StatusCode::FORBIDDEN,
            format!("Service not enabled within domain: {audience}"),
        ));
    }
    if client.scopes.is_empty() {
        return Err(AuthError::access_denied(
            StatusCode::FORBIDDEN,
            format!(
                "Client is not authorized to access \"{audience}\". You need to create a \
                 \"client-grant\" associated to this API. See: \
                 https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants"
            ),
        ));
    }
    let scopes: Vec<&str> = match form.get("scope").filter(|s| !s.trim().is_empty()) {
        None => client.scopes.iter().map(String::as_str).collect(),
        Some(requested) => {
            let requested: Vec<&str> = requested.split_whitespace().collect();
            let missing: Vec<&str> = requested
                .iter()
                .copied()
                .filter(|s| !client.scopes.iter().any(|c| c == s))
                .collect();
            if !missing.is_empty() {
                return Err(AuthError::access_denied(
                    StatusCode::FORBIDDEN,
                    format!("Client has not been granted scopes: {}", missing.join(", ")),
                ));
            }
            requested
        }
    };
    let scope = scopes.join(" ");
    let now = unix_now();
    let ttl = ttl_seconds(state);
    let claims = json!({
        "iss": issuer,
        "sub": format!("{client_id}@clients"),
        "aud": audience,
        "iat": now,
        "exp": now + ttl,
        "scope": scope,
        "gty": "client-credentials",
        "azp": client_id,
    });
    let access_token = sign(state, &claims)?;
    Ok(json!({
        "access_token": access_token,
        "scope": scope,
        "expires_in": ttl,
        "token_type": "Bearer",
    }))
}

fn wrong_credentials() -> AuthError {
    AuthError::new(
        StatusCode::FORBIDDEN,
        "invalid_grant",
        "Wrong email or password.",
    )
}

fn required<'a>(form: &'a Form, name: &str) -> Result<&'a str, AuthError> {
    form.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AuthError::invalid_request(format!("Missing required parameter: {name}")))
}

/// What a successful password-realm login contributes to its tokens.
struct Login {
    profile: Arc<Value>,
    permissions: Vec<String>,
    org_id: Option<String>,
    claims: Map<String, Value>,
}

fn password_realm(
    state: &AppState,
    form: &Form,
    ip: Ipv4Addr,
    issuer: &str,
) -> Result<Value, AuthError> {
    let client_id = required(form, "client_id")?;
    let client = state.tenant.client(client_id).ok_or_else(unauthorized)?;
    // A confidential client authenticates; a public one (no secret sent) is trusted, as a
    // native app's would be.
    if form
        .get("client_secret")
        .is_some_and(|s| *s != client.client_secret)
    {
        return Err(unauthorized());
    }
    let username = required(form, "username")?;
    let password = required(form, "password")?;
    let realm = required(form, "realm")?;
    let login = authenticate(state, client_id, realm, username, password, ip)?;

    let now = unix_now();
    let ttl = ttl_seconds(state);
    let scope = form
        .get("scope")
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "));
    let scope = scope.unwrap_or_default();
    let openid = scope.split(' ').any(|s| s == "openid");
    let userinfo = format!("{issuer}userinfo");
    let aud = match form.get("audience") {
        Some(audience) if openid => json!([audience, userinfo]),
        Some(audience) => json!(audience),
        None => json!(userinfo),
    };
    let sub = crate::store::user_id(&login.profile).unwrap_or_default();
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("sub".into(), json!(sub));
    claims.insert("aud".into(), aud);
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + ttl));
    claims.insert("azp".into(), json!(client_id));
    claims.insert("gty".into(), json!("password"));
    if !scope.is_empty() {
        claims.insert("scope".into(), json!(scope));
    }
    if !login.permissions.is_empty() {
        claims.insert("permissions".into(), json!(login.permissions));
    }
    if let Some(org_id) = &login.org_id {
        claims.insert("org_id".into(), json!(org_id));
    }
    // Actions add claims; they cannot replace the ones Auth0 sets.
    for (key, value) in login.claims {
        claims.entry(key).or_insert(value);
    }
    let access_token = sign(state, &Value::Object(claims))?;
    let mut answer = json!({
        "access_token": access_token,
        "expires_in": ttl,
        "token_type": "Bearer",
    });
    if !scope.is_empty() {
        answer["scope"] = json!(scope);
    }
    if openid {
        answer["id_token"] = json!(sign(
            state,
            &id_token_claims(issuer, &login.profile, client_id, &scope, now)
        )?);
    }
    Ok(answer)
}

/// The ID token of an `openid` login: profile claims for `profile`, email claims for `email`.
fn id_token_claims(issuer: &str, profile: &Value, client_id: &str, scope: &str, now: i64) -> Value {
    let mut claims = Map::new();
    let scopes: Vec<&str> = scope.split(' ').collect();
    let mut copy = |names: &[&str]| {
        for name in names {
            if let Some(value) = profile.get(*name) {
                claims.insert((*name).to_owned(), value.clone());
            }
        }
    };
    if scopes.contains(&"profile") {
        copy(&[
            "name",
            "nickname",
            "picture",
            "given_name",
            "family_name",
            "updated_at",
        ]);
    }
    if scopes.contains(&"email") {
        copy(&["email", "email_verified"]);
    }
    claims.insert("iss".into(), json!(issuer));
    claims.insert(
        "sub".into(),
        profile.get("user_id").cloned().unwrap_or(Value::Null),
    );
    claims.insert("aud".into(), json!(client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + 36_000));
    Value::Object(claims)
}

/// Checks the credentials and records the attempt (`s`, `fp`, `f`, `limit_wc`), as Auth0 does.
fn authenticate(
    state: &AppState,
    client_id: &str,
    realm: &str,
    username: &str,
    password: &str,
    ip: Ipv4Addr,
) -> Result<Login, AuthError> {
    let now = state.clock.now();
    let mut store = state.write();
    let connection = match store.directory.connection(realm) {
        Some(c) if c.is_database() => c.clone(),
        _ => {
            return Err(AuthError::invalid_request(format!(
                "Unknown realm: {realm}"
            )));
        }
    };
    let user = store
        .by_connection_email(realm, username)
        .cloned()
        .ok_or_else(wrong_credentials)?;
    let id = crate::store::user_id(&user).unwrap_or_default().to_owned();
    let identifier = username.to_lowercase();
    let attempt = |store: &mut Store, kind: LogKind, description: Option<&str>| {
        let mut event = LogEvent::new(now, kind);
        event.ip = ip;
        event.app = store.directory.app_index(client_id);
        event.connection = store.directory.connection_index(&connection.name);
        event.description = description.map(Into::into);
        event.user_name = Some(Arc::from(identifier.as_str()));
        if let Some(key) = store.interned_id(&id) {
            store.logs.push(&key, event);
        }
    };
    if !store.directory.blocks_of(&[identifier.as_str()]).is_empty() {
        return Err(AuthError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "Your account has been blocked after multiple consecutive login attempts. We've sent \
             you an email with instructions on how to unblock it.",
        ));
    }
    let credentials = store.credentials(&id).cloned().unwrap_or_default();
    if credentials.password.as_deref() != Some(password) {
        attempt(&mut store, LogKind::WrongPassword, None);
        let failures = store
            .directory
            .failures
            .entry((identifier.clone(), ip))
            .or_default();
        *failures += 1;
        if *failures >= BRUTE_FORCE_THRESHOLD {
            let block = BlockedFor {
                identifier: identifier.clone(),
                ip,
                connection: connection.name.clone(),
            };
            store
                .directory
                .blocks
                .entry(identifier.clone())
                .or_default()
                .push(block);
            store.directory.failures.remove(&(identifier.clone(), ip));
            attempt(&mut store, LogKind::Blocked, None);
        }
        return Err(wrong_credentials());
    }
    if user.get("blocked").and_then(Value::as_bool) == Some(true) {
        attempt(&mut store, LogKind::FailedLogin, Some("user is blocked"));
        return Err(AuthError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "user is blocked",
        ));
    }
    store.directory.failures.remove(&(identifier.clone(), ip));
    let mut profile = user.as_object().cloned().unwrap_or_default();
    let count = profile
        .get("logins_count")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        + 1;
    profile.insert("logins_count".into(), json!(count));
    profile.insert("last_login".into(), json!(iso(now)));
    profile.insert("last_ip".into(), json!(ip.to_string()));
    profile.insert("updated_at".into(), json!(iso(now)));
    let profile = store
        .replace(Value::Object(profile), std::time::Instant::now())
        .unwrap_or(user);
    attempt(&mut store, LogKind::Login, None);
    let mut permissions = store.directory.permissions_of(&id);
    for permission in &credentials.permissions {
        if !permissions.contains(permission) {
            permissions.push(permission.clone());
        }
    }
    Ok(Login {
        profile,
        permissions,
        org_id: credentials.org_id,
        claims: credentials.claims,
    })
}
