//! The built `bootstrap` binary end to end: a stand-in for the Lambda runtime API
//! (`scripts/lambda_runtime.py`) hands it API Gateway and function URL events, and it creates and
//! deletes an environment in moto as `eden serve` does.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

#[path = "../../eden-cli/tests/support/mod.rs"]
mod support;

use std::process::{Command, Stdio};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use serde_json::{json, Value};
use support::{Aws, World};

const KEY: &str = "runtime-test-key";

/// The state table, and the `api` profile in it, as `eden config push` leaves them.
async fn push_profile(world: &World, aws: &Aws) {
    let attribute = |name: &str, kind| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    aws.ddb
        .create_table()
        .table_name("eden")
        .attribute_definitions(attribute("type", ScalarAttributeType::S))
        .attribute_definitions(attribute("name", ScalarAttributeType::S))
        .attribute_definitions(attribute("kind", ScalarAttributeType::S))
        .attribute_definitions(attribute("last_updated", ScalarAttributeType::N))
        .key_schema(key("type", KeyType::Hash))
        .key_schema(key("name", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("kind_last_updated_gsi")
                .key_schema(key("kind", KeyType::Hash))
                .key_schema(key("last_updated", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let profile = json!({
        "name_prefix": "dev-dynamic-api",
        "reference_service_arn": world.profile("api", "reference_service_arn"),
        "target_cluster": "dev",
        "domain_name_prefix": "api",
        "master_alb_arn": world.id("shared_alb_arn"),
        "dynamic_zone_id": world.id("zone_id"),
        "endpoint_s3_bucket_name": world.id("bucket"),
        "endpoint_s3_key": world.id("key"),
        "endpoint_update_key": "api_endpoint",
        "endpoint_env_type": "dev",
        "endpoint_name_prefix": "servicename-dev",
    });
    aws.ddb
        .put_item()
        .table_name("eden")
        .item("type", AttributeValue::S("_profile".into()))
        .item("name", AttributeValue::S("api".into()))
        .item("profile", AttributeValue::S(profile.to_string()))
        .item("kind", AttributeValue::S("profile".into()))
        .send()
        .await
        .unwrap();
}

fn function_url_event(path: &str, query: &str) -> Value {
    let domain = "abc123.lambda-url.us-east-1.on.aws";
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": {"host": domain, "x-api-key": KEY},
        "requestContext": {"accountId": "123456789012", "apiId": "abc123", "domainName": domain,
            "domainPrefix": "abc123", "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1", "userAgent": "test"}, "requestId": "r", "routeKey": "$default",
            "stage": "$default", "time": "25/Nov/2026:08:00:00 +0000", "timeEpoch": 1795000000000_i64},
        "isBase64Encoded": false
    })
}

fn rest_event(path: &str, query: Value) -> Value {
    json!({
        "resource": "/{proxy+}", "path": path, "httpMethod": "GET",
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "x-api-key": KEY},
        "multiValueHeaders": {}, "queryStringParameters": query, "multiValueQueryStringParameters": {},
        "pathParameters": {}, "stageVariables": null,
        "requestContext": {"accountId": "123456789012", "resourceId": "r1", "stage": "prod",
            "requestId": "r", "identity": {"sourceIp": "192.0.2.1"}, "resourcePath": "/{proxy+}",
            "httpMethod": "GET", "apiId": "abc123"},
        "body": null, "isBase64Encoded": false
    })
}

#[tokio::test]
async fn the_bootstrap_binary_creates_and_deletes_through_the_runtime_api() {
    let world = World::new();
    let aws = world.aws().await;
    push_profile(&world, &aws).await;
    let image = world.image("api", "v1");
    let events = [
        function_url_event(
            "/api/v1/create",
            &format!("name=foo&image_uri={image}&profile=api"),
        ),
        rest_event("/prod/api/v1/environments", json!({"profile": "api"})),
        rest_event(
            "/prod/api/v1/delete",
            json!({"name": "foo", "profile": "api"}),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let events_file = dir.path().join("events.jsonl");
    let answers_file = dir.path().join("answers.jsonl");
    let lines: Vec<String> = events.iter().map(Value::to_string).collect();
    std::fs::write(&events_file, lines.join("\n")).unwrap();

    let port = support::free_port();
    let mut runtime = Command::new(support::venv_bin("python"))
        .arg(support::workspace().join("scripts/lambda_runtime.py"))
        .args(["--port", &port.to_string(), "--events"])
        .arg(&events_file)
        .arg("--answers")
        .arg(&answers_file)
        .spawn()
        .unwrap();
    support::wait_for(port, "the runtime stand-in");
    let mut function = Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "eden")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/eden")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("EDEN_API_KEYS", KEY)
        .env("AWS_ENDPOINT_URL", &world.moto.endpoint)
        .env("AWS_REGION", support::REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(runtime.wait().unwrap().success());
    let _ = function.kill();
    let logs = function.wait_with_output().unwrap();

    let answers: Vec<Value> = std::fs::read_to_string(&answers_file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let body = |i: usize| -> Value {
        assert_eq!(answers[i]["kind"], "response", "{}", answers[i]);
        serde_json::from_str(answers[i]["body"]["body"].as_str().unwrap()).unwrap()
    };
    assert_eq!(answers[0]["body"]["statusCode"], 200, "{}", answers[0]);
    assert_eq!(body(0)["endpoint"], "api-foo.dev.example.com");
    assert_eq!(
        body(1)["environments"]["api"][0]["name"],
        "dev-dynamic-api-foo"
    );
    assert_eq!(answers[2]["body"]["statusCode"], 200, "{}", answers[2]);
    assert_eq!(
        aws.leftovers("dev-dynamic-", "foo").await,
        Vec::<String>::new()
    );

    // The function logs one JSON object a line, and never the key.
    let stdout = String::from_utf8_lossy(&logs.stdout);
    let request_lines: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["message"] == "request")
        .collect();
    assert_eq!(request_lines.len(), 3, "{stdout}");
    assert_eq!(request_lines[0]["fields"]["path"], "/api/v1/create");
    assert!(!stdout.contains(KEY) && !String::from_utf8_lossy(&logs.stderr).contains(KEY));
}
