//! Whether traces are exported, where, and as which service: the `[telemetry]` keys, then the
//! standard OpenTelemetry variables for what they leave out.
//!
//! Precedence, key by key: `[telemetry]` (and `TENANTGRAPH__TELEMETRY__*`, which overrides the
//! file as for every key), then `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as it is), then
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (with `/v1/traces` appended); `OTEL_SERVICE_NAME`. This follows
//! the OpenTelemetry specification where it speaks: a configuration file takes precedence over
//! the `OTEL_*` variables, and the signal's own endpoint variable over the general one; and
//! opentelemetry-rust's exporter, where code wins over the environment. `OTEL_SDK_DISABLED=true`
//! switches tracing off whatever else is set. Variables set to an empty value count as unset.
//!
//! The exporter itself still reads `OTEL_EXPORTER_OTLP_HEADERS` (credentials for the
//! collector), `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_TRACES_SAMPLER` and `OTEL_BSP_*` when set.

use crate::config::{ConfigError, TelemetryConfig, otlp_base_url, otlp_url};

const SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
const TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
const TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
const PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
const SERVICE_NAME: &str = "OTEL_SERVICE_NAME";

/// The one protocol this build exports with.
const HTTP_PROTOBUF: &str = "http/protobuf";

/// Where and how traces are exported, once they are on.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The URL spans are posted to (`…/v1/traces`).
    pub endpoint: String,
    /// `service.name`; none: the one in `OTEL_RESOURCE_ATTRIBUTES`, else `tenantgraph`.
    pub service_name: Option<String>,
    /// Share of the traces starting here that are recorded; none: `OTEL_TRACES_SAMPLER`'s
    /// choice, by default every one (a caller's sampled trace is always followed).
    pub sample_ratio: Option<f64>,
}

impl Settings {
    /// The settings of `config` and the environment (`env` reads a variable), or `None` when
    /// traces are off. Errors name the key or variable at fault.
    pub fn resolve(
        config: &TelemetryConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let var = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let invalid = |name: &str, why: String| ConfigError::Invalid(format!("{name} {why}"));
        if var(SDK_DISABLED).is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        let endpoint = if let Some(base) = &config.otlp_endpoint {
            otlp_base_url(base).map_err(|why| invalid("telemetry.otlp_endpoint", why))?
        } else if let Some(url) = var(TRACES_ENDPOINT) {
            otlp_url(&url)
                .map_err(|why| invalid(TRACES_ENDPOINT, why))?
                .into()
        } else if let Some(base) = var(ENDPOINT) {
            otlp_base_url(&base).map_err(|why| invalid(ENDPOINT, why))?
        } else {
            return Ok(None);
        };
        // A collector's gRPC port answers nothing useful to HTTP posts: say so at start-up
        // rather than lose every span quietly.
        for name in [TRACES_PROTOCOL, PROTOCOL] {
            if let Some(protocol) = var(name) {
                if protocol.trim() != HTTP_PROTOBUF {
                    return Err(invalid(
                        name,
                        format!(
                            "asks for {}; tenantgraph exports OTLP over HTTP only: set {HTTP_PROTOBUF} (or nothing) and use the collector's OTLP/HTTP port, usually 4318",
                            protocol.trim()
                        ),
                    ));
                }
                // The signal's own variable decides; the general one is not consulted.
                break;
            }
        }
        Ok(Some(Self {
            endpoint,
            service_name: config
                .service_name
                .clone()
                .or_else(|| var(SERVICE_NAME))
                .map(|name| name.trim().to_owned()),
            sample_ratio: config.sample_ratio,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn resolve(
        config: &TelemetryConfig,
        vars: &[(&str, &str)],
    ) -> Result<Option<Settings>, String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::resolve(config, |name| vars.get(name).cloned()).map_err(|e| e.to_string())
    }

    fn endpoint(config: &TelemetryConfig, vars: &[(&str, &str)]) -> Option<String> {
        resolve(config, vars).unwrap().map(|s| s.endpoint)
    }

    fn with_endpoint(url: &str) -> TelemetryConfig {
        TelemetryConfig {
            otlp_endpoint: Some(url.to_owned()),
            ..TelemetryConfig::default()
        }
    }

    #[test]
    fn off_without_an_endpoint_anywhere() {
        let none = TelemetryConfig::default();
        assert_eq!(resolve(&none, &[]).unwrap(), None);
        assert_eq!(resolve(&none, &[(SERVICE_NAME, "gw")]).unwrap(), None);
        assert_eq!(resolve(&none, &[(ENDPOINT, " ")]).unwrap(), None);
    }

    #[test]
    fn the_base_endpoint_gets_the_traces_path() {
        let none = TelemetryConfig::default();
        for (base, traces) in [
            ("http://collector:4318", "http://collector:4318/v1/traces"),
            ("http://collector:4318/", "http://collector:4318/v1/traces"),
            (
                "https://otlp.example.com/otlp",
                "https://otlp.example.com/otlp/v1/traces",
            ),
            (
                "https://otlp.example.com/otlp/",
                "https://otlp.example.com/otlp/v1/traces",
            ),
        ] {
            assert_eq!(
                endpoint(&none, &[(ENDPOINT, base)]).as_deref(),
                Some(traces)
            );
            assert_eq!(endpoint(&with_endpoint(base), &[]).as_deref(), Some(traces));
        }
    }

    #[test]
    fn the_signal_endpoint_is_used_as_it_is_and_beats_the_general_one() {
        let none = TelemetryConfig::default();
        let vars = [
            (TRACES_ENDPOINT, "http://traces:9999/custom"),
            (ENDPOINT, "http://general:4318"),
        ];
        assert_eq!(
            endpoint(&none, &vars).as_deref(),
            Some("http://traces:9999/custom")
        );
    }

    #[test]
    fn the_file_wins_over_the_environment() {
        let config = TelemetryConfig {
            otlp_endpoint: Some("http://from-file:4318".into()),
            service_name: Some("from-file".into()),
            sample_ratio: Some(0.25),
        };
        let vars = [
            (TRACES_ENDPOINT, "http://from-env:4318/v1/traces"),
            (ENDPOINT, "http://from-env:4318"),
            (SERVICE_NAME, "from-env"),
        ];
        let settings = resolve(&config, &vars).unwrap().unwrap();
        assert_eq!(settings.endpoint, "http://from-file:4318/v1/traces");
        assert_eq!(settings.service_name.as_deref(), Some("from-file"));
        assert_eq!(settings.sample_ratio, Some(0.25));
    }

    #[test]
    fn the_environment_fills_what_the_file_leaves_out() {
        let settings = resolve(
            &with_endpoint("http://from-file:4318"),
            &[(SERVICE_NAME, "from-env")],
        )
        .unwrap()
        .unwrap();
        assert_eq!(settings.service_name.as_deref(), Some("from-env"));
        assert_eq!(settings.sample_ratio, None);
        let settings = resolve(&TelemetryConfig::default(), &[(ENDPOINT, "http://c:4318")])
            .unwrap()
            .unwrap();
        assert_eq!(settings.service_name, None);
    }

    #[test]
    fn otel_sdk_disabled_switches_everything_off() {
        let vars = [(SDK_DISABLED, "TRUE"), (ENDPOINT, "http://c:4318")];
        assert_eq!(
            resolve(&with_endpoint("http://c:4318"), &vars).unwrap(),
            None
        );
        let vars = [(SDK_DISABLED, "false"), (ENDPOINT, "http://c:4318")];
        assert!(
            resolve(&TelemetryConfig::default(), &vars)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn bad_values_are_refused_naming_their_source() {
        let none = TelemetryConfig::default();
        for (vars, named) in [
            (vec![(ENDPOINT, "collector:4318")], ENDPOINT),
            (vec![(ENDPOINT, "ftp://collector")], ENDPOINT),
            (
                vec![(ENDPOINT, "http://collector:4318/v1/traces")],
                ENDPOINT,
            ),
            (vec![(TRACES_ENDPOINT, "not a url")], TRACES_ENDPOINT),
            (
                vec![(TRACES_ENDPOINT, "https://user:secret@collector/v1/traces")],
                TRACES_ENDPOINT,
            ),
            (
                vec![(ENDPOINT, "http://c:4318"), (PROTOCOL, "grpc")],
                PROTOCOL,
            ),
            (
                vec![(ENDPOINT, "http://c:4318"), (TRACES_PROTOCOL, "http/json")],
                TRACES_PROTOCOL,
            ),
        ] {
            let error = resolve(&none, &vars).unwrap_err();
            assert!(error.contains(named), "{vars:?}: {error}");
            assert!(
                !error.contains("secret"),
                "the value is not repeated: {error}"
            );
        }
        let error = resolve(&with_endpoint("http://c:4318?x=1"), &[]).unwrap_err();
        assert!(error.contains("telemetry.otlp_endpoint"), "{error}");
    }

    #[test]
    fn the_signal_protocol_decides_over_the_general_one() {
        let vars = [
            (ENDPOINT, "http://c:4318"),
            (TRACES_PROTOCOL, "http/protobuf"),
            (PROTOCOL, "grpc"),
        ];
        assert!(
            resolve(&TelemetryConfig::default(), &vars)
                .unwrap()
                .is_some()
        );
    }
}
