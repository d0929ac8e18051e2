//! Faults injected by `scripts/awsproxy.py` between eden and moto: a failed call at any step,
//! throttling, 5xx and dropped connections.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{Aws, World};

/// Every call that writes during a create, in the order the plan makes them.
const CREATE_WRITES: [&str; 8] = [
    "RegisterTaskDefinition",
    "CreateTargetGroup",
    "ModifyTargetGroupAttributes",
    "ChangeResourceRecordSets",
    "CreateRule",
    "CreateService",
    "PutObject",
    "PutItem",
];

/// Every call that writes during a delete.
const DELETE_WRITES: [&str; 7] = [
    "PutObject",
    "DeleteItem",
    "ChangeResourceRecordSets",
    "DeleteRule",
    "DeleteService",
    "DeleteTargetGroup",
    "DeregisterTaskDefinition",
];

async fn assert_no_environment(aws: &Aws) {
    assert_eq!(
        aws.leftovers("dev-dynamic-", "foo").await,
        Vec::<String>::new()
    );
    assert_eq!(
        aws.task_definitions("dev-dynamic-api-foo").await,
        Vec::<String>::new()
    );
    assert_eq!(aws.state_items("eden").await.len(), 0);
    assert_eq!(aws.file().await, json!({"environments": []}));
}

fn deny(operation: &str) -> serde_json::Value {
    json!({"faults": [{"operation": operation, "error": "AccessDenied"}]})
}

#[tokio::test]
async fn a_failed_call_at_any_step_of_create_leaves_nothing() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    for operation in CREATE_WRITES {
        world.proxy().rules(deny(operation));
        world
            .try_create("api", "foo", "v1", &[])
            .failure("AccessDenied");
        // Not retried: access denied will not change on a second try.
        assert_eq!(world.proxy().calls(operation), 1, "{operation} was retried");
        assert_no_environment(&aws).await;
    }
}

#[tokio::test]
async fn a_failed_call_at_any_step_of_a_deploy_keeps_the_running_environment() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.create("api", "foo", "v1");
    let file = aws.file_bytes().await;
    for operation in ["RegisterTaskDefinition", "UpdateService", "PutItem"] {
        world.proxy().rules(deny(operation));
        world
            .try_create("api", "foo", "v2", &[])
            .failure("AccessDenied");
        let service = &aws.services("dev-dynamic-api-foo").await[0];
        assert!(
            service.task_definition().unwrap().ends_with(":1"),
            "{operation}"
        );
        assert_eq!(
            aws.task_definitions("dev-dynamic-api-foo").await.len(),
            1,
            "{operation}"
        );
        assert_eq!(aws.file_bytes().await, file, "{operation}");
    }
}

#[tokio::test]
async fn a_delete_that_failed_at_any_step_is_finished_by_running_it_again() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    for operation in DELETE_WRITES {
        world.proxy().rules(json!({}));
        world.create("api", "foo", "v1");
        world.proxy().rules(deny(operation));
        world
            .eden(&["delete", "-p", "api", "--name", "foo"])
            .failure("AccessDenied");
        world.proxy().rules(json!({}));
        world
            .eden(&["delete", "-p", "api", "--name", "foo"])
            .success();
        assert_no_environment(&aws).await;
    }
}

#[tokio::test]
async fn throttling_5xx_and_dropped_connections_are_retried() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.proxy().rules(json!({
        "latency_ms": 20,
        "throttle": [{"operation": "ChangeResourceRecordSets", "per_second": 5}],
        "faults": [
            {"operation": "CreateService", "error": "Throttling", "times": 2},
            {"operation": "DescribeServices", "error": "500"},
            {"operation": "CreateTargetGroup", "error": "reset"},
            {"operation": "GetObject", "error": "Throttling"},
        ],
    }));
    world.create("api", "foo", "v1");
    assert_eq!(world.proxy().calls("CreateService"), 3);
    assert_eq!(aws.services("dev-dynamic-api-foo").await.len(), 1);
    assert_eq!(aws.target_groups("dev-dynamic-api-foo").await.len(), 1);
    world
        .eden(&["delete", "-p", "api", "--name", "foo"])
        .success();
    assert_no_environment(&aws).await;
}
