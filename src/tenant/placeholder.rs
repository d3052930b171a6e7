//! Credentials that are certainly not real: the placeholders of `examples/tenantgraph.toml` and
//! of templates like it. Auth0 generates client ids (32 letters and digits) and secrets (64
//! URL-safe characters), so a value holding a marker such as `REPLACE_WITH`, `<…>` or an
//! unexpanded `${…}` was never issued by it. A tenant configured with one is DOWN from the start,
//! saying which value is a placeholder (the client id by value, the secret by its variable only),
//! and no token is asked for with it.

use secrecy::ExposeSecret;

use crate::config::TenantConfig;

/// Parts of a value that only a template leaves there (compared in lower case).
const MARKERS: [&str; 13] = [
    "replace_with",
    "replace-with",
    "replace_me",
    "replace-me",
    "replaceme",
    "change_me",
    "change-me",
    "changeme",
    "your_client",
    "your-client",
    "placeholder",
    "${",
    "{{",
];

/// Whole values that only a template leaves there (compared in lower case).
const WHOLE: [&str; 10] = [
    "todo",
    "tbd",
    "secret",
    "client_id",
    "client-id",
    "client_secret",
    "client-secret",
    "none",
    "null",
    "undefined",
];

/// Whether `value` is a placeholder rather than a credential Auth0 issued.
pub(crate) fn is_placeholder(value: &str) -> bool {
    let value = value.trim();
    let lower = value.to_ascii_lowercase();
    let repeated = value
        .chars()
        .next()
        .is_some_and(|first| value.chars().all(|c| c == first) && value.len() >= 3);
    value.is_empty()
        || repeated
        || (value.starts_with('<') && value.ends_with('>'))
        || MARKERS.iter().any(|marker| lower.contains(marker))
        || WHOLE.contains(&lower.as_str())
}

/// What in a tenant's configured credentials is a placeholder, in words for the log and
/// `/readyz`; `None` when neither looks like one.
pub(crate) fn describe(config: &TenantConfig) -> Option<String> {
    let client_id = is_placeholder(&config.client_id).then(|| {
        format!(
            "client_id \"{}\" is a placeholder: set the Client ID of the tenant's Machine-to-Machine application",
            config.client_id.trim()
        )
    });
    let secret = config
        .client_secret
        .as_ref()
        .is_some_and(|secret| is_placeholder(secret.expose_secret()))
        .then(|| {
            format!(
                "the client secret in {} is a placeholder: set the application's Client Secret",
                config.secret_variable()
            )
        });
    match (client_id, secret) {
        (Some(id), Some(secret)) => Some(format!("{id}; {secret}")),
        (one, other) => one.or(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_configurations_values_are_placeholders() {
        for value in [
            "REPLACE_WITH_THE_M2M_CLIENT_ID",
            "<client id>",
            "${AUTH0_CLIENT_SECRET}",
            "{{ client_secret }}",
            "changeme",
            "CHANGE_ME",
            "your-client-secret",
            "xxxxxxxx",
            "TODO",
            "",
            "   ",
        ] {
            assert!(is_placeholder(value), "{value:?}");
        }
    }

    #[test]
    fn credentials_auth0_issues_are_not() {
        for value in [
            "Kq9u2bV7dXyW3mP0aZrT5sLcE8hN1gFo",
            "3Jx_9vQ-aT7mZ2pL8wR4yB6nK0cH5dS1eU3iO7gA9fV2xW6qM4tY8rN0bC1zP5kL",
            // The emulators' own client (tests, the demo).
            "tenantgraph",
            "tenantgraph-secret",
            "aaa1",
        ] {
            assert!(!is_placeholder(value), "{value:?}");
        }
    }

    #[test]
    fn the_example_configuration_is_all_placeholders_and_the_compose_one_none() {
        let secret = |_: &str| Some("from-the-environment".to_owned());
        let example =
            crate::Config::from_toml(include_str!("../../examples/tenantgraph.toml"), secret)
                .unwrap();
        for tenant in &example.tenants {
            assert!(describe(tenant).is_some(), "{}", tenant.id);
        }
        let compose =
            crate::Config::from_toml(include_str!("../../deploy/tenantgraph.toml"), secret)
                .unwrap();
        for tenant in &compose.tenants {
            assert_eq!(describe(tenant), None, "{}", tenant.id);
        }
    }

    #[test]
    fn the_description_names_the_client_id_and_only_the_secrets_variable() {
        let mut config = TenantConfig::new(
            "acme-eu",
            "ACME",
            "acme-eu.eu.auth0.com",
            "REPLACE_WITH_THE_M2M_CLIENT_ID",
            "changeme-please",
        );
        let said = describe(&config).unwrap();
        assert!(
            said.contains("client_id \"REPLACE_WITH_THE_M2M_CLIENT_ID\" is a placeholder"),
            "{said}"
        );
        assert!(
            said.contains("the client secret in TENANTGRAPH_SECRET_ACME_EU is a placeholder"),
            "{said}"
        );
        assert!(
            !said.contains("changeme-please"),
            "never the secret: {said}"
        );
        config.client_id = "Kq9u2bV7dXyW3mP0aZrT5sLcE8hN1gFo".to_owned();
        config.client_secret = Some("a-real-looking-secret".to_owned().into());
        assert_eq!(describe(&config), None);
    }
}
