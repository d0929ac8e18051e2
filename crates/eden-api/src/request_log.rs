//! One line per request: method, path (never the query, which may carry names of no one's
//! business, nor any header, which carries the key), status, duration and request id.

use std::hash::{BuildHasher, Hasher};
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use tracing::info;

/// Headers that carry a request id, from API Gateway, Lambda or a proxy in front.
const REQUEST_ID_HEADERS: [&str; 3] = [
    "lambda-runtime-aws-request-id",
    "x-amzn-requestid",
    "x-request-id",
];

pub async fn log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let request_id = REQUEST_ID_HEADERS
        .iter()
        .find_map(|h| request.headers().get(*h)?.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(new_id);
    let response = next.run(request).await;
    info!(
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_millis() as u64,
        request_id = %request_id,
        "request"
    );
    response
}

fn new_id() -> String {
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{random:016x}")
}
