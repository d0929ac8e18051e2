//! The Lambda function: the router `eden serve` runs, under `lambda_http`, for API Gateway REST
//! (v1) and HTTP API (v2) events and function URL events. Settings come from the environment:
//! `EDEN_API_KEYS` (required), `EDEN_TABLE` (default `eden`), `EDEN_LOG` (log filter).

use eden_api::{ApiKeys, App};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // One JSON object a line; Lambda adds the time and request of each line itself.
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            EnvFilter::try_from_env("EDEN_LOG")
                .unwrap_or_else(|_| EnvFilter::new("eden_api=info,eden_core=info,eden_aws=info")),
        )
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .init();
    let keys = ApiKeys::parse(&std::env::var("EDEN_API_KEYS").unwrap_or_default())
        .ok_or("no API key configured: set EDEN_API_KEYS=KEY[,KEY...] on the function")?;
    let table = std::env::var("EDEN_TABLE").unwrap_or_else(|_| "eden".into());
    let app = App::new(eden_aws::connect().await?, table, keys);
    lambda_http::run(eden_lambda::router(app)).await
}
