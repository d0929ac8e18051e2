//! eden's HTTP API, the seed's `GET /api/v1/create` and `GET /api/v1/delete` (and POST with the
//! same fields as JSON), `GET /api/v1/environments`, `/api/v1/gc` and `GET /healthz`: one axum router that
//! `eden serve` runs on a socket and the Lambda function runs under `lambda_http`.

mod error;
mod handlers;
mod keys;
mod request_log;

use std::sync::Arc;

use axum::routing::get;
use axum::{middleware, Router};
use eden_core::cloud::Cloud;
use tokio_util::task::TaskTracker;

pub use error::ApiError;
pub use keys::ApiKeys;

/// What every request shares.
pub struct App {
    pub cloud: Cloud,
    /// The DynamoDB state table with the remote profiles.
    pub table: String,
    pub keys: ApiKeys,
    /// The runs that change AWS, each in a task of its own: a server waits for them before it
    /// stops, whether their clients still wait for the answer or not.
    pub runs: TaskTracker,
}

impl App {
    pub fn new(cloud: Cloud, table: String, keys: ApiKeys) -> Self {
        let runs = TaskTracker::new();
        Self {
            cloud,
            table,
            keys,
            runs,
        }
    }
}

pub fn router(app: App) -> Router {
    let app = Arc::new(app);
    let api = Router::new()
        .route(
            "/api/v1/create",
            get(handlers::create_query)
                .post(handlers::create_json)
                .head(handlers::method_not_allowed)
                .fallback(handlers::method_not_allowed),
        )
        .route(
            "/api/v1/delete",
            get(handlers::delete_query)
                .post(handlers::delete_json)
                .head(handlers::method_not_allowed)
                .fallback(handlers::method_not_allowed),
        )
        .route("/api/v1/environments", get(handlers::environments))
        .route(
            "/api/v1/gc",
            get(handlers::gc_query)
                .post(handlers::gc_json)
                .head(handlers::method_not_allowed)
                .fallback(handlers::method_not_allowed),
        )
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            keys::require_key,
        ));
    Router::new()
        .route("/healthz", get(handlers::healthz))
        .merge(api)
        .fallback(handlers::not_found)
        .layer(middleware::from_fn(request_log::log))
        .with_state(app)
}
