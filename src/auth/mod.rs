//! Authentication and permissions: bearer tokens verified against each issuer's JWKS into a
//! [`Caller`], and what each caller may reach.
//!
//! - [`verify`]: token → caller (issuer, key, claims checks).
//! - [`jwks`]: an issuer's signing keys, cached and refreshed.
//! - [`caller`]: the caller, its permissions and tenant scope.

pub mod caller;
pub mod jwks;
pub mod verify;

pub use caller::{Caller, EndUser, Operator, Permission, TenantScope};
pub use verify::{AuthError, Verifier};
