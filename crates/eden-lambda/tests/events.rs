//! API Gateway REST (v1), HTTP API (v2) and function URL events, turned into requests by
//! `lambda_http` as the function does, answered by the same router as `eden serve`.
//! The calls here stop before AWS (health, keys, parameters): the API's AWS behaviour is tested
//! against moto through `eden serve`.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

use axum::body::to_bytes;
use eden_api::{ApiKeys, App};
use serde_json::{json, Value};
use tower::ServiceExt;

const KEY: &str = "lambda-test-key";

fn rest_v1(method: &str, path: &str, query: Value, key: Option<&str>) -> Value {
    let mut headers = json!({"Host": "abc123.execute-api.us-east-1.amazonaws.com"});
    if let Some(key) = key {
        headers["x-api-key"] = key.into();
    }
    json!({
        "resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {}, "queryStringParameters": query, "multiValueQueryStringParameters": {},
        "pathParameters": {"proxy": path.trim_start_matches('/')}, "stageVariables": null,
        "requestContext": {"accountId": "123456789012", "resourceId": "r1", "stage": "prod",
            "requestId": "req-v1", "identity": {"sourceIp": "192.0.2.1"}, "resourcePath": "/{proxy+}",
            "httpMethod": method, "apiId": "abc123"},
        "body": null, "isBase64Encoded": false
    })
}

fn http_v2(method: &str, path: &str, query: &str, key: Option<&str>, domain: &str) -> Value {
    let mut headers = json!({"host": domain});
    if let Some(key) = key {
        headers["x-api-key"] = key.into();
    }
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": headers,
        "requestContext": {"accountId": "123456789012", "apiId": "abc123", "domainName": domain,
            "domainPrefix": "abc123", "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1", "userAgent": "test"}, "requestId": "req-v2", "routeKey": "$default",
            "stage": "$default", "time": "25/Nov/2026:08:00:00 +0000", "timeEpoch": 1795000000000_i64},
        "isBase64Encoded": false
    })
}

async fn answer(event: Value) -> (u16, Value) {
    // No call in these tests reaches AWS; the clients only need to exist.
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let app = App::new(
        eden_aws::clients(&sdk).unwrap(),
        "eden".into(),
        ApiKeys::parse(KEY).unwrap(),
    );
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let response = eden_lambda::router(app).oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn every_event_kind_reaches_the_router() {
    let function_url = "abc123.lambda-url.us-east-1.on.aws";
    let api = "abc123.execute-api.us-east-1.amazonaws.com";
    let events = [
        rest_v1("GET", "/healthz", Value::Null, None),
        http_v2("GET", "/healthz", "", None, api),
        http_v2("GET", "/healthz", "", None, function_url),
    ];
    let (status, body) = answer(http_v2("GET", "/nothing", "", None, function_url)).await;
    assert_eq!(status, 404, "{body}");
    for event in events {
        assert_eq!(answer(event).await, (200, json!({"status": "ok"})));
    }
}

#[tokio::test]
async fn keys_and_parameters_are_checked_for_every_event_kind() {
    let function_url = "abc123.lambda-url.us-east-1.on.aws";
    let api = "abc123.execute-api.us-east-1.amazonaws.com";
    let cases = [
        (
            rest_v1("GET", "/api/v1/create", json!({"name": "foo"}), None),
            401,
            "missing x-api-key",
        ),
        (
            rest_v1(
                "GET",
                "/api/v1/create",
                json!({"name": "foo"}),
                Some("nope"),
            ),
            403,
            "invalid API key",
        ),
        (
            rest_v1("GET", "/api/v1/create", json!({"name": "foo"}), Some(KEY)),
            400,
            "missing parameter image_uri",
        ),
        (
            http_v2("GET", "/api/v1/delete", "profile=api", Some(KEY), api),
            400,
            "missing parameter name",
        ),
        (
            http_v2(
                "GET",
                "/api/v1/create",
                "name=...&image_uri=nginx",
                Some(KEY),
                function_url,
            ),
            400,
            "invalid parameter name",
        ),
        (
            http_v2("GET", "/api/v1/create", "name=foo", None, function_url),
            401,
            "missing x-api-key",
        ),
    ];
    for (event, status, message) in cases {
        let (got, body) = answer(event).await;
        assert_eq!(got, status, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains(message),
            "{body}"
        );
    }
}
