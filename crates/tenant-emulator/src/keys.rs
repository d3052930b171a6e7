//! Signing keys: RSA 2048 generated deterministically from (seed, tenant, generation), cached for
//! the whole process, published as a JWKS, rotated on request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use rand::SeedableRng as _;
use rand_chacha::ChaCha20Rng;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::sha2::{Digest as _, Sha256};
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};

/// One RSA key pair with everything derived from it.
pub struct KeyPair {
    pub kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    n: String,
    e: String,
}

impl KeyPair {
    fn generate(rng_seed: [u8; 32]) -> anyhow::Result<Self> {
        let mut rng = ChaCha20Rng::from_seed(rng_seed);
        let private = rsa::RsaPrivateKey::new(&mut rng, 2048).context("generating an RSA key")?;
        let der = private.to_pkcs1_der().context("encoding the RSA key")?;
        let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
        // RFC 7638 thumbprint: stable for a key, and shaped like the kids real issuers publish.
        let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        let decoding = DecodingKey::from_rsa_components(&n, &e).context("decoding key")?;
        Ok(Self {
            kid,
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            decoding,
            n,
            e,
        })
    }

    pub fn jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": self.n,
            "e": self.e,
        })
    }

    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// Signs `claims` with RS256, the header carrying `kid` (or `kid_override`).
    pub fn sign(&self, claims: &Value, kid_override: Option<&str>) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid_override.unwrap_or(&self.kid).to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).context("signing a token")
    }
}

type CacheKey = (u64, String, u32);

/// Key generation costs a good fraction of a second; tests start many emulators with the same
/// tenant names, so each key is made once per process.
fn cache() -> &'static Mutex<HashMap<CacheKey, Arc<KeyPair>>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Arc<KeyPair>>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// The key of generation `generation` for `(seed, label)`. Blocking: call from a blocking task.
pub fn key_for(seed: u64, label: &str, generation: u32) -> anyhow::Result<Arc<KeyPair>> {
    let key = (seed, label.to_owned(), generation);
    if let Some(found) = cache()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return Ok(Arc::clone(found));
    }
    // Generated outside the lock so tenants with different names do not wait for each other;
    // a race makes the same deterministic key twice, which is harmless.
    let mut hasher = Sha256::new();
    hasher.update(b"tenant-emulator signing key\0");
    hasher.update(seed.to_le_bytes());
    hasher.update(label.as_bytes());
    hasher.update([0]);
    hasher.update(generation.to_le_bytes());
    let pair = Arc::new(KeyPair::generate(hasher.finalize().into())?);
    let mut cache = cache().lock().unwrap_or_else(PoisonError::into_inner);
    Ok(Arc::clone(cache.entry(key).or_insert(pair)))
}

/// The label of the foreign key of a tenant: a key that tenant never publishes.
pub fn foreign_label(tenant: &str) -> String {
    format!("{tenant}\0foreign")
}

/// The tenant's keys: the one signing now and the older ones still published.
pub struct KeyRing {
    pub seed: u64,
    pub tenant: String,
    generation: u32,
    current: Arc<KeyPair>,
    published: Vec<Arc<KeyPair>>,
}

impl KeyRing {
    pub fn new(seed: u64, tenant: &str) -> anyhow::Result<Self> {
        let current = key_for(seed, tenant, 0)?;
        Ok(Self {
            seed,
            tenant: tenant.to_owned(),
            generation: 0,
            published: vec![Arc::clone(&current)],
            current,
        })
    }

    pub fn current(&self) -> &Arc<KeyPair> {
        &self.current
    }

    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The published key with this `kid`.
    pub fn find(&self, kid: &str) -> Option<&Arc<KeyPair>> {
        self.published.iter().find(|k| k.kid == kid)
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": self.published.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
    }

    /// Installs `next` (generation `generation`) as the signing key. The old keys stay published
    /// unless `retire_old`, as during an Auth0 rotation.
    pub fn install(&mut self, next: Arc<KeyPair>, generation: u32, retire_old: bool) {
        if retire_old {
            self.published.clear();
        }
        self.published.insert(0, Arc::clone(&next));
        self.current = next;
        self.generation = generation;
    }
}
