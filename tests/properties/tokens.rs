//! Property 3: every malformed, forged or tampered bearer token is refused with HTTP 401 and
//! `UNAUTHENTICATED`, never a 5xx, never a panic, and the refusal shows no key material (nor
//! echoes the token).
//!
//! The corpus ([`case`]): arbitrary text and bytes; random base64url segments; the gateway's
//! own valid tokens (an operator's and an end user's) with a segment replaced, truncated,
//! bit-flipped, dropped, duplicated or swapped; forged headers (`alg` none, HS*, RS384/512,
//! ES*, PS*, EdDSA, junk; `kid` missing, empty, unknown, of the wrong type; embedded `jwk` and
//! `jku`) over good or junk payloads with good, empty, random or attacker-made signatures;
//! HS256 signed with the issuer's public key (algorithm confusion); tokens up to 16 kB; tokens
//! properly signed by the issuer whose `exp`, `nbf`, `aud`, `iss` or `sub` have the wrong type
//! or value; tokens signed by the emulator's foreign (unpublished) key under a known or unknown
//! `kid`; tokens signed by one issuer claiming to be another.
//!
//! Run twice: over HTTP (`POST /graphql`, also with odd `Authorization` schemes) and, many more
//! cases, straight against a `Verifier` configured as the gateway's.
//!
//! A signed token whose `permissions` or tenants claim has the wrong type is not malformed in
//! the sense above (its signature, issuer, audience and lifetime are fine): the verifier reads
//! such a claim as "none". [`wrong_typed_grants_grant_nothing`] pins that down.

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{Map, Value, json};
use tenant_emulator::{KeyChoice, MintRequest};
use tenantgraph::auth::{Caller, TenantScope};
use tenantgraph::demo::{AUDIENCE, TENANTS_CLAIM};

use crate::lab::{Lab, lab};
use crate::support::{block_on, clip, config, no_worker_panics};

/// Who signed the valid token a case starts from.
#[derive(Debug, Clone, Copy)]
enum Base {
    Operator,
    EndUser,
}

/// Everything derived once from the lab: valid tokens to tamper with, keys to forge with, and
/// the strings no refusal may contain.
struct Seeds {
    operator: String,
    end_user: String,
    operator_kid: String,
    operator_claims: Map<String, Value>,
    /// An RSA key nobody trusts, to sign forged headers properly.
    attacker: rsa::pkcs1v15::SigningKey<rsa::sha2::Sha256>,
    /// Encodings of the operator issuer's public key, the classic HS256 confusion secrets.
    public_secrets: Vec<Vec<u8>>,
    /// Key material of every issuer (JWKS moduli, PEM armour): never in a message.
    key_material: Vec<String>,
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        use rsa::pkcs1::EncodeRsaPublicKey;
        use rsa::pkcs8::EncodePublicKey;
        let lab = lab();
        let claims = lab.operator_claims("auth0|prop-operator", &["read:users"], json!("*"));
        let operator = lab.operator_token(claims.clone(), KeyChoice::Tenant, None);
        let end_user = lab.end_user_token(&lab.real_user);
        let operator_kid = kid_of(&operator).unwrap();

        let mut key_material = vec!["BEGIN".to_owned(), "PRIVATE".to_owned()];
        let mut public_secrets = Vec::new();
        let issuers = std::iter::once(&lab.env.operators).chain(lab.env.tenants.iter());
        for (i, issuer) in issuers.enumerate() {
            let url = format!("{}/.well-known/jwks.json", issuer.base_url());
            let jwks: Value = crate::support::runtime()
                .block_on(async { lab.client.get(url).send().await?.json().await })
                .unwrap();
            for key in jwks["keys"].as_array().unwrap() {
                let n = key["n"].as_str().unwrap();
                key_material.push(n[..32].to_owned());
                key_material.push(n[n.len() - 32..].to_owned());
                if i == 0 {
                    let n = rsa::BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(n).unwrap());
                    let e = URL_SAFE_NO_PAD.decode(key["e"].as_str().unwrap()).unwrap();
                    let public =
                        rsa::RsaPublicKey::new(n.clone(), rsa::BigUint::from_bytes_be(&e)).unwrap();
                    let lf = rsa::pkcs8::LineEnding::LF;
                    public_secrets.push(public.to_pkcs1_pem(lf).unwrap().into_bytes());
                    public_secrets.push(public.to_public_key_pem(lf).unwrap().into_bytes());
                    public_secrets.push(public.to_pkcs1_der().unwrap().as_bytes().to_vec());
                    public_secrets.push(n.to_bytes_be());
                }
            }
        }
        // The control case: both valid tokens are accepted (and now remembered by the
        // verifier, so tampered copies also meet its cache of verified tokens).
        for good in [&operator, &end_user] {
            let verdict = crate::support::runtime().block_on(lab.gateway.verifier().verify(good));
            assert!(verdict.is_ok(), "a valid token is refused: {verdict:?}");
        }
        let attacker = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        Seeds {
            operator,
            end_user,
            operator_kid,
            operator_claims: claims,
            attacker: rsa::pkcs1v15::SigningKey::new(attacker),
            public_secrets,
            key_material,
        }
    })
}

fn kid_of(token: &str) -> Option<String> {
    let header = URL_SAFE_NO_PAD.decode(token.split('.').next()?).ok()?;
    let header: Value = serde_json::from_slice(&header).ok()?;
    header["kid"].as_str().map(str::to_owned)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// One change to a valid token's text.
#[derive(Debug, Clone)]
enum Tamper {
    /// Segment `0..3` replaced by this text.
    Replace(usize, String),
    /// Cut at some point.
    Truncate(Index),
    /// One bit of one segment's decoded bytes flipped, then re-encoded.
    FlipBit(usize, Index),
    /// One character replaced.
    Char(Index, char),
    Drop(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Insert(Index, String),
}

/// Claims that make a properly signed token invalid: wrong types and wrong values of `exp`,
/// `nbf`, `aud`, `iss`, `sub` (`null` leaves the claim out).
fn bad_claim() -> impl Strategy<Value = (&'static str, Value)> {
    let t = now();
    prop_oneof![
        select(vec![
            json!("9999999999"),
            json!("soon"),
            json!(true),
            json!([t + 3600]),
            json!({"at": t + 3600}),
            json!(t - 3600),
            json!((t - 3600) as f64 + 0.5),
            json!(-1),
            json!(0),
            json!(-1e300),
            json!(1e300),
            Value::Null,
        ])
        .prop_map(|v| ("exp", v)),
        select(vec![
            json!("0"),
            json!(false),
            json!([0]),
            json!({}),
            json!(t + 3600),
            json!(-5),
            json!(1e300),
            json!(u64::MAX),
        ])
        .prop_map(|v| ("nbf", v)),
        select(vec![
            json!(5),
            json!(true),
            json!({}),
            json!([]),
            json!(["https://someone-else.example/"]),
            json!("https://someone-else.example/"),
            json!(""),
            json!(AUDIENCE.trim_end_matches('/')),
            json!(AUDIENCE.to_uppercase()),
            json!(format!(" {AUDIENCE}")),
            Value::Null,
        ])
        .prop_map(|v| ("aud", v)),
        select(vec![
            json!(5),
            json!({}),
            json!([]),
            json!(""),
            json!("https://evil.example/"),
            json!("HTTPS://OPERATORS.AUTH0.TEST/"),
            json!("https://operators.auth0.test"),
            json!("https://acme-eu.auth0.test"),
            Value::Null,
        ])
        .prop_map(|v| ("iss", v)),
        select(vec![
            json!(5),
            json!([]),
            json!({}),
            json!(""),
            json!(true),
            Value::Null
        ])
        .prop_map(|v| ("sub", v)),
    ]
}

/// A JWT header a forger would try.
#[derive(Debug, Clone)]
struct Header {
    alg: Value,
    kid: Option<Value>,
    extra: Option<(&'static str, Value)>,
}

fn header() -> impl Strategy<Value = Header> {
    let alg = select(vec![
        json!("none"),
        json!("None"),
        json!("NONE"),
        json!("HS256"),
        json!("HS384"),
        json!("HS512"),
        json!("RS256"),
        json!("RS384"),
        json!("RS512"),
        json!("ES256"),
        json!("ES384"),
        json!("PS256"),
        json!("EdDSA"),
        json!("rs256"),
        json!("RS256 "),
        json!(""),
        json!(256),
        json!(null),
        json!(["RS256"]),
    ]);
    let kid = proptest::option::of(prop_oneof![
        Just(Value::Null),
        Just(json!("")),
        Just(json!(5)),
        Just(json!("../../../../etc/passwd")),
        Just(json!("x".repeat(2000))),
        "[a-zA-Z0-9_-]{1,40}".prop_map(Value::from),
        Just(json!("OPERATOR_KID")),
    ]);
    let extra = proptest::option::of(select(vec![
        ("jku", json!("http://127.0.0.1:1/jwks.json")),
        ("x5u", json!("http://127.0.0.1:1/cert.pem")),
        (
            "jwk",
            json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "mine"}),
        ),
        ("crit", json!(["exp"])),
        ("typ", json!(5)),
        ("typ", json!("at+jwt")),
        ("zip", json!("DEF")),
    ]));
    (alg, kid, extra).prop_map(|(alg, kid, extra)| Header { alg, kid, extra })
}

#[derive(Debug, Clone)]
enum Payload {
    Of(Base),
    Claims(Vec<(&'static str, Value)>),
    Json(Value),
    Text(String),
}

#[derive(Debug, Clone)]
enum Signature {
    Of(Base),
    Empty,
    Random(String),
    Attacker,
}

/// One way to make a token that must be refused.
#[derive(Debug, Clone)]
enum Case {
    Text(String),
    Bytes(Vec<u8>),
    Segments(Vec<String>),
    Tampered(Base, Vec<Tamper>),
    Forged(Header, Payload, Signature),
    /// HS256 with one encoding of the issuer's public key as the secret, under its `kid` or none.
    Confused(Index, bool),
    /// Properly signed by the issuer, with bad claims.
    Claims(Base, Vec<(&'static str, Value)>),
    /// Signed with the emulator's foreign key: no `kid` of its own, the issuer's, or junk.
    Foreign(Base, Option<Option<String>>),
    /// Signed by one issuer's key while claiming the other issuer.
    CrossIssuer(Base),
    /// A long token: (total size, shape).
    Huge(usize, u8),
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{0,120}",
        "[A-Za-z0-9_=+/-]{0,40}",
        Just(String::new()),
        Just(b64(b"{}")),
        Just(b64(b"null")),
        Just(b64(br#"{"alg":"none"}"#)),
        Just(b64(br#"{"alg":"RS256","kid":"x"}"#)),
    ]
}

fn tamper() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        (0..3usize, segment()).prop_map(|(i, s)| Tamper::Replace(i, s)),
        any::<Index>().prop_map(Tamper::Truncate),
        (0..3usize, any::<Index>()).prop_map(|(i, b)| Tamper::FlipBit(i, b)),
        (
            any::<Index>(),
            prop_oneof![
                proptest::char::ranges(vec!['a'..='z', 'A'..='Z', '0'..='9'].into()),
                select(vec![
                    '-', '_', '.', '=', '+', '/', ' ', '\t', '\u{0}', 'é', '😀'
                ]),
            ]
        )
            .prop_map(|(at, c)| Tamper::Char(at, c)),
        (0..3usize).prop_map(Tamper::Drop),
        (0..3usize).prop_map(Tamper::Duplicate),
        (0..3usize, 0..3usize).prop_map(|(a, b)| Tamper::Swap(a, b)),
        (
            any::<Index>(),
            prop_oneof![
                Just(".".to_owned()),
                Just("..".to_owned()),
                "[A-Za-z0-9_-]{1,4}"
            ]
        )
            .prop_map(|(at, s)| Tamper::Insert(at, s)),
    ]
}

fn base() -> impl Strategy<Value = Base> {
    prop_oneof![3 => Just(Base::Operator), 1 => Just(Base::EndUser)]
}

/// The corpus.
fn case() -> impl Strategy<Value = Case> {
    let payload = prop_oneof![
        base().prop_map(Payload::Of),
        proptest::collection::vec(bad_claim(), 0..3).prop_map(Payload::Claims),
        crate::documents::json_value().prop_map(Payload::Json),
        ".{0,40}".prop_map(Payload::Text),
    ];
    let signature = prop_oneof![
        base().prop_map(Signature::Of),
        Just(Signature::Empty),
        "[A-Za-z0-9_-]{1,400}".prop_map(Signature::Random),
        Just(Signature::Attacker),
    ];
    prop_oneof![
        2 => any::<String>().prop_map(Case::Text),
        1 => "[ -~]{0,200}".prop_map(Case::Text),
        1 => proptest::collection::vec(any::<u8>(), 0..300).prop_map(Case::Bytes),
        2 => proptest::collection::vec(segment(), 1..6).prop_map(Case::Segments),
        6 => (base(), proptest::collection::vec(tamper(), 1..4))
            .prop_map(|(b, t)| Case::Tampered(b, t)),
        5 => (header(), payload, signature).prop_map(|(h, p, s)| Case::Forged(h, p, s)),
        1 => (any::<Index>(), any::<bool>()).prop_map(|(i, kid)| Case::Confused(i, kid)),
        4 => (base(), proptest::collection::vec(bad_claim(), 1..4))
            .prop_map(|(b, c)| Case::Claims(b, c)),
        1 => (base(), proptest::option::of(proptest::option::of("[a-z0-9]{1,12}")))
            .prop_map(|(b, kid)| Case::Foreign(b, kid)),
        1 => base().prop_map(Case::CrossIssuer),
        1 => (1000..16_000usize, 0..4u8).prop_map(|(n, shape)| Case::Huge(n, shape)),
    ]
}

fn good(base: Base) -> &'static str {
    match base {
        Base::Operator => &seeds().operator,
        Base::EndUser => &seeds().end_user,
    }
}

fn mint(
    lab: &Lab,
    base: Base,
    claims: Map<String, Value>,
    key: KeyChoice,
    kid: Option<String>,
) -> String {
    let issuer = match base {
        Base::Operator => &lab.env.operators,
        Base::EndUser => lab.env.tenant("acme-eu").unwrap(),
    };
    issuer
        .control()
        .mint_token(MintRequest { claims, key, kid })
        .unwrap()
}

fn claims_of(lab: &Lab, base: Base) -> Map<String, Value> {
    match base {
        Base::Operator => seeds().operator_claims.clone(),
        Base::EndUser => json!({"sub": lab.real_user, "aud": AUDIENCE})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    }
}

fn with(mut claims: Map<String, Value>, changes: &[(&'static str, Value)]) -> Map<String, Value> {
    for (name, value) in changes {
        claims.insert((*name).to_owned(), value.clone());
    }
    claims
}

fn tampered(base: Base, tampers: &[Tamper]) -> String {
    let mut segments: Vec<String> = good(base).split('.').map(str::to_owned).collect();
    for tamper in tampers {
        let n = segments.len();
        match tamper {
            Tamper::Replace(i, s) if *i < n => segments[*i].clone_from(s),
            Tamper::FlipBit(i, bit) if *i < n => {
                if let Ok(mut bytes) = URL_SAFE_NO_PAD.decode(&segments[*i])
                    && !bytes.is_empty()
                {
                    let bit = bit.index(bytes.len() * 8);
                    bytes[bit / 8] ^= 1 << (bit % 8);
                    segments[*i] = b64(&bytes);
                }
            }
            Tamper::Drop(i) if *i < n && n > 1 => {
                segments.remove(*i);
            }
            Tamper::Duplicate(i) if *i < n => {
                let copy = segments[*i].clone();
                segments.insert(*i, copy);
            }
            Tamper::Swap(a, b) if *a < n && *b < n => segments.swap(*a, *b),
            Tamper::Truncate(at) => {
                let chars: Vec<char> = segments.join(".").chars().collect();
                let at = at.index(chars.len().max(1));
                segments = vec![chars[..at.min(chars.len())].iter().collect()];
            }
            Tamper::Char(at, c) => {
                let mut chars: Vec<char> = segments.join(".").chars().collect();
                if !chars.is_empty() {
                    let at = at.index(chars.len());
                    chars[at] = *c;
                }
                segments = vec![chars.into_iter().collect()];
            }
            Tamper::Insert(at, s) => {
                let mut chars: Vec<char> = segments.join(".").chars().collect();
                let at = at.index(chars.len() + 1);
                chars.splice(at..at, s.chars());
                segments = vec![chars.into_iter().collect()];
            }
            _ => {}
        }
    }
    segments.join(".")
}

fn forged(lab: &Lab, header: &Header, payload: &Payload, signature: &Signature) -> String {
    let seeds = seeds();
    let mut head = Map::new();
    head.insert("alg".into(), header.alg.clone());
    head.insert("typ".into(), json!("JWT"));
    match &header.kid {
        Some(Value::String(k)) if k == "OPERATOR_KID" => {
            head.insert("kid".into(), json!(seeds.operator_kid));
        }
        Some(kid) => {
            head.insert("kid".into(), kid.clone());
        }
        None => {}
    }
    if let Some((name, value)) = &header.extra {
        head.insert((*name).into(), value.clone());
    }
    let head = b64(Value::Object(head).to_string().as_bytes());
    let body = match payload {
        Payload::Of(base) => good(*base).split('.').nth(1).unwrap_or_default().to_owned(),
        Payload::Claims(changes) => {
            let mut claims = with(claims_of(lab, Base::Operator), changes);
            claims.insert("iss".into(), json!(lab.env.operators.issuer()));
            claims.insert("exp".into(), json!(now() + 3600));
            b64(Value::Object(claims).to_string().as_bytes())
        }
        Payload::Json(value) => b64(value.to_string().as_bytes()),
        Payload::Text(text) => b64(text.as_bytes()),
    };
    let signed = format!("{head}.{body}");
    let signature = match signature {
        Signature::Of(base) => good(*base).split('.').nth(2).unwrap_or_default().to_owned(),
        Signature::Empty => String::new(),
        Signature::Random(s) => s.clone(),
        Signature::Attacker => b64(&seeds.attacker.sign(signed.as_bytes()).to_bytes()),
    };
    format!("{signed}.{signature}")
}

fn confused(secret: Index, with_kid: bool) -> String {
    let seeds = seeds();
    let secret = &seeds.public_secrets[secret.index(seeds.public_secrets.len())];
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = with_kid.then(|| seeds.operator_kid.clone());
    jsonwebtoken::encode(
        &header,
        &seeds.operator_claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn huge(size: usize, shape: u8) -> String {
    let seeds = seeds();
    let filler = "A".repeat(size);
    match shape {
        0 => filler,
        1 => format!("{filler}.{filler}.{filler}"),
        2 => {
            // A good header and a giant (unsigned) claim.
            let head = seeds.operator.split('.').next().unwrap_or_default();
            let mut claims = seeds.operator_claims.clone();
            claims.insert("pad".into(), json!("x".repeat(size)));
            let body = b64(Value::Object(claims).to_string().as_bytes());
            let signed = format!("{head}.{body}");
            let signature = b64(&seeds.attacker.sign(signed.as_bytes()).to_bytes());
            format!("{signed}.{signature}")
        }
        _ => {
            let (head, rest) = seeds.operator.split_once('.').unwrap_or_default();
            format!("{head}.{}{rest}", "A".repeat(size))
        }
    }
}

/// The token a case stands for.
fn token(lab: &Lab, case: &Case) -> String {
    match case {
        Case::Text(text) => text.clone(),
        Case::Bytes(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Case::Segments(segments) => segments.join("."),
        Case::Tampered(base, tampers) => tampered(*base, tampers),
        Case::Forged(header, payload, signature) => forged(lab, header, payload, signature),
        Case::Confused(secret, kid) => confused(*secret, *kid),
        Case::Claims(base, changes) => mint(
            lab,
            *base,
            with(claims_of(lab, *base), changes),
            KeyChoice::Tenant,
            None,
        ),
        Case::Foreign(base, kid) => {
            let kid = match kid {
                None => None,
                Some(None) => kid_of(good(*base)),
                Some(Some(junk)) => Some(junk.clone()),
            };
            mint(lab, *base, claims_of(lab, *base), KeyChoice::Foreign, kid)
        }
        Case::CrossIssuer(base) => {
            let other = match base {
                Base::Operator => lab.env.tenant("acme-eu").unwrap().issuer(),
                Base::EndUser => lab.env.operators.issuer(),
            };
            let mut claims = claims_of(lab, *base);
            claims.insert("iss".into(), json!(other));
            mint(lab, *base, claims, KeyChoice::Tenant, None)
        }
        Case::Huge(size, shape) => huge(*size, *shape),
    }
}

/// A case that happens to be one of the valid tokens (whitespace aside: the gateway trims) is
/// not a malformed token.
fn is_valid_token(token: &str) -> bool {
    let token = token.trim();
    token == seeds().operator || token == seeds().end_user
}

/// The refusal message leaks nothing: no key material, no echo of the token, and short.
fn check_message(message: &str, token: &str) -> Result<(), String> {
    if message.chars().count() > 200 {
        return Err(format!("a long refusal: {}", clip(message, 300)));
    }
    if let Some(secret) = seeds()
        .key_material
        .iter()
        .find(|k| message.contains(k.as_str()))
    {
        return Err(format!(
            "the refusal shows key material {secret:?}: {message}"
        ));
    }
    if let Some(echo) = token
        .split(['.', ' '])
        .find(|s| s.len() >= 20 && message.contains(*s))
    {
        return Err(format!(
            "the refusal echoes the token ({}): {message}",
            clip(echo, 40)
        ));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config("tokens_verifier", 4000))]

    /// Straight against the verifier: every case is an error with a clean message.
    #[test]
    fn malformed_tokens_are_refused_by_the_verifier(case in case()) {
        let lab = lab();
        let token = token(lab, &case);
        prop_assume!(!is_valid_token(&token));
        let verdict = block_on(Duration::from_secs(10), lab.gateway.verifier().verify(&token))
            .map_err(TestCaseError::fail)?;
        match verdict {
            Ok(caller) => {
                return Err(TestCaseError::fail(format!(
                    "accepted as {caller:?}: {}", clip(&token, 400)
                )));
            }
            Err(error) => check_message(&error.0, &token).map_err(TestCaseError::fail)?,
        }
        no_worker_panics().map_err(TestCaseError::fail)?;
    }
}

/// How the token is put in the `Authorization` header over HTTP.
#[derive(Debug, Clone, Copy)]
enum Scheme {
    Bearer,
    LowerBearer,
    /// A valid token under a scheme the gateway does not take: still no token.
    Wrong(&'static str),
}

fn scheme() -> impl Strategy<Value = Scheme> {
    prop_oneof![
        8 => Just(Scheme::Bearer),
        1 => Just(Scheme::LowerBearer),
        1 => select(vec![
            "BEARER ", "Bearer", "Bearer\t", "Basic ", "Token ", "Bearer: ", "", "JWT ",
        ])
            .prop_map(Scheme::Wrong),
    ]
}

async fn refused_over_http(lab: &Lab, value: Vec<u8>, token: &str) -> Result<(), String> {
    let value = axum::http::HeaderValue::from_bytes(&value).map_err(|e| {
        format!("not a header value ({e}); the case builder should have cleaned it")
    })?;
    let response = lab
        .client
        .post(&lab.url)
        .header("authorization", value)
        .json(&json!({"query": "{ tenants { id } }"}))
        .send()
        .await
        .map_err(|e| format!("no HTTP answer: {e}"))?;
    let status = response.status();
    let challenge = response.headers().get("www-authenticate").cloned();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if status != 401 {
        return Err(format!("HTTP {status}, not 401: {}", clip(&text, 500)));
    }
    if challenge.is_none() {
        return Err("401 without WWW-Authenticate".into());
    }
    let answer: Value =
        serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {text}"))?;
    if !answer.get("data").is_none_or(Value::is_null) {
        return Err(format!("data with a refusal: {text}"));
    }
    let errors = answer["errors"].as_array().cloned().unwrap_or_default();
    let codes: Vec<&str> = errors
        .iter()
        .map(|e| {
            e.pointer("/extensions/code")
                .and_then(Value::as_str)
                .unwrap_or("<none>")
        })
        .collect();
    if codes != ["UNAUTHENTICATED"] {
        return Err(format!("codes {codes:?}: {text}"));
    }
    check_message(errors[0]["message"].as_str().unwrap_or_default(), token)
}

proptest! {
    #![proptest_config(config("tokens_over_http", 400))]

    /// Over HTTP: 401, `UNAUTHENTICATED`, a challenge, no data, a clean message.
    #[test]
    fn malformed_tokens_are_refused_over_http(case in case(), scheme in scheme()) {
        let lab = lab();
        let (token, prefix) = match scheme {
            Scheme::Wrong(prefix) => (good(Base::Operator).to_owned(), prefix),
            Scheme::Bearer => (token(lab, &case), "Bearer "),
            Scheme::LowerBearer => (token(lab, &case), "bearer "),
        };
        // Control characters cannot travel in a header at all; the rest goes as raw bytes.
        let token: String = token
            .chars()
            .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
            .collect();
        prop_assume!(matches!(scheme, Scheme::Wrong(_)) || !is_valid_token(&token));
        let value = format!("{prefix}{token}").into_bytes();
        block_on(Duration::from_secs(20), refused_over_http(lab, value, &token))
            .and_then(|r| r)
            .map_err(TestCaseError::fail)?;
        no_worker_panics().map_err(TestCaseError::fail)?;
    }
}

/// A wrong-typed `permissions` claim, a wrong-typed tenants claim, or both (never neither).
fn wrong_grants() -> impl Strategy<Value = (Option<Value>, Option<Value>)> {
    let permissions = select(vec![
        json!("read:users"),
        json!("read:users delete:users"),
        json!({"read:users": true}),
        json!(5),
        json!(true),
        json!([["read:users"]]),
        json!([{"name": "read:users"}]),
    ]);
    let tenants = select(vec![
        json!("acme-eu"),
        json!({"*": true}),
        json!(5),
        json!(true),
        json!([["*"]]),
        json!([{"id": "acme-eu"}]),
        json!("**"),
        json!(" *"),
    ]);
    prop_oneof![
        (permissions, proptest::option::of(tenants.clone())).prop_map(|(p, t)| (Some(p), t)),
        tenants.prop_map(|t| (None, Some(t))),
    ]
}

proptest! {
    #![proptest_config(config("tokens_wrong_typed_grants", 300))]

    /// A properly signed operator token whose `permissions` or tenants claim has the wrong type
    /// is either refused or grants nothing through that claim (never a permission or a tenant).
    #[test]
    fn wrong_typed_grants_grant_nothing((permissions, tenants) in wrong_grants()) {
        let lab = lab();
        let mut claims =
            lab.operator_claims("auth0|prop-grants", &["read:users"], json!(["acme-eu"]));
        if let Some(p) = &permissions {
            claims.insert("permissions".into(), p.clone());
        }
        if let Some(t) = &tenants {
            claims.insert(TENANTS_CLAIM.into(), t.clone());
        }
        let token = lab.operator_token(claims, KeyChoice::Tenant, None);
        let verdict = block_on(Duration::from_secs(10), lab.gateway.verifier().verify(&token))
            .map_err(TestCaseError::fail)?;
        if let Ok(caller) = verdict {
            let Caller::Operator(operator) = &*caller else {
                return Err(TestCaseError::fail(format!("not an operator: {caller:?}")));
            };
            if permissions.is_some() {
                prop_assert!(operator.permissions().is_empty(), "{:?}", operator.permissions());
            }
            if tenants.is_some() {
                prop_assert_eq!(operator.tenants(), &TenantScope::Only(Default::default()));
            }
        }
    }
}

/// A properly signed operator token whose `permissions` is not a list of strings (here a bare
/// string) comes from a misconfigured issuer: it is refused, not read as "no permission".
#[test]
fn wrong_typed_permissions_are_unauthenticated() {
    let lab = lab();
    let mut claims = lab.operator_claims("auth0|prop-grants", &[], json!("*"));
    claims.insert("permissions".into(), json!("read:users"));
    let token = lab.operator_token(claims, KeyChoice::Tenant, None);
    let mut value = b"Bearer ".to_vec();
    value.extend_from_slice(token.as_bytes());
    block_on(
        Duration::from_secs(20),
        refused_over_http(lab, value, &token),
    )
    .and_then(|r| r)
    .unwrap();
}
