//! Faults injected by `scripts/awsproxy.py` between eden and moto: a failed call at any step,
//! throttling, 5xx and dropped connections.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use aws_sdk_route53::types::RrType;
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

/// Route 53 a second away, so that its answers come after every other service's.
fn slow_route_53() -> serde_json::Value {
    json!({"service_latency_ms": {"route53": 1000}})
}

/// Route 53 slow, and every call of `operation` denied.
fn slow_route_53_denying(operation: &str) -> serde_json::Value {
    let mut rules = deny(operation, 0);
    rules["service_latency_ms"] = slow_route_53()["service_latency_ms"].take();
    rules
}

#[tokio::test]
async fn a_failed_call_at_any_step_of_create_leaves_nothing() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    // On a machine that learned nothing yet (each run forgets what the one before learned)...
    fail_each_create_write(&world, &aws, true).await;
    // ...and on one that learned the reference, whose create makes the target group with its
    // first reads, before the lease is taken.
    world.proxy().rules(json!({}));
    world.create("api", "warm", "v1");
    world
        .eden(&["delete", "-p", "api", "--name", "warm"])
        .success();
    fail_each_create_write(&world, &aws, false).await;
}

async fn fail_each_create_write(world: &World, aws: &Aws, forget: bool) {
    for (operation, skip) in CREATE_WRITES {
        if forget {
            std::fs::remove_dir_all(world.home.path().join(".cache")).ok();
        }
        world.proxy().rules(deny(operation, skip));
        world
            .try_create("api", "foo", "v1", &[])
            .failure("AccessDenied");
        // Not retried: access denied will not change on a second try.
        let calls = world.proxy().calls(operation);
        assert_eq!(calls, u64::from(skip) + 1, "{operation} was retried");
        assert_no_environment(aws).await;
    }
}

/// The lease goes alongside CreateService; when CreateService fails and the lease cannot be
/// taken back, the run undoes nothing (another run may be finishing the environment), says so,
/// and `eden delete` removes what is left once the mark expires.
#[tokio::test]
async fn a_create_whose_lease_cannot_be_taken_back_leaves_its_work_to_delete() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    // The mark is the first UpdateItem; taking the lease back, the second.
    world.proxy().rules(json!({"faults": [
        {"operation": "CreateService", "error": "AccessDenied"},
        {"operation": "UpdateItem", "error": "AccessDenied", "skip": 1},
    ]}));
    let failed = world
        .try_create("api", "foo", "v1", &[])
        .failure("not undone, as the lease could not be taken back");
    assert!(
        failed.stderr.contains("eden delete -p api --name foo"),
        "{}",
        failed.stderr
    );
    assert_eq!(world.proxy().calls("DeleteTargetGroup"), 0);
    assert_eq!(aws.target_groups("dev-dynamic-api-foo").await.len(), 1);
    world.proxy().rules(json!({}));
    world
        .eden(&["delete", "-p", "api", "--name", "foo"])
        .success();
    assert_no_environment(&aws).await;
}

#[tokio::test]
async fn a_failed_call_at_any_step_of_a_deploy_keeps_the_running_environment() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.create("api", "foo", "v1");
    let file = aws.file_bytes().await;
    // A read of the first round among them, which fails before the run knows the environment.
    for (operation, skip) in [
        ("DescribeListeners", 0),
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

/// A delete whose target group stayed puts the environment's state item back, due to expire at
/// once: `eden gc` finishes it.
#[tokio::test]
async fn a_delete_that_left_its_target_group_is_finished_by_gc() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.create("api", "foo", "v1");
    world.proxy().rules(deny("DeleteTargetGroup", 0));
    world
        .eden(&["delete", "-p", "api", "--name", "foo"])
        .failure("AccessDenied");
    world.proxy().rules(json!({}));
    world.eden(&["gc", "-p", "api"]).success();
    assert_no_environment(&aws).await;
}

/// The state item goes with the lease alongside DeleteTargetGroup, the delete's last call:
/// when that fails, both are put back and the environment stays listed (above); when they
/// cannot be put back, the run says so, and the next delete removes what is left.
#[tokio::test]
async fn a_delete_whose_state_item_cannot_be_put_back_says_so() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.create("api", "foo", "v1");
    // The release is the first TransactWriteItems; putting the items back, the second.
    world.proxy().rules(json!({"faults": [
        {"operation": "DeleteTargetGroup", "error": "AccessDenied"},
        {"operation": "TransactWriteItems", "error": "AccessDenied", "skip": 1},
    ]}));
    let failed = world
        .eden(&["delete", "-p", "api", "--name", "foo"])
        .failure("the environment is no longer listed");
    assert!(
        failed.stderr.contains("eden delete -p api --name foo"),
        "{}",
        failed.stderr
    );
    assert_eq!(aws.target_groups("dev-dynamic-api-foo").await.len(), 1);
    world.proxy().rules(json!({}));
    world
        .eden(&["delete", "-p", "api", "--name", "foo"])
        .success();
    assert_no_environment(&aws).await;
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

/// Points `host` at another load balancer, as a record made by hand would.
async fn put_foreign_alias(aws: &Aws, host: &str, kind: aws_sdk_route53::types::RrType) {
    use aws_sdk_route53::types::{
        AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecordSet,
    };
    let alias = AliasTarget::builder()
        .hosted_zone_id("Z2ELSEWHERE")
        .dns_name("elsewhere.example.net")
        .evaluate_target_health(false)
        .build()
        .unwrap();
    let set = ResourceRecordSet::builder()
        .name(host)
        .r#type(kind)
        .alias_target(alias)
        .build()
        .unwrap();
    let change = Change::builder()
        .action(ChangeAction::Upsert)
        .resource_record_set(set)
        .build()
        .unwrap();
    aws.r53
        .change_resource_record_sets()
        .hosted_zone_id(&aws.zone_id)
        .change_batch(ChangeBatch::builder().changes(change).build().unwrap())
        .send()
        .await
        .unwrap();
}

/// Route 53 answers from us-east-1, often the slowest call of a run: a new environment's
/// records are made without waiting for their lookup, and the lookup still decides whether the
/// run may undo them.
#[tokio::test]
async fn records_do_not_wait_for_a_slow_route_53_and_a_run_undoes_only_its_own() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    let slow = slow_route_53();
    world.proxy().rules(slow.clone());
    world.create("api", "foo", "v1");
    let (_, listed) = world.proxy().timing("ListResourceRecordSets");
    let (changed, _) = world.proxy().timing("ChangeResourceRecordSets");
    assert!(
        changed < listed,
        "the records waited for their lookup: made at {changed} ms, lookup answered at {listed} ms"
    );

    // A record made by hand for another environment's host, pointing elsewhere: Route 53
    // refuses the CREATE over it, and the run that fails must leave it.
    put_foreign_alias(&aws, "api-bar.dev.example.com", RrType::A).await;
    // An environment whose service is gone keeps the records it had: the run that fails must
    // leave them too.
    aws.delete_service("dev-dynamic-api-foo").await;
    let mut failing = slow;
    failing["faults"] =
        json!([{"operation": "CreateService", "error": "AccessDenied", "times": 2}]);
    world.proxy().rules(failing.clone());
    for name in ["bar", "foo"] {
        world
            .try_create("api", name, "v1", &[])
            .failure("AccessDenied");
    }
    // And again where the CREATE over the foreign record goes through, as in moto: the lookup,
    // not the CREATE, says whose the record is.
    failing["moto_route53"] = json!(true);
    world.proxy().rules(failing);
    world
        .try_create("api", "bar", "v1", &[])
        .failure("AccessDenied");
    let mut hosts: Vec<String> = aws.records().await.into_iter().map(|(h, _)| h).collect();
    hosts.sort();
    hosts.dedup();
    assert_eq!(
        hosts,
        ["api-bar.dev.example.com", "api-foo.dev.example.com"]
    );
    // Route 53 has refused in a shape of its own too, which the SDK cannot read.
    let records = aws.records().await;
    let mut legacy = slow_route_53_denying("CreateService");
    legacy["legacy_route53_errors"] = json!(true);
    world.proxy().rules(legacy);
    world
        .try_create("api", "foo", "v1", &[])
        .failure("AccessDenied");
    assert_eq!(aws.records().await, records);

    // Records made before their lookup failed are this run's, and go with it.
    world
        .proxy()
        .rules(slow_route_53_denying("ListResourceRecordSets"));
    world
        .try_create("api", "baz", "v1", &[])
        .failure("AccessDenied");
    assert!(
        !aws.records()
            .await
            .iter()
            .any(|(host, _)| host == "api-baz.dev.example.com"),
        "the records outlived the failed create"
    );
}

/// A deploy's service call is its last, made once every other write is done, since the lease
/// goes with it; when the records fail, the service keeps the task definition it runs.
#[tokio::test]
async fn a_deploy_goes_after_a_slow_route_53_and_not_at_all_when_its_records_fail() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.create("api", "foo", "v1");
    world.proxy().rules(slow_route_53());
    world.create("api", "foo", "v2");
    let (deployed, _) = world.proxy().timing("UpdateService");
    let (_, listed) = world.proxy().timing("ListResourceRecordSets");
    assert!(
        deployed > listed,
        "the deploy went before the records were known: deployed at {deployed} ms, lookup answered at {listed} ms"
    );

    // The record deleted by hand: the next deploy makes it again, and Route 53 refuses.
    aws.delete_record("api-foo.dev.example.com").await;
    let revisions = aws.task_definitions("dev-dynamic-api-foo").await;
    world
        .proxy()
        .rules(slow_route_53_denying("ChangeResourceRecordSets"));
    world
        .try_create("api", "foo", "v1", &[])
        .failure("AccessDenied");
    assert_eq!(world.proxy().calls("UpdateService"), 0);
    let service = &aws.services("dev-dynamic-api-foo").await[0];
    assert_eq!(
        service.task_definition(),
        revisions.last().map(String::as_str)
    );
    assert_eq!(aws.task_definitions("dev-dynamic-api-foo").await, revisions);
}

/// Likewise a delete: the records eden makes go without waiting for their lookup, and the
/// lookup still finds what else the host has and what was gone already.
#[tokio::test]
async fn a_delete_does_not_wait_for_a_slow_route_53_and_removes_every_record_of_the_host() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    for name in ["foo", "bar"] {
        world.create("api", name, "v1");
    }
    // foo's host has an AAAA record too, which eden does not make for this ALB.
    put_foreign_alias(&aws, "api-foo.dev.example.com", RrType::Aaaa).await;
    // bar's record is gone already (moto takes a DELETE of it again; Route 53 would not).
    let bar: Vec<_> = aws
        .records()
        .await
        .into_iter()
        .filter(|(host, _)| host == "api-bar.dev.example.com")
        .collect();
    assert_eq!(bar.len(), 1);
    aws.delete_record("api-bar.dev.example.com").await;

    world.proxy().rules(slow_route_53());
    let deleted = world
        .eden(&["delete", "-p", "api", "--name", "foo", "-o", "json"])
        .success();
    let (_, listed) = world.proxy().timing("ListResourceRecordSets");
    let (changed, _) = world.proxy().timing("ChangeResourceRecordSets");
    assert!(
        changed < listed,
        "the records waited for their lookup: deleted at {changed} ms, lookup answered at {listed} ms"
    );
    assert!(
        deleted.stdout.contains("record api-foo.dev.example.com"),
        "{}",
        deleted.stdout
    );
    let deleted = world
        .eden(&["delete", "-p", "api", "--name", "bar", "-o", "json"])
        .success();
    assert!(
        !deleted.stdout.contains("record api-bar"),
        "{}",
        deleted.stdout
    );
    assert_eq!(aws.records().await, Vec::<(String, String)>::new());
    for name in ["foo", "bar"] {
        assert_eq!(
            aws.leftovers("dev-dynamic-", name).await,
            Vec::<String>::new()
        );
    }
}

/// With the reference target group's settings learned, a create makes the environment's target
/// group with its first reads instead of after them: the chain to the service is a round trip
/// shorter. It is made again when the reference's settings changed, and undone when a check
/// fails after it, but never when an environment has it.
#[tokio::test]
async fn a_target_group_made_with_the_first_reads_follows_the_reference_and_goes_with_a_failure() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.create("api", "one", "v1");
    world
        .eden(&["delete", "-p", "api", "--name", "one"])
        .success();

    // The reference's health check changes after the run learned its settings.
    let reference = aws.target_groups("dev01-api").await[0].clone();
    aws.elb
        .modify_target_group()
        .target_group_arn(reference.target_group_arn().unwrap())
        .health_check_path("/live")
        .send()
        .await
        .unwrap();
    world
        .proxy()
        .rules(json!({"operation_latency_ms": {"DescribeServices": 1000}}));
    world.create("api", "two", "v1");
    let (made, _) = world.proxy().timing("CreateTargetGroup");
    let (_, described) = world.proxy().timing("DescribeServices");
    assert!(
        made < described,
        "the target group waited for the reads: made at {made} ms, services read at {described} ms"
    );
    let two = &aws.target_groups("dev-dynamic-api-two").await;
    assert_eq!(two.len(), 1);
    assert_eq!(two[0].health_check_path(), Some("/live"), "made again");
    assert_eq!(world.proxy().calls("DeleteTargetGroup"), 1);

    // A check that fails after the target group was made: it goes with the run.
    world.proxy().rules(deny("DescribeImages", 0));
    world
        .try_create("api", "three", "v1", &[])
        .failure("AccessDenied");
    assert_eq!(world.proxy().calls("CreateTargetGroup"), 1);
    assert_eq!(
        aws.leftovers("dev-dynamic-api-three", "three").await,
        Vec::<String>::new()
    );

    // A deploy whose check fails, and one whose service update fails, keep the environment's
    // target group, when AWS hands it back as if made (from a machine that did not make it).
    for failing in ["UpdateService", "DescribeImages"] {
        forget_environments(&world);
        world.proxy().rules(json!({
            "faults": [{"operation": failing, "error": "AccessDenied"}],
            "aws_target_groups": true,
        }));
        world
            .try_create("api", "two", "v2", &[])
            .failure("AccessDenied");
        assert_eq!(world.proxy().calls("CreateTargetGroup"), 1, "{failing}");
        assert_eq!(world.proxy().calls("DeleteTargetGroup"), 0, "{failing}");
        assert_eq!(
            aws.target_groups("dev-dynamic-api-two").await,
            two.clone(),
            "{failing}"
        );
    }
    forget_environments(&world);
    world.proxy().rules(json!({"aws_target_groups": true}));
    world.create("api", "two", "v2");
    world
        .eden(&["delete", "-p", "api", "--name", "two"])
        .success();
    assert_eq!(
        aws.leftovers("dev-dynamic-", "api-").await,
        Vec::<String>::new()
    );
}

/// What this machine learned of the environments it made, forgotten, as on a CI runner whose
/// cache comes from another pull request's job.
fn forget_environments(world: &World) {
    let path = world.home.path().join(".cache/eden/hints.json");
    let mut hints: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    hints.as_object_mut().unwrap().remove("environments");
    std::fs::write(&path, hints.to_string()).unwrap();
}

/// A deploy from the machine that made the environment neither makes its target group nor
/// reads the reference's; when the environment was deleted from elsewhere meanwhile, the create
/// reads the reference's target group then and makes a faithful copy.
#[tokio::test]
async fn a_deploy_from_the_machine_that_made_the_environment_reads_no_target_group() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.create("api", "foo", "v1");
    world.proxy().rules(json!({}));
    world.create("api", "foo", "v2");
    for operation in [
        "CreateTargetGroup",
        "DescribeTargetGroups",
        "DescribeTargetGroupAttributes",
    ] {
        assert_eq!(world.proxy().calls(operation), 0, "{operation}");
    }
    let service = &aws.services("dev-dynamic-api-foo").await[0];
    assert!(service.task_definition().unwrap().ends_with(":2"));

    // Deleted from another machine: this one still thinks it is there.
    let elsewhere = tempfile::tempdir().unwrap();
    world
        .eden_elsewhere(elsewhere.path(), &["delete", "-p", "api", "--name", "foo"])
        .success();
    world.proxy().rules(json!({}));
    world.create("api", "foo", "v1");
    let copy = &aws.target_groups("dev-dynamic-api-foo").await[0];
    let reference = &aws.target_groups("dev01-api").await[0];
    assert_eq!(copy.health_check_path(), reference.health_check_path());
    assert_eq!(copy.port(), reference.port());
    let attributes = |arn: String| {
        let elb = aws.elb.clone();
        async move {
            let mut found: Vec<(String, String)> = elb
                .describe_target_group_attributes()
                .target_group_arn(arn)
                .send()
                .await
                .unwrap()
                .attributes()
                .iter()
                .filter(|a| a.key().unwrap().starts_with("deregistration_delay."))
                .map(|a| (a.key().unwrap().to_string(), a.value().unwrap().to_string()))
                .collect();
            found.sort();
            found
        }
    };
    assert_eq!(
        attributes(copy.target_group_arn().unwrap().to_string()).await,
        attributes(reference.target_group_arn().unwrap().to_string()).await,
    );
    assert_eq!(world.proxy().calls("CreateTargetGroup"), 1);
}
