//! The portal as an OpenID Connect relying party: the authorization code flow with PKCE (S256)
//! against one issuer (the operator issuer for `/admin/`, a tenant for `/account/`).
//!
//! Written on the gateway's own reqwest client and jsonwebtoken rather than the `openidconnect`
//! crate, whose HTTP integration is reqwest 0.12 (a second HTTP stack) and which brings its own
//! crypto for algorithms Auth0 does not use here. What is needed is small: discovery, an
//! authorization URL, the code exchange and the ID token's checks (RS256 against the issuer's
//! JWKS through the same key cache bearer tokens use; `iss`, `aud` (and `azp`), `exp`, `iat`,
//! `nonce`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::auth::Jwks;

/// What a discovery document says (the part used).
#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    end_session_endpoint: Option<String>,
}

struct Discovered {
    document: Discovery,
    jwks: Arc<Jwks>,
    at: Instant,
}

/// Discovery is read again after this long (an issuer's endpoints rarely move).
const REDISCOVER: Duration = Duration::from_secs(3600);

/// Why a sign-in failed, in words for the person signing in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct SignInError(pub(crate) String);

fn fail(text: impl Into<String>) -> SignInError {
    SignInError(text.into())
}

/// The tokens of a completed sign-in.
#[derive(Debug, Clone)]
pub(crate) struct SignedIn {
    pub(crate) access_token: String,
    /// Unix milliseconds.
    pub(crate) expires: i64,
    pub(crate) subject: String,
    pub(crate) name: Option<String>,
    pub(crate) email: Option<String>,
}

/// One issuer and this portal's application there.
pub(crate) struct Provider {
    /// The issuers accepted: the discovery document must name one of them.
    issuers: Vec<String>,
    discovery_url: String,
    client_id: String,
    client_secret: Option<SecretString>,
    redirect_uri: String,
    /// The API the access token is for (`auth.audience`).
    audience: String,
    leeway: u64,
    http: reqwest::Client,
    discovered: Mutex<Option<Arc<Discovered>>>,
    jwks_refresh: (Duration, Duration),
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuers", &self.issuers)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// How a provider is set up.
pub(crate) struct ProviderConfig {
    pub(crate) issuers: Vec<String>,
    pub(crate) discovery_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<SecretString>,
    pub(crate) redirect_uri: String,
    pub(crate) audience: String,
    pub(crate) leeway: Duration,
    pub(crate) jwks_refresh: (Duration, Duration),
}

/// The PKCE S256 challenge of `verifier`.
pub(crate) fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    id_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
}

#[derive(Deserialize)]
struct TokenRefusal {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl Provider {
    pub(crate) fn new(config: ProviderConfig, http: reqwest::Client) -> Self {
        Self {
            issuers: config.issuers,
            discovery_url: config.discovery_url,
            client_id: config.client_id,
            client_secret: config.client_secret,
            redirect_uri: config.redirect_uri,
            audience: config.audience,
            leeway: config.leeway.as_secs(),
            http,
            discovered: Mutex::new(None),
            jwks_refresh: config.jwks_refresh,
        }
    }

    /// The discovery document, read once and again after [`REDISCOVER`]; a failure is tried
    /// again at the next sign-in.
    async fn discovered(&self) -> Result<Arc<Discovered>, SignInError> {
        let mut slot = self.discovered.lock().await;
        if let Some(known) = &*slot
            && known.at.elapsed() < REDISCOVER
        {
            return Ok(known.clone());
        }
        let unreachable = |e: &dyn std::fmt::Display| {
            tracing::warn!(url = %self.discovery_url, error = %e, "reading the issuer's discovery document failed");
            fail("the sign-in service cannot be reached; try again in a moment")
        };
        let response = self
            .http
            .get(&self.discovery_url)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        if !response.status().is_success() {
            return Err(unreachable(&response.status()));
        }
        let document: Discovery = response.json().await.map_err(|e| unreachable(&e))?;
        if !self.issuers.contains(&document.issuer) {
            tracing::error!(discovered = %document.issuer, expected = ?self.issuers, "the discovery document names another issuer");
            return Err(fail("the sign-in service is misconfigured (issuer)"));
        }
        let jwks = Arc::new(Jwks::new(
            document.jwks_uri.clone(),
            self.http.clone(),
            self.jwks_refresh.0,
            self.jwks_refresh.1,
        ));
        let discovered = Arc::new(Discovered {
            document,
            jwks,
            at: Instant::now(),
        });
        *slot = Some(discovered.clone());
        Ok(discovered)
    }

    /// Where to send the browser to sign in.
    pub(crate) async fn authorization_url(
        &self,
        state: &str,
        nonce: &str,
        verifier: &str,
    ) -> Result<String, SignInError> {
        let discovered = self.discovered().await?;
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("scope", "openid profile email"),
            ("audience", self.audience.as_str()),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", &challenge(verifier)),
            ("code_challenge_method", "S256"),
        ])
        .map_err(|_| fail("the sign-in request could not be made"))?;
        let endpoint = &discovered.document.authorization_endpoint;
        let separator = if endpoint.contains('?') { '&' } else { '?' };
        Ok(format!("{endpoint}{separator}{query}"))
    }

    /// Exchanges `code` (with the PKCE `verifier`) and checks the ID token against `nonce`.
    pub(crate) async fn exchange(
        &self,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<SignedIn, SignInError> {
        let discovered = self.discovered().await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", self.client_id.as_str()),
            ("code", code),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("code_verifier", verifier),
        ];
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret", secret.expose_secret()));
        }
        let response = self
            .http
            .post(&discovered.document.token_endpoint)
            .form(&form)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "the token endpoint did not answer");
                fail("the sign-in service did not answer; try again")
            })?;
        if !response.status().is_success() {
            let status = response.status();
            let refusal: Option<TokenRefusal> = response.json().await.ok();
            let (error, description) =
                refusal.map_or_else(|| (String::new(), None), |r| (r.error, r.error_description));
            tracing::warn!(%status, %error, ?description, "the code exchange was refused");
            return Err(fail(format!(
                "the sign-in service refused to complete the sign-in ({})",
                description.unwrap_or(error)
            )));
        }
        let answer: TokenAnswer = response
            .json()
            .await
            .map_err(|_| fail("the sign-in service answered something unreadable"))?;
        let claims = self
            .verify_id_token(&discovered, &answer.id_token, nonce)
            .await?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let subject = text("sub").unwrap_or_default();
        let expires_in = answer.expires_in.unwrap_or(3600).clamp(0, 30 * 24 * 3600);
        Ok(SignedIn {
            access_token: answer.access_token,
            expires: super::session::now_ms() + expires_in * 1000,
            subject,
            name: text("name"),
            email: text("email"),
        })
    }

    async fn verify_id_token(
        &self,
        discovered: &Discovered,
        token: &str,
        nonce: &str,
    ) -> Result<Value, SignInError> {
        let refused = |why: &str| {
            tracing::warn!(why, "an ID token was refused");
            fail(format!("the sign-in could not be verified ({why})"))
        };
        let header = decode_header(token).map_err(|_| refused("not a JWT"))?;
        if header.alg != Algorithm::RS256 {
            return Err(refused("not signed with RS256"));
        }
        let kid = header.kid.ok_or_else(|| refused("no key id"))?;
        let key = discovered
            .jwks
            .key(&kid)
            .await
            .map_err(|_| refused("unknown signing key"))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = self.leeway;
        validation.set_issuer(&[&discovered.document.issuer]);
        validation.set_audience(&[&self.client_id]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let claims = decode::<Value>(token, &key, &validation)
            .map_err(|e| refused(&format!("{:?}", e.kind())))?
            .claims;
        // With several audiences, the authorized party must be this application.
        if claims
            .get("aud")
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() > 1)
            && claims.get("azp").and_then(Value::as_str) != Some(self.client_id.as_str())
        {
            return Err(refused("azp"));
        }
        let given = claims
            .get("nonce")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !super::session::same_secret(given, nonce) {
            return Err(refused("nonce"));
        }
        Ok(claims)
    }

    /// Where to send the browser to sign out at the issuer, coming back to `return_to`: the
    /// discovery document's `end_session_endpoint` (OpenID Connect RP-initiated logout), else
    /// Auth0's `/v2/logout`; `None` when the issuer cannot be reached.
    pub(crate) async fn logout_url(&self, return_to: &str) -> Option<String> {
        let discovered = self.discovered().await.ok()?;
        let url = match &discovered.document.end_session_endpoint {
            Some(endpoint) => format!(
                "{endpoint}?{}",
                serde_urlencoded::to_string([
                    ("client_id", self.client_id.as_str()),
                    ("post_logout_redirect_uri", return_to),
                ])
                .ok()?
            ),
            None => {
                let origin = discovered
                    .document
                    .authorization_endpoint
                    .split('/')
                    .take(3)
                    .collect::<Vec<_>>()
                    .join("/");
                format!(
                    "{origin}/v2/logout?{}",
                    serde_urlencoded::to_string([
                        ("client_id", self.client_id.as_str()),
                        ("returnTo", return_to),
                    ])
                    .ok()?
                )
            }
        };
        Some(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s256_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    /// The ID token's checks, against an emulated issuer's keys.
    #[cfg(feature = "demo")]
    mod id_tokens {
        use super::*;
        use serde_json::json;
        use tenant_emulator::{Emulator, EmulatorConfig, KeyChoice, MintRequest};

        const CLIENT: &str = "portal-app";

        async fn issuer() -> (tenant_emulator::EmulatorHandle, Discovered) {
            let mut config = EmulatorConfig::new("idp");
            config.users = 0;
            let handle = Emulator::start(config).await.unwrap();
            let http = crate::http_client().unwrap();
            let discovered = Discovered {
                document: Discovery {
                    issuer: handle.issuer(),
                    authorization_endpoint: format!("{}/authorize", handle.base_url()),
                    token_endpoint: format!("{}/oauth/token", handle.base_url()),
                    jwks_uri: format!("{}/.well-known/jwks.json", handle.base_url()),
                    end_session_endpoint: None,
                },
                jwks: Arc::new(Jwks::new(
                    format!("{}/.well-known/jwks.json", handle.base_url()),
                    http,
                    Duration::from_secs(1),
                    Duration::from_secs(60),
                )),
                at: Instant::now(),
            };
            (handle, discovered)
        }

        fn provider(issuer: &str) -> Provider {
            Provider::new(
                ProviderConfig {
                    issuers: vec![issuer.to_owned()],
                    discovery_url: String::new(),
                    client_id: CLIENT.to_owned(),
                    client_secret: None,
                    redirect_uri: "http://127.0.0.1/admin/callback".to_owned(),
                    audience: "https://api.example/".to_owned(),
                    leeway: Duration::from_secs(0),
                    jwks_refresh: (Duration::from_secs(1), Duration::from_secs(60)),
                },
                reqwest::Client::new(),
            )
        }

        fn mint(handle: &tenant_emulator::EmulatorHandle, claims: Value, key: KeyChoice) -> String {
            let Value::Object(claims) = claims else {
                panic!("claims are an object")
            };
            handle
                .control()
                .mint_token(MintRequest {
                    claims,
                    key,
                    kid: None,
                })
                .unwrap()
        }

        #[tokio::test]
        async fn an_id_token_must_be_the_issuers_for_this_application_and_this_sign_in() {
            let (handle, discovered) = issuer().await;
            let provider = provider(&handle.issuer());
            let good = json!({"sub": "auth0|1", "aud": CLIENT, "nonce": "n-1", "name": "Ada"});
            let token = mint(&handle, good.clone(), KeyChoice::Tenant);
            let claims = provider
                .verify_id_token(&discovered, &token, "n-1")
                .await
                .unwrap();
            assert_eq!(claims["name"], "Ada");

            let refused = |claims: Value, key: KeyChoice, nonce: &'static str| {
                let token = mint(&handle, claims, key);
                let provider = &provider;
                let discovered = &discovered;
                async move { provider.verify_id_token(discovered, &token, nonce).await }
            };
            let error = refused(good.clone(), KeyChoice::Tenant, "n-2")
                .await
                .unwrap_err();
            assert!(error.0.contains("nonce"), "{error}");
            let mut other = good.clone();
            other["aud"] = json!("another-app");
            assert!(refused(other, KeyChoice::Tenant, "n-1").await.is_err());
            let mut several = good.clone();
            several["aud"] = json!([CLIENT, "another-app"]);
            several["azp"] = json!("another-app");
            let error = refused(several, KeyChoice::Tenant, "n-1")
                .await
                .unwrap_err();
            assert!(error.0.contains("azp"), "{error}");
            let mut expired = good.clone();
            expired["exp"] = json!(1_000_000);
            expired["iat"] = json!(999_000);
            assert!(refused(expired, KeyChoice::Tenant, "n-1").await.is_err());
            let mut foreign_issuer = good.clone();
            foreign_issuer["iss"] = json!("https://elsewhere.example/");
            assert!(
                refused(foreign_issuer, KeyChoice::Tenant, "n-1")
                    .await
                    .is_err()
            );
            let error = refused(good, KeyChoice::Foreign, "n-1").await.unwrap_err();
            assert!(error.0.contains("signing key"), "{error}");
        }
    }
}
