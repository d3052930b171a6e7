//! The tokens an end user's login earns, whichever grant proved it: an access token carrying
//! RBAC `permissions`, `org_id` and Action claims, and for `openid` an ID token; plus the
//! profile claims that scopes release (shared with `/userinfo`).

use serde_json::{Map, Value, json};

use super::authenticate::Login;
use super::{sign, ttl_seconds};
use crate::clock::unix_now;
use crate::errors::AuthError;
use crate::state::AppState;

/// Auth0's default ID token lifetime (10 hours), independent of the access token's.
const ID_TOKEN_TTL: i64 = 36_000;

/// What the token request asked for, beyond who the user is.
pub struct TokenRequest<'a> {
    pub client_id: &'a str,
    /// `https://{domain}/` of the domain the login went through (the canonical or the custom
    /// one): the tokens' `iss`, and the `/userinfo` audience they name.
    pub issuer: &'a str,
    pub audience: Option<&'a str>,
    /// Space-separated; may be empty.
    pub scope: &'a str,
    /// The `/authorize` nonce, echoed in the ID token.
    pub nonce: Option<&'a str>,
    /// The login session, as the ID token's `sid`.
    pub sid: Option<&'a str>,
    /// The `gty` claim Auth0 adds for some grants (`password`); none for the code flow.
    pub gty: Option<&'static str>,
}

/// The token answer: `access_token`, `expires_in`, `token_type`, and `scope` and `id_token`
/// when they apply.
pub fn issue(
    state: &AppState,
    login: Login,
    request: &TokenRequest<'_>,
) -> Result<Value, AuthError> {
    let now = unix_now();
    let ttl = ttl_seconds(state);
    let scope = request.scope;
    let openid = has_scope(scope, "openid");
    let userinfo = format!("{}userinfo", request.issuer);
    let aud = match request.audience {
        Some(audience) if openid => json!([audience, userinfo]),
        Some(audience) => json!(audience),
        None => json!(userinfo),
    };
    let sub = crate::store::user_id(&login.profile).unwrap_or_default();
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(request.issuer));
    claims.insert("sub".into(), json!(sub));
    claims.insert("aud".into(), aud);
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + ttl));
    claims.insert("azp".into(), json!(request.client_id));
    if let Some(gty) = request.gty {
        claims.insert("gty".into(), json!(gty));
    }
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
        answer["id_token"] = json!(sign(state, &id_token_claims(&login.profile, request, now))?);
    }
    Ok(answer)
}

/// Whether a space-separated scope string holds `wanted`.
pub fn has_scope(scope: &str, wanted: &str) -> bool {
    scope.split_whitespace().any(|s| s == wanted)
}

/// The profile claims a scope releases: `profile` for names, picture and `updated_at`, `email`
/// for the email and whether it is verified.
pub fn profile_claims(profile: &Value, scope: &str) -> Map<String, Value> {
    let mut claims = Map::new();
    let mut copy = |names: &[&str]| {
        for name in names {
            if let Some(value) = profile.get(*name) {
                claims.insert((*name).to_owned(), value.clone());
            }
        }
    };
    if has_scope(scope, "profile") {
        copy(&[
            "name",
            "nickname",
            "picture",
            "given_name",
            "family_name",
            "updated_at",
        ]);
    }
    if has_scope(scope, "email") {
        copy(&["email", "email_verified"]);
    }
    claims
}

fn id_token_claims(profile: &Value, request: &TokenRequest<'_>, now: i64) -> Value {
    let mut claims = profile_claims(profile, request.scope);
    claims.insert("iss".into(), json!(request.issuer));
    claims.insert(
        "sub".into(),
        profile.get("user_id").cloned().unwrap_or(Value::Null),
    );
    claims.insert("aud".into(), json!(request.client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + ID_TOKEN_TTL));
    if let Some(sid) = request.sid {
        claims.insert("sid".into(), json!(sid));
    }
    if let Some(nonce) = request.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    Value::Object(claims)
}
