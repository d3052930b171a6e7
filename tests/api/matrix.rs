//! The authorization matrix of writes: each demo persona × each mutation × a target in and out
//! of its reach → the outcome the permissions grant ("OK" or an error code). A user out of reach
//! is NOT_FOUND like a missing one; a tenant out of reach is BAD_USER_INPUT like an unknown one.

use serde_json::{Value, json};

use test_kit::{TestApp, error_codes, spawn};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Persona {
    GlobalAdmin,
    TenantAdmin,
    OrgAdmin,
    Auditor,
    User,
}

const PERSONAS: [Persona; 5] = [
    Persona::GlobalAdmin,
    Persona::TenantAdmin,
    Persona::OrgAdmin,
    Persona::Auditor,
    Persona::User,
];

const MUTATIONS: [&str; 14] = [
    "createUser",
    "updateUser",
    "deleteUser",
    "blockUser",
    "unblockUser",
    "removeBruteForceBlocks",
    "sendVerificationEmail",
    "createPasswordChangeTicket",
    "exportPerson",
    "erasePerson",
    "updateMe",
    "requestPasswordReset",
    "resendVerificationEmail",
    "acceptTerms",
];

/// What the permissions grant: (persona, mutation) → (outcome in reach, outcome out of reach).
fn expected(persona: Persona, mutation: &str) -> (&'static str, &'static str) {
    use Persona::*;
    let self_service = matches!(
        mutation,
        "updateMe" | "requestPasswordReset" | "resendVerificationEmail" | "acceptTerms"
    );
    let gdpr = matches!(mutation, "exportPerson" | "erasePerson");
    match persona {
        _ if self_service && persona != User => ("FORBIDDEN", "FORBIDDEN"),
        User if self_service => match mutation {
            // The demo user's email is verified already.
            "resendVerificationEmail" => ("BAD_USER_INPUT", "BAD_USER_INPUT"),
            _ => ("OK", "OK"),
        },
        User | Auditor => ("FORBIDDEN", "FORBIDDEN"),
        GlobalAdmin if gdpr => ("OK", "OK"),
        _ if gdpr => ("FORBIDDEN", "FORBIDDEN"),
        OrgAdmin if matches!(mutation, "createUser" | "deleteUser") => ("FORBIDDEN", "FORBIDDEN"),
        // Nothing is out of a global admin's reach but a tenant that does not exist; a tenant
        // admin's out-of-reach targets live in another tenant.
        GlobalAdmin | TenantAdmin => ("OK", "BAD_USER_INPUT"),
        // An organization admin's live in its tenant, outside its organization.
        OrgAdmin => ("OK", "NOT_FOUND"),
    }
}

/// The operation for a mutation on a target: (tenant, user id, email).
fn operation(mutation: &str, tenant: &str, id: &str, email: &str) -> (String, Value) {
    let vars = json!({"t": tenant, "id": id, "email": email});
    let query = match mutation {
        "createUser" => format!(
            "mutation($t: ID!) {{ createUser(tenant: $t, input: {{connection: \"Username-Password-Authentication\", email: \"{email}\", password: \"Matrix-Passw0rd\"}}) {{ id }} }}"
        ),
        "updateUser" => "mutation($t: ID!, $id: ID!) { updateUser(tenant: $t, id: $id, input: {nickname: \"matrix\"}) { id } }".into(),
        "deleteUser" => "mutation($t: ID!, $id: ID!) { deleteUser(tenant: $t, id: $id) }".into(),
        "blockUser" => "mutation($t: ID!, $id: ID!) { blockUser(tenant: $t, id: $id) { id } }".into(),
        "unblockUser" => "mutation($t: ID!, $id: ID!) { unblockUser(tenant: $t, id: $id) { id } }".into(),
        "removeBruteForceBlocks" => "mutation($t: ID!, $id: ID!) { removeBruteForceBlocks(tenant: $t, id: $id) }".into(),
        "sendVerificationEmail" => "mutation($t: ID!, $id: ID!) { sendVerificationEmail(tenant: $t, id: $id) { id } }".into(),
        "createPasswordChangeTicket" => "mutation($t: ID!, $id: ID!) { createPasswordChangeTicket(tenant: $t, id: $id) { url } }".into(),
        "exportPerson" => "mutation($email: String!) { exportPerson(email: $email) }".into(),
        "erasePerson" => "mutation($email: String!) { erasePerson(email: $email, confirm: $email) { deleted } }".into(),
        "updateMe" => "mutation { updateMe(input: {nickname: \"matrix\"}) { id } }".into(),
        "requestPasswordReset" => "mutation { requestPasswordReset }".into(),
        "resendVerificationEmail" => "mutation { resendVerificationEmail { id } }".into(),
        "acceptTerms" => format!(
            "mutation {{ acceptTerms(version: \"{}\") {{ id }} }}",
            tenantgraph::demo::TERMS_VERSION
        ),
        other => panic!("unknown mutation {other}"),
    };
    (query, vars)
}

fn token(app: &TestApp, persona: Persona) -> &str {
    match persona {
        Persona::GlobalAdmin => &app.tokens.global_admin,
        Persona::TenantAdmin => &app.tokens.tenant_admin,
        Persona::OrgAdmin => &app.tokens.org_admin,
        Persona::Auditor => &app.tokens.auditor,
        Persona::User => &app.tokens.user,
    }
}

/// The tenant a persona's in-scope and out-of-scope targets live in.
fn tenants(persona: Persona) -> (&'static str, &'static str) {
    match persona {
        Persona::TenantAdmin | Persona::User => ("acme-eu", "acme-us"),
        Persona::GlobalAdmin | Persona::OrgAdmin | Persona::Auditor => ("acme-us", "acme-us"),
    }
}

#[tokio::test]
async fn each_persona_can_do_exactly_what_design_grants() {
    let app = spawn().await;
    let organization = app.env.demo_organization().unwrap();
    let mut table = Vec::new();
    // Fixtures first, made directly in the tenants, so no cache of the gateway predates them.
    let mut cases = Vec::new();
    for (p, persona) in PERSONAS.into_iter().enumerate() {
        for (m, mutation) in MUTATIONS.into_iter().enumerate() {
            let (in_tenant, out_tenant) = tenants(persona);
            let in_email = format!("in.{p}.{m}@matrix.example");
            let out_email = format!("out.{p}.{m}@matrix.example");
            let in_org = (persona == Persona::OrgAdmin).then_some(organization.as_str());
            let in_id = app.fixture_user(in_tenant, &in_email, in_org).await;
            let out_id = match persona {
                // Nothing is out of a global admin's reach: a user that does not exist stands in.
                Persona::GlobalAdmin => "auth0|000000000000000000000000".to_owned(),
                _ => app.fixture_user(out_tenant, &out_email, None).await,
            };
            if mutation == "erasePerson" || mutation == "exportPerson" {
                // The person to export or erase also holds an account in another tenant.
                app.fixture_user("globex", &in_email, None).await;
            }
            let (in_create_tenant, out_create_tenant) = match persona {
                Persona::GlobalAdmin => (in_tenant, "nowhere"),
                _ => (in_tenant, out_tenant),
            };
            cases.push((
                persona,
                mutation,
                "in",
                in_create_tenant,
                in_id,
                format!("new.{in_email}"),
                in_email,
            ));
            cases.push((
                persona,
                mutation,
                "out",
                out_create_tenant,
                out_id,
                format!("new.{out_email}"),
                out_email,
            ));
        }
    }
    for (persona, mutation, scope, tenant, id, new_email, email) in cases {
        let email_arg = if mutation == "createUser" {
            new_email
        } else {
            email
        };
        let (query, vars) = operation(mutation, tenant, &id, &email_arg);
        let answer = app.query(token(&app, persona), &query, vars).await;
        let codes = error_codes(&answer);
        let outcome = if codes.is_empty() {
            "OK".to_owned()
        } else {
            codes.join(",")
        };
        let (want_in, want_out) = expected(persona, mutation);
        let want = if scope == "in" { want_in } else { want_out };
        table.push(format!("{persona:?} {mutation} {scope}: {outcome}"));
        assert_eq!(
            outcome, want,
            "{persona:?} × {mutation} × {scope}: {answer}"
        );
    }
    assert_eq!(table.len(), PERSONAS.len() * MUTATIONS.len() * 2);
}
