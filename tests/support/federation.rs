//! What the federation tests share: those of `_entities` in `tests/api/federation.rs` and the
//! router's in `tests/federation_router.rs` (a binary of its own, since it needs Node).

use test_kit::TestApp;

pub const TENANTS: [&str; 3] = ["acme-eu", "acme-us", "globex"];

/// `count` users of each tenant (past the first ten), as (tenant, id, email).
pub fn some_users(app: &TestApp, count: usize) -> Vec<(String, String, Option<String>)> {
    let mut users = Vec::new();
    for tenant in TENANTS {
        for user in app.users_of(tenant).into_iter().skip(10).take(count) {
            users.push((tenant.to_owned(), user.user_id, user.email));
        }
    }
    users
}

/// Management API calls per tenant (the token endpoint aside).
pub fn calls_per_tenant(app: &TestApp) -> Vec<(&'static str, u64)> {
    TENANTS
        .iter()
        .map(|t| (*t, app.tenant_calls(t).values().sum()))
        .collect()
}
