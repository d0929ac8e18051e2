//! The only crate that talks to AWS: the core's [`eden_core::cloud`] traits implemented with the
//! official SDK, one module per service, SDK errors mapped to one-line core errors.

mod acm;
mod clock;
mod conflicts;
mod dynamodb;
mod ecr;
mod ecs;
mod elb;
mod error;
mod eventual;
mod http;
mod route53;
mod s3;
mod tagging;

use std::sync::Arc;

// The adapters, for tests that drive the core over clients of the SDK's own test tooling.
pub use acm::Acm;
pub use dynamodb::DynamoDb;
pub use ecr::Ecr;
pub use ecs::Ecs;
pub use elb::Elb;
pub use route53::Route53;
pub use s3::S3;
use std::time::Duration;
pub use tagging::Tagging;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use eden_core::cloud::Cloud;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds the clients from the standard chain: `AWS_PROFILE`, SSO, environment credentials,
/// `AWS_REGION`, `AWS_ENDPOINT_URL`... Fails when the chain gives no region.
pub async fn connect() -> Result<Cloud, eden_core::Error> {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http::RootsOnDemand::default())
        // The SDK's standard retry mode backs off exponentially with jitter on throttling, 5xx
        // and connection errors: five attempts within about four seconds ride out a burst of
        // throttling, and a dead endpoint still fails well within ten seconds.
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(5)
                .with_initial_backoff(Duration::from_millis(250))
                .with_max_backoff(Duration::from_secs(2)),
        )
        // An endpoint that does not answer fails within ten seconds instead of hanging.
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(Duration::from_secs(8))
                .build(),
        )
        .load()
        .await;
    clients(&sdk)
}

/// The clients over an SDK configuration, for the region it names (none: an error).
pub fn clients(sdk: &SdkConfig) -> Result<Cloud, eden_core::Error> {
    let region = sdk.region().ok_or(eden_core::Error::NoRegion)?.to_string();
    // Custom endpoints (moto, LocalStack, MinIO) serve buckets by path, not by host name.
    let custom_endpoint =
        sdk.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
    let s3 = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(custom_endpoint)
        .build();
    // Route 53 allows five changes a second per account: many environments made or deleted at
    // once need more, longer-spaced tries than the other services. The operation timeout below,
    // not the number of tries, is what bounds them: 10 tries (about 14 s of jittered backoff)
    // ran out while 50 deletes queued for the five a second.
    let route53 = aws_sdk_route53::config::Builder::from(sdk)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(20)
                .with_initial_backoff(Duration::from_millis(250))
                .with_max_backoff(Duration::from_secs(5)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(Duration::from_secs(45))
                .build(),
        )
        .build();
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(sdk)
        .retry_classifier(conflicts::TransactionConflicts)
        .build();
    Ok(Cloud {
        region,
        ecs: Arc::new(ecs::Ecs(aws_sdk_ecs::Client::new(sdk))),
        elb: Arc::new(elb::Elb(aws_sdk_elasticloadbalancingv2::Client::new(sdk))),
        dns: Arc::new(route53::Route53(aws_sdk_route53::Client::from_conf(
            route53,
        ))),
        store: Arc::new(s3::S3(aws_sdk_s3::Client::from_conf(s3))),
        table: Arc::new(dynamodb::DynamoDb::new(
            aws_sdk_dynamodb::Client::from_conf(dynamodb),
        )),
        tags: Arc::new(tagging::Tagging(
            aws_sdk_resourcegroupstagging::Client::new(sdk),
        )),
        certificates: Arc::new(acm::Acm(aws_sdk_acm::Client::new(sdk))),
        registry: Arc::new(ecr::Ecr::new(sdk.clone())),
    })
}
