//! Verifying tokens this tenant issued to end users: access tokens at `/userinfo`, ID tokens
//! given back as logout hints.

use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;

use crate::state::AppState;

/// Whether `exp` and `nbf` count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Times {
    Enforced,
    /// For an `id_token_hint`, which is routinely expired by logout time (OIDC RP-Initiated
    /// Logout §2 treats it as a hint only).
    Ignored,
}

/// The claims of `token` if one of the tenant's published keys signed it with RS256 and its
/// `iss` is `issuer`: the issuer of the domain the token is presented on, since a token is only
/// good on the domain that issued it. The audience is the caller's to check.
pub fn verify(state: &AppState, token: &str, issuer: &str, times: Times) -> Option<Value> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    if header.alg != Algorithm::RS256 {
        return None;
    }
    let key = state.keys().find(&header.kid?).cloned()?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 0;
    validation.validate_aud = false;
    validation.set_issuer(&[issuer]);
    validation.required_spec_claims.clear();
    if times == Times::Enforced {
        validation.set_required_spec_claims(&["exp"]);
        validation.validate_nbf = true;
    } else {
        validation.validate_exp = false;
    }
    jsonwebtoken::decode::<Value>(token, key.decoding_key(), &validation)
        .ok()
        .map(|data| data.claims)
}

/// Whether the `aud` claim (a string or an array) names `audience`.
pub fn has_audience(claims: &Value, audience: &str) -> bool {
    match claims.get("aud") {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    }
}
