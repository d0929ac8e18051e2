//! The router as the Lambda function serves it.

use axum::extract::Request;
use axum::http::Uri;
use axum::Router;
use eden_api::App;
use lambda_http::request::RequestContext;
use tower::ServiceExt;

/// The API's router. `lambda_http` puts an API Gateway REST stage in front of the path
/// (`/prod/api/v1/create`); HTTP APIs and function URLs do not, so only that prefix is removed.
pub fn router(app: App) -> Router {
    let api = eden_api::router(app);
    Router::new().fallback_service(api.map_request(without_stage))
}

fn without_stage(mut request: Request) -> Request {
    let stage = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV1(context)) => context.stage.clone(),
        _ => None,
    };
    let Some(stage) = stage else {
        return request;
    };
    let prefix = format!("/{stage}");
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    if let Some(rest) = path_and_query
        .strip_prefix(&prefix)
        .filter(|rest| rest.starts_with('/'))
    {
        if let Ok(uri) = rest.parse::<Uri>() {
            *request.uri_mut() = uri;
        }
    }
    request
}
