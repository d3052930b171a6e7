//! From spans to the collector: the `tracing` layer that turns the exported spans (and only
//! them) into OpenTelemetry spans, the batch processor, the OTLP/HTTP exporter over the
//! gateway's own reqwest, and the flush at shutdown.

use std::time::Duration;

use async_trait::async_trait;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{InstrumentationScope, Key, KeyValue};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::registry::LookupSpan;

use super::{Settings, TARGET};

/// The longest one export request may take, as OTLP's default timeout.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The name spans go under when neither the configuration nor the environment gives one.
const DEFAULT_SERVICE_NAME: &str = "tenantgraph";

/// A running trace pipeline. Add [`Telemetry::layer`] to the process's subscriber; call
/// [`Telemetry::shutdown`] before exiting, or the spans of the last seconds are lost.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
    endpoint: String,
}

impl Telemetry {
    /// Builds the exporter and its batch processor. Must run inside the Tokio runtime, which
    /// carries the export requests.
    pub fn start(settings: &Settings) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| anyhow::anyhow!("traces are exported from a Tokio runtime"))?;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(OnRuntime {
                client: crate::http_client()?,
                runtime,
            })
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(settings.endpoint.clone())
            .build()
            .map_err(|e| anyhow::anyhow!("cannot export traces to the OTLP endpoint: {e}"))?;
        let mut provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource(settings.service_name.as_deref()));
        if let Some(ratio) = settings.sample_ratio {
            provider = provider.with_sampler(Sampler::ParentBased(Box::new(
                Sampler::TraceIdRatioBased(ratio),
            )));
        }
        Ok(Self {
            provider: provider.build(),
            endpoint: settings.endpoint.clone(),
        })
    }

    /// Where spans are posted.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The layer exporting tenantgraph's spans: it sees only them (no log event, no other
    /// span), and adds nothing of its own (no source location, thread or timing fields).
    pub fn layer<S>(&self) -> impl Layer<S> + Send + Sync + 'static
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
    {
        let scope = InstrumentationScope::builder("tenantgraph")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer_with_scope(scope))
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_filter(filter_fn(|meta| meta.is_span() && meta.target() == TARGET))
    }

    /// Exports every span ended so far.
    pub async fn flush(&self) -> anyhow::Result<()> {
        let provider = self.provider.clone();
        // The processor blocks its caller until the export, which runs on this runtime, is
        // done: wait on a thread that may block.
        tokio::task::spawn_blocking(move || provider.force_flush()).await??;
        Ok(())
    }

    /// Exports what is left and stops exporting.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let provider = self.provider;
        tokio::task::spawn_blocking(move || provider.shutdown()).await??;
        Ok(())
    }
}

/// `service.name` (given, else from `OTEL_RESOURCE_ATTRIBUTES`, else tenantgraph's own),
/// `service.version`, and the SDK's name and version: nothing about the host.
fn resource(service_name: Option<&str>) -> Resource {
    let version = KeyValue::new("service.version", env!("CARGO_PKG_VERSION"));
    let detected = Resource::builder().with_attribute(version.clone()).build();
    let unnamed = detected
        .get(&Key::from_static_str("service.name"))
        .is_none_or(|name| name.as_str().starts_with("unknown_service"));
    match (service_name, unnamed) {
        (Some(name), _) => Resource::builder()
            .with_attribute(version)
            .with_service_name(name.to_owned())
            .build(),
        (None, true) => Resource::builder()
            .with_attribute(version)
            .with_service_name(DEFAULT_SERVICE_NAME)
            .build(),
        (None, false) => detected,
    }
}

/// The exporter's HTTP client: the gateway's reqwest, driven by the gateway's runtime. The
/// batch processor exports from a thread of its own, outside any runtime, which reqwest's
/// async client cannot run on.
#[derive(Debug)]
struct OnRuntime {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let export = async move {
            tokio::time::timeout(EXPORT_TIMEOUT, client.send_bytes(request))
                .await
                .map_err(|_| HttpError::from("the OTLP endpoint did not answer in time"))?
        };
        self.runtime.spawn(export).await?
    }
}
