//! An HTTP client built as the SDK's default one, with the system's root certificates read only
//! once a call goes over TLS. The SDK's default client reads and parses the whole certificate store (about 290 files
//! on Debian) when the first SDK client is built: 5-6 ms of every command, all of it wasted on
//! an endpoint over plain HTTP (moto, LocalStack).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_http_client::Connector;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// Connection settings that need a connector of their own (as the SDK's client keys them), and
/// whether it trusts the system's roots.
type ConnectorKey = (Option<Duration>, Option<Duration>, bool);

/// The HTTP client for every SDK client and credentials provider eden builds.
#[derive(Debug, Clone, Default)]
pub struct RootsOnDemand {
    /// Kept so that the connection pools are reused, as the SDK's own client does.
    connectors: Arc<Mutex<HashMap<ConnectorKey, SharedHttpConnector>>>,
}

impl RootsOnDemand {
    fn connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
        tls: bool,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout(), tls);
        self.connectors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(key)
            .or_insert_with(|| new_connector(settings, components, tls))
            .clone()
    }
}

impl HttpClient for RootsOnDemand {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(ByScheme {
            client: self.clone(),
            settings: settings.clone(),
            components: components.clone(),
        })
    }
}

/// A connector as the SDK's default client makes one (rustls with aws-lc, `HTTP(S)_PROXY`
/// honoured), trusting the system's roots or, for calls that never make a TLS handshake, none.
fn new_connector(
    settings: &HttpConnectorSettings,
    components: &RuntimeComponents,
    tls: bool,
) -> SharedHttpConnector {
    let trust = if tls {
        TrustStore::default()
    } else {
        TrustStore::empty()
    };
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .unwrap_or_default();
    let mut builder = Connector::builder()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context);
    builder.set_connector_settings(Some(settings.clone()));
    builder.set_sleep_impl(components.sleep_impl());
    builder.set_proxy_config(Some(ProxyConfig::from_env()));
    SharedHttpConnector::new(builder.build())
}

/// Sends an `http://` call through a connector without roots, any other through one with them.
#[derive(Debug)]
struct ByScheme {
    client: RootsOnDemand,
    settings: HttpConnectorSettings,
    components: RuntimeComponents,
}

impl HttpConnector for ByScheme {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let tls = !request.uri().starts_with("http://");
        self.client
            .connector(&self.settings, &self.components, tls)
            .call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::config::retry::RetryConfig;
    use aws_sdk_ecs::config::{BehaviorVersion, Credentials, Region};

    /// One call, which nothing answers, through `client` to `endpoint`; which connectors it made.
    async fn connectors_made_by_a_call_to(endpoint: &str, client: &RootsOnDemand) -> Vec<bool> {
        let config = aws_sdk_ecs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::for_tests())
            .endpoint_url(endpoint)
            .retry_config(RetryConfig::disabled())
            .http_client(client.clone())
            .build();
        let refused = aws_sdk_ecs::Client::from_conf(config)
            .list_clusters()
            .send()
            .await;
        assert!(refused.is_err(), "nothing listens on {endpoint}");
        let connectors = client.connectors.lock().expect("not poisoned");
        connectors.keys().map(|&(_, _, tls)| tls).collect()
    }

    #[tokio::test]
    async fn a_call_over_plain_http_makes_no_connector_with_the_roots() {
        // Port 1 on loopback: refused at once, with no TLS handshake either way.
        let client = RootsOnDemand::default();
        let made = connectors_made_by_a_call_to("http://127.0.0.1:1", &client).await;
        assert_eq!(made, [false]);
        let made = connectors_made_by_a_call_to("https://127.0.0.1:1", &client).await;
        assert_eq!(made.iter().filter(|&&tls| tls).count(), 1);
    }
}
