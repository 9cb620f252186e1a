//! The AWS plumbing every adapter shares: the SDK configuration (region, credentials from the
//! environment, retries, timeouts), the HTTPS client whose TLS set-up waits for the first
//! request, the retry partition, and the client built on first use. Nothing here calls the network.

use std::sync::OnceLock;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// The SDK's default HTTPS client (hyper, rustls with aws-lc, proxy settings from the
/// environment), with its TLS set-up deferred to the first request. The SDK builds its connector,
/// and so loads and parses the system's root certificates (the bundle and, on some systems, a
/// directory of hundreds of files), while the client is constructed, which made the cold start
/// several times the floor of a bare `lambda_runtime` function. Wrapping the client hides that
/// eager hook; the connector is built, once, when the first request needs it.
#[derive(Debug)]
struct DeferredTlsClient(SharedHttpClient);

impl DeferredTlsClient {
    fn new() -> DeferredTlsClient {
        DeferredTlsClient(Builder::new().build_with_connector_fn(|settings, components| {
            let mut connector = ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
            connector.set_connector_settings(settings.cloned());
            if let Some(components) = components {
                connector.set_sleep_impl(components.sleep_impl());
            }
            connector.set_proxy_config(Some(ProxyConfig::from_env()));
            connector.build()
        }))
    }
}

impl HttpClient for DeferredTlsClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }
}

/// The shared SDK configuration: region and credentials from the environment, where Lambda puts
/// them; endpoints from the standard `AWS_ENDPOINT_URL_*` variables when set.
pub async fn sdk_config() -> aws_config::SdkConfig {
    loader().load().await
}

/// The same configuration for a local service (the local Cases service, which also serves
/// Customer Profiles) at `endpoint_url`: every client sends there, signed with placeholder
/// credentials, which the local service does not check. Only where requests go and what signs
/// them differ from `sdk_config`; retries, timeouts and the HTTP client are the same.
pub async fn sdk_config_for_local_service(endpoint_url: &str) -> aws_config::SdkConfig {
    let placeholder = aws_sdk_connectcases::config::Credentials::new("local", "local", None, None, "local service");
    loader().endpoint_url(endpoint_url).credentials_provider(placeholder).load().await
}

/// Standard retries (throttling backs off) and per-attempt timeouts short enough that several
/// attempts fit in a contact flow's 8 seconds.
fn loader() -> aws_config::ConfigLoader {
    let region = std::env::var("AWS_REGION").or_else(|_| std::env::var("AWS_DEFAULT_REGION")).unwrap_or_else(|_| "us-east-1".into());
    aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .http_client(DeferredTlsClient::new())
        // Lambda gives the function's credentials in the environment; building the default chain
        // (profiles, SSO, web identity, ECS, IMDS) for them cost a third of the cold start.
        .credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new())
        .retry_config(RetryConfig::standard().with_max_attempts(4).with_initial_backoff(Duration::from_millis(200)))
        .timeout_config(
            TimeoutConfig::builder().connect_timeout(Duration::from_secs(1)).operation_attempt_timeout(Duration::from_secs(3)).build(),
        )
}

/// Where the Cases client's retries draw their quota from. The SDK's default quota (500 tokens,
/// 5 per throttled retry, refilled only by successes) runs out after ~100 throttles and then stops
/// retrying throttled calls for the rest of a warm instance's life, although throttling is the
/// expected answer under the Cases quotas. Retries stay bounded by the 4 attempts and the deadline.
pub fn retry_partition() -> aws_sdk_connectcases::config::retry::RetryPartition {
    retry_partition_named("cases-automation")
}

/// A partition like the function's under another name. One process is one instance in Lambda; a
/// harness running several instances in one process gives each its own, as the SDK keys its
/// retry state (and the adaptive mode's rate limiter) by partition.
pub fn retry_partition_named(name: impl Into<std::borrow::Cow<'static, str>>) -> aws_sdk_connectcases::config::retry::RetryPartition {
    use aws_sdk_connectcases::config::retry::{RetryPartition, TokenBucket};
    RetryPartition::custom(name).token_bucket(TokenBucket::unlimited()).build()
}

/// An SDK client built once, on first use, from the shared SDK configuration. Building one costs the SDK's endpoint partition table, which the cold start
/// need not pay: events skipped before any call never need a client.
pub struct LazyClient<C> {
    client: OnceLock<C>,
    config: aws_config::SdkConfig,
    build: BuildClient<C>,
}

/// Makes a service client from the shared SDK configuration.
pub type BuildClient<C> = Box<dyn Fn(&aws_config::SdkConfig) -> C + Send + Sync>;

impl<C> LazyClient<C> {
    pub fn lazy(config: aws_config::SdkConfig, build: impl Fn(&aws_config::SdkConfig) -> C + Send + Sync + 'static) -> LazyClient<C> {
        LazyClient { client: OnceLock::new(), config, build: Box::new(build) }
    }

    pub fn get(&self) -> &C {
        self.client.get_or_init(|| (self.build)(&self.config))
    }
}

impl<C: std::fmt::Debug> std::fmt::Debug for LazyClient<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyClient").field("client", &self.client).finish_non_exhaustive()
    }
}
