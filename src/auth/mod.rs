//! Authentication: bearer tokens verified against each issuer's JWKS into a [`Caller`].
//!
//! - `verify`: token → caller (issuer, key, claims checks).
//! - `jwks`: an issuer's signing keys, cached and refreshed.
//! - `caller`: the caller, its permissions and tenant reach; built only by `verify`.

mod caller;
mod jwks;
mod verify;

pub use caller::{Caller, EndUser, Operator, Permission, TenantScope};
pub(crate) use jwks::Jwks;
pub use verify::{AuthError, Verifier};
