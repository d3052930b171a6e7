//! Bearer token → [`Caller`]. RS256 only; the key is chosen by issuer first, then `kid`; `exp`,
//! `nbf`, `iss` and `aud` are checked with `auth.leeway`. Operator tokens come from the
//! operator issuer; end-user tokens from a configured tenant's issuer (its canonical domain's
//! or its custom domain's). The configuration refuses an operator issuer that is also a
//! tenant's.
//!
//! An operator's organization is `auth.organization_claim` (set by the workforce tenant's Action
//! to the organization's id in the customers' tenants) or else Auth0's `org_id`: a token from an
//! organization sign-in always makes a delegated administrator, never a tenant-wide one, even
//! when the Action did not map it (its members are then found nowhere: fail closed).
//!
//! Retired keys: an issuer's key set is fetched again when it is older than
//! `auth.jwks_max_age` (10 minutes by default) or a token names an unknown key, so a signing
//! key the issuer has retired is trusted for at most that long. A verified token is remembered
//! until it expires, for at most [`REMEMBER`], so that a client sending the same token again
//! does not pay for another RSA verification; a remembered token is checked afresh as soon as
//! its issuer's key set changes, so remembering adds nothing to that bound.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::future::Cache;

use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde_json::Value;

use super::caller::{Caller, EndUser, Operator, Permission, TenantScope};
use super::jwks::{Jwks, KeyError};
use crate::config::{AuthConfig, TenantConfig};

/// Why a token was refused. The text is safe to show the caller: it names the check that
/// failed, never key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuthError(pub String);

fn refuse(reason: impl Into<String>) -> AuthError {
    AuthError(reason.into())
}

#[derive(Debug)]
enum IssuerKind {
    Operators,
    EndUsersOf(Arc<str>),
}

#[derive(Debug)]
struct Issuer {
    kind: IssuerKind,
    jwks: Jwks,
}

/// Longest a verified token is remembered.
pub(super) const REMEMBER: Duration = Duration::from_secs(60);

/// A verified caller and when to stop trusting its token without verifying it again.
#[derive(Clone)]
struct Verified {
    caller: Arc<Caller>,
    until: Instant,
    issuer: Arc<str>,
    /// The issuer's key-set generation it was verified with: a new set means verify again
    /// (a key may have been retired).
    keys: u64,
}

struct UntilExpiry;

impl Expiry<Arc<str>, Verified> for UntilExpiry {
    fn expire_after_create(
        &self,
        _: &Arc<str>,
        value: &Verified,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(value.until.saturating_duration_since(created_at))
    }
}

pub struct Verifier {
    audience: String,
    leeway: u64,
    tenants_claim: String,
    organization_claim: String,
    issuers: HashMap<String, Issuer>,
    verified: Cache<Arc<str>, Verified>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    pub fn new(config: &AuthConfig, tenants: &[TenantConfig], http: &reqwest::Client) -> Self {
        let jwks = |url: String| {
            Jwks::new(
                url,
                http.clone(),
                config.jwks_min_refresh,
                config.jwks_max_age,
            )
        };
        let mut issuers = HashMap::new();
        for tenant in tenants {
            // The custom domain serves the same keys as the canonical one.
            let url = format!("{}/.well-known/jwks.json", tenant.base_url());
            let id: Arc<str> = Arc::from(tenant.id.as_str());
            for issuer in tenant.issuers() {
                issuers.insert(
                    issuer,
                    Issuer {
                        kind: IssuerKind::EndUsersOf(id.clone()),
                        jwks: jwks(url.clone()),
                    },
                );
            }
        }
        if let Some(issuer) = &config.operator_issuer {
            let url = config.operator_jwks_url.clone().unwrap_or_else(|| {
                format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'))
            });
            issuers.insert(
                issuer.clone(),
                Issuer {
                    kind: IssuerKind::Operators,
                    jwks: jwks(url),
                },
            );
        }
        Self {
            audience: config.audience.clone(),
            leeway: config.leeway.as_secs(),
            tenants_claim: config.tenants_claim.clone(),
            organization_claim: config.organization_claim.clone(),
            issuers,
            verified: Cache::builder()
                .max_capacity(10_000)
                .expire_after(UntilExpiry)
                .build(),
        }
    }

    /// Verifies a bearer token and says who it speaks for.
    pub async fn verify(&self, token: &str) -> Result<Arc<Caller>, AuthError> {
        if let Some(caller) = self.known(token).await {
            return Ok(caller);
        }
        let (caller, expires, issuer, keys) = self.verify_afresh(token).await?;
        let caller = Arc::new(caller);
        let remaining = expires
            .and_then(|exp| exp.checked_sub(jsonwebtoken::get_current_timestamp()))
            .map(Duration::from_secs)
            .unwrap_or_default();
        if !remaining.is_zero() {
            let until = Instant::now() + remaining.min(REMEMBER);
            let verified = Verified {
                caller: caller.clone(),
                until,
                issuer,
                keys,
            };
            self.verified.insert(Arc::from(token), verified).await;
        }
        Ok(caller)
    }

    /// The caller of a token verified lately, still within its memo and with its issuer's keys
    /// unchanged and fresh; `None` when it must be verified (again).
    pub async fn known(&self, token: &str) -> Option<Arc<Caller>> {
        let known = self.verified.get(token).await?;
        let issuer = self.issuers.get(&*known.issuer)?;
        (Instant::now() < known.until
            && issuer.jwks.generation() == known.keys
            && issuer.jwks.is_fresh())
        .then_some(known.caller)
    }

    /// The checks themselves; also answers the token's `exp`, its issuer and the generation of
    /// the issuer's keys used.
    async fn verify_afresh(
        &self,
        token: &str,
    ) -> Result<(Caller, Option<u64>, Arc<str>, u64), AuthError> {
        let header = decode_header(token).map_err(|_| refuse("the bearer token is not a JWT"))?;
        if header.alg != Algorithm::RS256 {
            return Err(refuse(format!(
                "tokens must be signed with RS256, not {:?}",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| refuse("the token has no key id (kid)"))?;
        // The issuer picks the key set; it is read unverified here and verified below.
        let unverified: Value = jsonwebtoken::dangerous::insecure_decode_claims(token)
            .map_err(|_| refuse("the token's claims are unreadable"))?;
        let issuer_id = unverified
            .get("iss")
            .and_then(Value::as_str)
            .ok_or_else(|| refuse("the token has no issuer"))?;
        let issuer = self
            .issuers
            .get(issuer_id)
            .ok_or_else(|| refuse("the token's issuer is not trusted"))?;
        let key = issuer.jwks.key(&kid).await.map_err(|e| match e {
            KeyError::UnknownKey => refuse("the token's signing key is unknown"),
            KeyError::Unreachable => refuse("the token's issuer keys are unavailable; try again"),
        })?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        validation.set_issuer(&[issuer_id]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = decode::<Value>(token, &key, &validation)
            .map_err(|e| refuse(describe(e.kind())))?
            .claims;
        let expires = claims.get("exp").and_then(Value::as_u64);
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if subject.is_empty() {
            return Err(refuse("the token has no subject"));
        }
        let caller = match &issuer.kind {
            IssuerKind::EndUsersOf(tenant) => Caller::EndUser(EndUser {
                tenant: tenant.clone(),
                user_id: subject,
                issuer: issuer_id.to_owned(),
            }),
            IssuerKind::Operators => Caller::Operator(Operator {
                issuer: issuer_id.to_owned(),
                subject,
                permissions: permissions(&claims)?,
                tenants: self.tenant_scope(&claims)?,
                organization: self.organization(&claims)?,
            }),
        };
        Ok((
            caller,
            expires,
            Arc::from(issuer_id),
            issuer.jwks.generation(),
        ))
    }

    /// The organization a delegated administrator administers: the mapped claim, else `org_id`;
    /// `None` for a tenant-wide operator. A claim present but not a non-empty string is refused.
    fn organization(&self, claims: &Value) -> Result<Option<String>, AuthError> {
        for (name, claim) in [
            (
                self.organization_claim.as_str(),
                claims.get(&self.organization_claim),
            ),
            ("org_id", claims.get("org_id")),
        ] {
            match claim {
                None => {}
                Some(Value::String(org)) if !org.is_empty() => return Ok(Some(org.clone())),
                Some(_) => {
                    return Err(refuse(format!("the token's {name} claim is malformed")));
                }
            }
        }
        Ok(None)
    }

    /// `"*"` or a list of ids (`"*"` among them means all); absent means none. Anything else
    /// is a misconfigured issuer: the token is refused rather than read as "none".
    fn tenant_scope(&self, claims: &Value) -> Result<TenantScope, AuthError> {
        let Some(claim) = claims.get(&self.tenants_claim) else {
            return Ok(TenantScope::Only(BTreeSet::new()));
        };
        if claim.as_str() == Some("*") {
            return Ok(TenantScope::All);
        }
        let ids = strings(claim).ok_or_else(|| refuse("the token's tenants claim is malformed"))?;
        Ok(if ids.iter().any(|id| id == "*") {
            TenantScope::All
        } else {
            TenantScope::Only(ids.into_iter().collect())
        })
    }
}

/// The items of a JSON array of strings; `None` for anything else.
fn strings(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect()
}

/// Auth0 RBAC's `permissions`: an array of strings (unknown names are ignored); absent means
/// none; anything else is refused.
fn permissions(claims: &Value) -> Result<BTreeSet<Permission>, AuthError> {
    let Some(claim) = claims.get("permissions") else {
        return Ok(BTreeSet::new());
    };
    let names =
        strings(claim).ok_or_else(|| refuse("the token's permissions claim is malformed"))?;
    Ok(names
        .iter()
        .filter_map(|name| Permission::parse(name))
        .collect())
}

fn describe(kind: &jsonwebtoken::errors::ErrorKind) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet",
        ErrorKind::InvalidAudience => "the token is not meant for this API (audience)",
        ErrorKind::InvalidIssuer => "the token's issuer is not trusted",
        ErrorKind::InvalidSignature => "the token's signature does not verify",
        ErrorKind::MissingRequiredClaim(_) => {
            "the token lacks a required claim (exp, iss, aud, sub)"
        }
        ErrorKind::InvalidAlgorithm => "tokens must be signed with RS256",
        _ => "the token is malformed",
    }
}
