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
    // The state item, in one transaction with the check that the lease is held.
    ("TransactWriteItems", 0),
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
    // With a profile as the seed's `config setup` writes it...
    fail_each_create_write(&world, &aws).await;
    // ...and with the keys `config check --aws --fix` fills in, whose create reads the
    // reference's templates and the listener's rules alongside what names them.
    world.proxy().rules(json!({}));
    world
        .eden(&["config", "check", "--aws", "--fix", "-p", "api"])
        .success();
    world.create("api", "warm", "v1");
    world
        .eden(&["delete", "-p", "api", "--name", "warm"])
        .success();
    fail_each_create_write(&world, &aws).await;
}

async fn fail_each_create_write(world: &World, aws: &Aws) {
    for (operation, skip) in CREATE_WRITES {
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
/// and `eden delete` removes what is left.
#[tokio::test]
async fn a_create_whose_lease_cannot_be_taken_back_leaves_its_work_to_delete() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    // Giving the lease up is the first UpdateItem; taking it back, the second.
    world.proxy().rules(json!({"faults": [
        {"operation": "CreateService", "error": "AccessDenied"},
        {"operation": "UpdateItem", "error": "AccessDenied", "skip": 1},
    ]}));
    let failed = world
        .try_create("api", "foo", "v1", &[])
        .failure("not undone, as this run could not make sure it still holds");
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

/// When CreateService fails after the lease went with it, the run takes the lease back to undo:
/// until its undo is done the lease is held, and another run waits for it (a lease taken back
/// once kept the mark that tells older eden runs a lease is free, and was taken from under the
/// undo).
#[tokio::test]
async fn a_lease_taken_back_to_undo_is_held_until_the_undo_is_done() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.proxy().rules(json!({
        "faults": [{"operation": "CreateService", "error": "AccessDenied"}],
        "operation_latency_ms": {"DeleteRule": 3000},
    }));
    let create = world.spawn_create("api", "foo", "v1");
    world.proxy().wait_for_call("DeleteRule");
    let delete = world
        .eden(&["delete", "-p", "api", "--name", "foo"])
        .success();
    assert!(
        delete
            .stderr
            .contains("is being changed by another eden run, waiting for it"),
        "{}",
        delete.stderr
    );
    let create = support::Run::from(create.wait_with_output().unwrap());
    create.failure("AccessDenied");
    assert_no_environment(&aws).await;
}

/// A create whose undo cannot remove its records keeps its state item, which is what makes
/// them eden's: `eden delete` then removes them with the rest.
#[tokio::test]
async fn a_record_that_could_not_be_undone_keeps_the_state_item_for_delete() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    // The records' CREATE goes through; the undo's DELETE is denied.
    world.proxy().rules(json!({"faults": [
        {"operation": "CreateService", "error": "AccessDenied"},
        {"operation": "ChangeResourceRecordSets", "error": "AccessDenied", "skip": 1},
    ]}));
    let failed = world
        .try_create("api", "foo", "v1", &[])
        .failure("could not undo: record api-foo.dev.example.com");
    assert!(
        failed
            .stderr
            .contains("Kept state item dev-dynamic-api-foo in table eden"),
        "{}",
        failed.stderr
    );
    let listed = world.eden(&["ls", "-p", "api"]).success();
    assert!(
        listed.stdout.contains("dev-dynamic-api-foo"),
        "{}",
        listed.stdout
    );
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
        ("TransactWriteItems", 0),
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
        // A run whose reads failed knows nothing of the environment: its lease item goes (the
        // next run, finding a state item but no lease item, reads again under the lease).
        let lease = aws
            .state_items("eden")
            .await
            .into_iter()
            .find(|i| i["name"].as_s().unwrap() == "api/dev-dynamic-api-foo");
        if operation == "DescribeListeners" {
            assert_eq!(lease, None);
            continue;
        }
        // Otherwise the environment stays, so its lease item stays too, free, and saying
        // nothing of what the run left: the next run reads again under the lease.
        let lease = aws
            .state_items("eden")
            .await
            .into_iter()
            .find(|i| i["name"].as_s().unwrap() == "api/dev-dynamic-api-foo")
            .unwrap_or_else(|| panic!("no lease item after {operation} failed"));
        assert!(!lease.contains_key("owner"), "{operation}: {lease:?}");
        assert!(!lease.contains_key("left"), "{operation}: {lease:?}");
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

/// DynamoDB cancels a write that meets another write of one of its items in flight (a run's
/// renewal beside its own transaction, a waiter's take beside the holder's), and asks the caller
/// to try again; moto never does. A conflict is tried again, never taken for a lost lease.
#[tokio::test]
async fn dynamodb_write_conflicts_are_tried_again() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    // The lease's take, then twice the state item's write (in a transaction with the check
    // that the lease is held).
    world.proxy().rules(json!({"faults": [
        {"operation": "PutItem", "error": "TransactionConflictException"},
        {"operation": "TransactWriteItems", "error": "TransactionConflict", "times": 2},
    ]}));
    world.create("api", "foo", "v1");
    // Tried again, then refused for want of a table, which the run makes, then taken.
    assert_eq!(world.proxy().calls("PutItem"), 3);
    assert_eq!(world.proxy().calls("TransactWriteItems"), 3);
    assert_eq!(aws.services("dev-dynamic-api-foo").await.len(), 1);
    // The environment's item and its free lease item.
    assert_eq!(aws.state_items("eden").await.len(), 2);

    // Cancelled at every try: a failed write, undone as any other, not a lease lost.
    world.proxy().rules(json!({"faults": [
        {"operation": "TransactWriteItems", "error": "TransactionConflict", "times": 100},
    ]}));
    world
        .try_create("api", "bar", "v1", &[])
        .failure("TransactionCanceledException");
    assert_eq!(
        aws.leftovers("dev-dynamic-api-bar", "api-bar.").await,
        Vec::<String>::new()
    );

    // The delete's last write: the lease with the state item.
    world.proxy().rules(json!({"faults": [
        {"operation": "TransactWriteItems", "error": "TransactionConflict"},
    ]}));
    world
        .eden(&["delete", "-p", "api", "--name", "foo"])
        .success();
    assert_eq!(world.proxy().calls("TransactWriteItems"), 2);
    assert_no_environment(&aws).await;
}

/// ECS learns of a new listener rule a moment after ELB made it, and until then refuses a
/// service of the rule's target group ("does not have an associated load balancer"); moto sees
/// it at once. The service, made right after the rule, is asked for again.
#[tokio::test]
async fn a_service_is_asked_for_again_until_ecs_sees_its_rule() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.proxy().rules(json!({"ecs_unseen_rule_ms": 1000}));
    world.create("api", "foo", "v1");
    let asked = world.proxy().calls("CreateService");
    assert!((2..=4).contains(&asked), "CreateService {asked} times");
    assert_eq!(aws.services("dev-dynamic-api-foo").await.len(), 1);
}

/// ELB may still see a rule deleted a moment ago using its target group, and refuses to delete
/// the target group until then: the delete asks again instead of failing.
#[tokio::test]
async fn a_target_group_is_deleted_once_elb_sees_its_rule_gone() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.create("api", "foo", "v1");
    world.proxy().rules(json!({"faults": [
        {"operation": "DeleteTargetGroup", "error": "ResourceInUse", "times": 2},
    ]}));
    world
        .eden(&["delete", "-p", "api", "--name", "foo"])
        .success();
    assert_eq!(world.proxy().calls("DeleteTargetGroup"), 3);
    assert_eq!(
        aws.leftovers("dev-dynamic-", "foo").await,
        Vec::<String>::new()
    );
}

/// A call AWS carried out whose answer was lost (the connection dropped) is sent again by the
/// SDK: the service it made is that call's answer, by its client token, not a refusal of a
/// second service of the name that would undo the whole create.
#[tokio::test]
async fn a_service_whose_answer_was_lost_is_made_once() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.proxy().rules(json!({"faults": [
        {"operation": "CreateService", "error": "lost"},
    ]}));
    world.create("api", "foo", "v1");
    assert_eq!(world.proxy().calls("CreateService"), 2);
    assert_eq!(aws.services("dev-dynamic-api-foo").await.len(), 1);
}

/// A listener rule and records made by calls whose answers were lost: the SDK sends each call
/// again, and finds the rule's priority taken by that very rule, or Route 53 refusing to create
/// what is there. The create takes them as made (they are exactly what it asked for) instead of
/// as another run's.
#[tokio::test]
async fn a_rule_and_records_whose_answers_were_lost_are_taken_as_made() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.proxy().rules(json!({"faults": [
        {"operation": "CreateRule", "error": "lost"},
        {"operation": "ChangeResourceRecordSets", "error": "lost"},
    ]}));
    world.create("api", "foo", "v1");
    assert_eq!(world.proxy().calls("CreateRule"), 2);
    assert_eq!(world.proxy().calls("ChangeResourceRecordSets"), 2);
    assert_eq!(aws.rules().await.len(), 1);
    assert_eq!(aws.records().await.len(), 1);
    assert_eq!(aws.services("dev-dynamic-api-foo").await.len(), 1);
    world
        .eden(&["delete", "-p", "api", "--name", "foo"])
        .success();
    assert_no_environment(&aws).await;
}

/// An environments file write that landed but whose answer was lost: the SDK sends it again, S3
/// refuses it (the file changed, by that write), and the file read again shows the change made.
/// It is this run's own, and undone with the rest when a later step fails.
#[tokio::test]
async fn a_file_write_whose_answer_was_lost_is_undone_with_the_rest() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.proxy().rules(json!({"faults": [
        {"operation": "PutObject", "error": "lost"},
        {"operation": "CreateService", "error": "AccessDenied"},
    ]}));
    world
        .try_create("api", "foo", "v1", &[])
        .failure("AccessDenied");
    assert_eq!(world.proxy().calls("PutObject"), 3);
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

/// Route 53 answers from us-east-1, often the slowest call of a run; still, a record is made
/// only once its lookup showed the host free of records eden did not make: such a record is
/// never overwritten, and a failed run undoes only its own.
#[tokio::test]
async fn records_wait_for_their_lookup_and_a_run_undoes_only_its_own() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    let slow = slow_route_53();
    world.proxy().rules(slow.clone());
    world.create("api", "foo", "v1");
    let (_, listed) = world.proxy().timing("ListResourceRecordSets");
    let (changed, _) = world.proxy().timing("ChangeResourceRecordSets");
    assert!(
        changed > listed,
        "the records went before their lookup: made at {changed} ms, lookup answered at {listed} ms"
    );

    // A record made by hand for another environment's host, pointing elsewhere: the create is
    // refused before it makes anything, whether Route 53 refuses a CREATE over it (AWS) or not
    // (moto).
    put_foreign_alias(&aws, "api-bar.dev.example.com", RrType::A).await;
    for moto_route53 in [false, true] {
        let mut rules = slow.clone();
        rules["moto_route53"] = json!(moto_route53);
        world.proxy().rules(rules);
        world.try_create("api", "bar", "v1", &[]).failure(
            "record api-bar.dev.example.com A is not eden's: it is an alias to elsewhere.example.net",
        );
        for write in [
            "ChangeResourceRecordSets",
            "CreateTargetGroup",
            "RegisterTaskDefinition",
        ] {
            assert_eq!(world.proxy().calls(write), 0, "{write}");
        }
    }
    // An environment whose service is gone keeps the records it had when the run that makes the
    // service again fails.
    aws.delete_service("dev-dynamic-api-foo").await;
    world.proxy().rules(slow_route_53_denying("CreateService"));
    world
        .try_create("api", "foo", "v1", &[])
        .failure("AccessDenied");
    let mut hosts: Vec<String> = aws.records().await.into_iter().map(|(h, _)| h).collect();
    hosts.sort();
    hosts.dedup();
    assert_eq!(
        hosts,
        ["api-bar.dev.example.com", "api-foo.dev.example.com"]
    );

    // A lookup that fails: nothing is made at all.
    world
        .proxy()
        .rules(slow_route_53_denying("ListResourceRecordSets"));
    world
        .try_create("api", "baz", "v1", &[])
        .failure("AccessDenied");
    assert_eq!(world.proxy().calls("CreateTargetGroup"), 0);
    assert_eq!(
        aws.leftovers("dev-dynamic-api-baz", "api-baz.").await,
        Vec::<String>::new()
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

/// A delete removes the host's records only where they are eden's: the aliases to the shared
/// ALB at a host the state item records. A record of another target stays, and is said so.
#[tokio::test]
async fn a_delete_removes_only_edens_own_records_of_the_host() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    for name in ["foo", "bar"] {
        world.create("api", name, "v1");
    }
    // foo's host has an AAAA record too, pointing elsewhere: not eden's.
    put_foreign_alias(&aws, "api-foo.dev.example.com", RrType::Aaaa).await;
    // bar's record is gone already (moto takes a DELETE of it again; Route 53 would not).
    aws.delete_record("api-bar.dev.example.com").await;

    world.proxy().rules(slow_route_53());
    let deleted = world
        .eden(&["delete", "-p", "api", "--name", "foo", "-o", "json"])
        .success();
    let deleted: serde_json::Value = serde_json::from_str(&deleted.stdout).unwrap();
    assert!(
        deleted["removed"]
            .to_string()
            .contains("record api-foo.dev.example.com"),
        "{deleted}"
    );
    assert_eq!(
        deleted["kept"],
        json!(["record api-foo.dev.example.com Aaaa: it is an alias to elsewhere.example.net, not to the shared ALB"]),
    );
    let deleted = world
        .eden(&["delete", "-p", "api", "--name", "bar", "-o", "json"])
        .success();
    assert!(
        !deleted.stdout.contains("record api-bar"),
        "{}",
        deleted.stdout
    );
    assert_eq!(
        aws.records().await,
        [("api-foo.dev.example.com".to_string(), "AAAA".to_string())]
    );
    assert_eq!(
        aws.leftovers("dev-dynamic-api-bar", "api-bar.").await,
        Vec::<String>::new()
    );
}

/// A create copies the reference's target group as it is when the create reads it; a deploy
/// makes no target group, and one that fails keeps the environment's, also where AWS would hand
/// back a target group of the same name and settings.
#[tokio::test]
async fn a_target_group_is_copied_from_the_reference_as_it_is_and_never_by_a_deploy() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.create("api", "one", "v1");
    let reference = aws.target_groups("dev01-api").await[0].clone();
    aws.elb
        .modify_target_group()
        .target_group_arn(reference.target_group_arn().unwrap())
        .health_check_path("/live")
        .send()
        .await
        .unwrap();
    world.create("api", "two", "v1");
    let two = &aws.target_groups("dev-dynamic-api-two").await;
    assert_eq!(two.len(), 1);
    assert_eq!(two[0].health_check_path(), Some("/live"));

    for failing in ["UpdateService", "DescribeImages"] {
        world.proxy().rules(json!({
            "faults": [{"operation": failing, "error": "AccessDenied"}],
            "aws_target_groups": true,
        }));
        world
            .try_create("api", "two", "v2", &[])
            .failure("AccessDenied");
        assert_eq!(world.proxy().calls("CreateTargetGroup"), 0, "{failing}");
        assert_eq!(world.proxy().calls("DeleteTargetGroup"), 0, "{failing}");
        assert_eq!(
            aws.target_groups("dev-dynamic-api-two").await,
            two.clone(),
            "{failing}"
        );
    }
    world.proxy().rules(json!({"aws_target_groups": true}));
    world.create("api", "two", "v2");
    assert_eq!(world.proxy().calls("CreateTargetGroup"), 0);
    for name in ["one", "two"] {
        world
            .eden(&["delete", "-p", "api", "--name", name])
            .success();
    }
    assert_eq!(
        aws.leftovers("dev-dynamic-", "api-").await,
        Vec::<String>::new()
    );
}

/// A create after a delete makes the environment anew with a faithful copy of the reference's
/// target group, attributes too.
#[tokio::test]
async fn a_create_after_a_delete_copies_the_target_group_faithfully() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.create("api", "foo", "v1");
    world
        .eden(&["delete", "-p", "api", "--name", "foo"])
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

/// moto enforces no quota of an ALB; the proxy does, as ELB does. A create past the shared ALB's
/// rules is refused by AWS, said in one line with what to do, and undone.
#[tokio::test]
async fn a_create_past_the_shared_albs_quota_of_rules_is_undone_and_says_why() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.create("api", "one", "v1");
    world.proxy().rules(json!({"alb_quotas": {"rules": 1}}));
    let refused = world
        .try_create("api", "foo", "v1", &[])
        .failure("TooManyRules");
    assert!(
        refused.stderr.contains("an AWS quota is reached"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        aws.leftovers("dev-dynamic-api-foo", "foo").await,
        Vec::<String>::new()
    );
    assert_eq!(
        aws.task_definitions("dev-dynamic-api-foo").await,
        Vec::<String>::new()
    );
    // The target groups' quota likewise, where the shared listener's rules do not show it.
    world
        .proxy()
        .rules(json!({"alb_quotas": {"target_groups": 1}}));
    world
        .try_create("api", "foo", "v1", &[])
        .failure("TooManyUniqueTargetGroupsPerLoadBalancer");
    assert_eq!(
        aws.leftovers("dev-dynamic-api-foo", "foo").await,
        Vec::<String>::new()
    );
    // Below its quotas the name is free again (its record too: made and deleted by the first
    // create's undo).
    world.proxy().rules(json!({}));
    world.create("api", "foo", "v1");
}

/// The environments file deleted between a run's read and its write: the write over the version
/// read finds no object, and the run reads again and writes the file anew, as after any other
/// writer.
#[tokio::test]
async fn an_environments_file_deleted_while_a_run_writes_it_is_written_anew() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world
        .proxy()
        .rules(json!({"operation_latency_ms": {"PutObject": 1500}}));
    let create = world.spawn_create("api", "foo", "v1");
    world.proxy().wait_for_call("PutObject");
    aws.s3
        .delete_object()
        .bucket(&aws.bucket)
        .key(&aws.key)
        .send()
        .await
        .unwrap();
    support::Run::from(create.wait_with_output().unwrap()).success();
    let file = aws.file().await;
    assert_eq!(
        file["environments"][0]["api_endpoint"], "api-foo.dev.example.com",
        "{file}"
    );
}
