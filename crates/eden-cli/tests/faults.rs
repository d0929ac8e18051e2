//! Faults injected by `scripts/awsproxy.py` between eden and moto: a failed call at any step,
//! throttling, 5xx and dropped connections.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{Aws, World};

/// Every call that writes during a create, in the order the plan makes them, with how many
/// calls of the same operation come first (the lease is a PutItem too).
const CREATE_WRITES: [(&str, u32); 9] = [
    ("PutItem", 0),
    ("RegisterTaskDefinition", 0),
    ("CreateTargetGroup", 0),
    ("ModifyTargetGroupAttributes", 0),
    ("ChangeResourceRecordSets", 0),
    ("CreateRule", 0),
    ("CreateService", 0),
    ("PutObject", 0),
    ("PutItem", 1),
];

/// Every call that writes during a delete, likewise.
const DELETE_WRITES: [(&str, u32); 8] = [
    ("PutItem", 0),
    ("PutObject", 0),
    ("ChangeResourceRecordSets", 0),
    ("DeleteRule", 0),
    ("DeleteService", 0),
    ("DeleteTargetGroup", 0),
    ("DeregisterTaskDefinition", 0),
    // The state item goes with the lease, last.
    ("TransactWriteItems", 0),
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

/// Denies the call of `operation` after `skip` calls of it went through.
fn deny(operation: &str, skip: u32) -> serde_json::Value {
    json!({"faults": [{"operation": operation, "error": "AccessDenied", "skip": skip}]})
}

#[tokio::test]
async fn a_failed_call_at_any_step_of_create_leaves_nothing() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    for (operation, skip) in CREATE_WRITES {
        world.proxy().rules(deny(operation, skip));
        world
            .try_create("api", "foo", "v1", &[])
            .failure("AccessDenied");
        // Not retried: access denied will not change on a second try.
        let calls = world.proxy().calls(operation);
        assert_eq!(calls, u64::from(skip) + 1, "{operation} was retried");
        assert_no_environment(&aws).await;
    }
}

#[tokio::test]
async fn a_failed_call_at_any_step_of_a_deploy_keeps_the_running_environment() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.create("api", "foo", "v1");
    let file = aws.file_bytes().await;
    for (operation, skip) in [
        ("RegisterTaskDefinition", 0),
        ("UpdateService", 0),
        ("PutItem", 1),
    ] {
        world.proxy().rules(deny(operation, skip));
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
        // The environment stays, so its lease item stays too, free and stamped: the next run
        // can tell its reads came after this one's undoing.
        let lease = aws
            .state_items("eden")
            .await
            .into_iter()
            .find(|i| i["name"].as_s().unwrap() == "api/dev-dynamic-api-foo")
            .unwrap_or_else(|| panic!("no lease item after {operation} failed"));
        assert_eq!(lease["expires_at"].as_n().unwrap(), "0", "{operation}");
        assert!(lease.contains_key("released_at"), "{operation}");
    }
}

#[tokio::test]
async fn a_delete_that_failed_at_any_step_is_finished_by_running_it_again() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    for (operation, skip) in DELETE_WRITES {
        world.proxy().rules(json!({}));
        world.create("api", "foo", "v1");
        world.proxy().rules(deny(operation, skip));
        world
            .eden(&["delete", "-p", "api", "--name", "foo"])
            .failure("AccessDenied");
        world.proxy().rules(json!({}));
        // Until the last of it is gone, the environment is listed.
        let listed = world.eden(&["ls", "-p", "api"]).success();
        assert!(
            listed.stdout.contains("dev-dynamic-api-foo"),
            "not listed after {operation} failed: {}",
            listed.stdout
        );
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
