//! Several eden runs at once on one shared ALB, environments file and state table.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::process::Child;

use serde_json::json;
use support::{Run, World};

/// These tests each start dozens of eden processes against one moto; run side by side on two
/// cores they would measure the machine's load, not eden, so they take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn wait_all(children: Vec<Child>) -> Vec<Run> {
    children
        .into_iter()
        .map(|c| Run::from(c.wait_with_output().unwrap()))
        .collect()
}

#[tokio::test]
async fn concurrent_creates_and_deletes_of_different_names_all_succeed() {
    let _turn = ONE_AT_A_TIME.lock().await;
    // 30 at once by default, 50 with EDEN_TEST_CONCURRENCY=50 (`bench/chaos` runs 50): on a
    // slow 2-core machine, the one moto that ECS and ELB share (both check EC2's subnets) made
    // calls of 50 runs wait past eden's 8 s timeout, with the code before this test's last
    // change too. The other services get a moto each, as AWS's answer side by side.
    let n: usize = std::env::var("EDEN_TEST_CONCURRENCY").map_or(30, |v| v.parse().unwrap());
    let world = World::split_behind_proxy();
    // As AWS: Route 53 throttles above five changes a second, and every call takes a while.
    world.proxy().rules(json!({
        "latency_ms": 20,
        "throttle": [{"operation": "ChangeResourceRecordSets", "per_second": 5}],
    }));
    let aws = world.aws().await;
    let image = world.image("api", "v1");
    let names: Vec<String> = (0..n).map(|i| format!("pr-{i}")).collect();

    let creates = names
        .iter()
        .map(|n| world.spawn(&["create", "-p", "api", "--name", n, "--image-uri", &image]))
        .collect();
    for run in wait_all(creates) {
        run.success();
    }
    let file = aws.file().await;
    let listed: BTreeSet<String> = file["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["api_endpoint"].as_str().unwrap().to_string())
        .collect();
    let wanted: BTreeSet<String> = names
        .iter()
        .map(|n| format!("api-{n}.dev.example.com"))
        .collect();
    assert_eq!(listed, wanted, "the file lost an endpoint");
    let rules = aws.rules().await;
    let priorities: BTreeSet<&str> = rules.iter().filter_map(|r| r.priority()).collect();
    assert_eq!((rules.len(), priorities.len()), (n, n));
    assert_eq!(aws.services("dev-dynamic-api-pr-").await.len(), n);
    assert_eq!(aws.records().await.len(), n);
    assert!(
        world.proxy().calls("throttled") > 0,
        "Route 53 never throttled"
    );

    let deletes = names
        .iter()
        .map(|n| world.spawn(&["delete", "-p", "api", "--name", n]))
        .collect();
    for run in wait_all(deletes) {
        run.success();
    }
    assert_eq!(aws.file().await, serde_json::json!({"environments": []}));
    assert_eq!(
        aws.leftovers("dev-dynamic-", "dev.example.com").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn the_seeds_three_profiles_at_once_fill_one_object() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let world = World::behind_proxy();
    let aws = world.aws().await;
    let runs: Vec<Child> = ["api", "admin", "frontend"]
        .into_iter()
        .map(|p| {
            let image = world.image(p, "v1");
            world.spawn(&["create", "-p", p, "--name", "foo", "--image-uri", &image])
        })
        .collect();
    for run in wait_all(runs) {
        run.success();
    }
    let file = aws.file().await;
    let objects = file["environments"].as_array().unwrap();
    assert_eq!(objects.len(), 1, "{file}");
    for key in ["api_endpoint", "admin_endpoint", "frontend_endpoint"] {
        assert!(objects[0].get(key).is_some(), "{key} lost: {file}");
    }
}

#[tokio::test]
async fn concurrent_creates_of_one_name_make_one_environment() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let world = World::behind_proxy();
    let aws = world.aws().await;
    let image = world.image("api", "v1");
    let runs: Vec<Child> = (0..5)
        .map(|_| {
            world.spawn(&[
                "create",
                "-p",
                "api",
                "--name",
                "foo",
                "--image-uri",
                &image,
            ])
        })
        .collect();
    let runs = wait_all(runs);
    let created = runs
        .iter()
        .filter(|r| r.stderr.contains("will create new service"))
        .count();
    for run in runs {
        run.success();
    }
    assert_eq!(created, 1, "exactly one run creates, the others deploy");
    let services = aws.services("dev-dynamic-api-foo").await;
    assert_eq!(services.len(), 1);
    assert_eq!(aws.target_groups("dev-dynamic-api-foo").await.len(), 1);
    assert_eq!(aws.rules().await.len(), 1);
    assert_eq!(aws.records().await.len(), 1);
    assert_eq!(aws.task_definitions("dev-dynamic-api-foo").await.len(), 5);
    // The environment's item, and its lease, given up by the last run alongside its deploy
    // with what it left: the task definition the service runs, which the next run's reads
    // must show to be trusted.
    let items = aws.state_items("eden").await;
    assert_eq!(items.len(), 2, "{items:?}");
    let lease = items
        .iter()
        .find(|i| i["type"].as_s().unwrap() == "_lease")
        .unwrap();
    assert!(!lease.contains_key("owner"), "{lease:?}");
    let left: serde_json::Value = serde_json::from_str(lease["left"].as_s().unwrap()).unwrap();
    assert_eq!(
        left["service"].as_str(),
        services[0].task_definition(),
        "{left}"
    );
}

/// Starts a create of `foo` whose CreateService takes 1.5 s (AWS takes a moment to make a
/// service), and the run `next` once that call is on its way, alongside the create's release of
/// its lease; waits for both.
fn queued_behind_a_slow_create(world: &World, next: impl FnOnce() -> Child) -> (Run, Run) {
    world
        .proxy()
        .rules(json!({"operation_latency_ms": {"CreateService": 1500}}));
    let first = world.spawn_create("api", "foo", "v1");
    world.proxy().wait_for_call("CreateService");
    let mut runs = wait_all(vec![first, next()]).into_iter();
    (runs.next().unwrap(), runs.next().unwrap())
}

/// A run gives its lease up alongside its last call, and AWS takes a moment to make a service:
/// the next run waits until its reads show the service the previous run said it left, and
/// deploys to it, instead of making a second one (which AWS refuses: moto lets it replace the
/// first).
#[tokio::test]
async fn a_create_queued_behind_another_waits_for_its_service_to_show() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let world = World::behind_proxy();
    let aws = world.aws().await;
    let (first, second) =
        queued_behind_a_slow_create(&world, || world.spawn_create("api", "foo", "v2"));
    let (first, second) = (first.success(), second.success());
    assert!(
        first.stderr.contains("will create new service"),
        "{}",
        first.stderr
    );
    assert!(
        second.stderr.contains("already exists, will deploy"),
        "{}",
        second.stderr
    );
    assert_eq!(world.proxy().calls("CreateService"), 1);
    let services = aws.services("dev-dynamic-api-foo").await;
    assert_eq!(services.len(), 1);
    let running = services[0].task_definition().unwrap_or_default();
    assert!(running.ends_with("dev-dynamic-api-foo:2"), "{running}");
}

/// The same for a delete queued behind a create: it waits for the service the create made, and
/// removes it with the rest.
#[tokio::test]
async fn a_delete_queued_behind_a_create_removes_its_service() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let world = World::behind_proxy();
    let aws = world.aws().await;
    let (create, delete) = queued_behind_a_slow_create(&world, || {
        world.spawn(&["delete", "-p", "api", "--name", "foo"])
    });
    create.success();
    delete.success();
    assert_eq!(
        aws.leftovers("dev-dynamic-", "foo").await,
        Vec::<String>::new()
    );
    assert_eq!(aws.state_items("eden").await.len(), 0);
}

/// A create whose reads saw the environment just before a delete of it ended, and whose lease
/// take came just after: the lease item went with the state item, so the create reads again
/// and makes the environment anew instead of deploying to what is gone.
#[tokio::test]
async fn a_create_racing_the_end_of_a_delete_reads_again_and_makes_the_environment() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.create("api", "foo", "v1");
    // Every lease take answers 2 s late: the delete reads at once and
    // writes from 2 s on; the create starting 1 s later reads before those writes and takes
    // the lease after the delete has ended.
    world
        .proxy()
        .rules(json!({"operation_latency_ms": {"PutItem": 2000}}));
    let delete = world.spawn(&["delete", "-p", "api", "--name", "foo"]);
    std::thread::sleep(std::time::Duration::from_secs(1));
    let create = world.spawn_create("api", "foo", "v2");
    let mut runs = wait_all(vec![delete, create]).into_iter();
    runs.next().unwrap().success();
    let created = runs.next().unwrap().success();
    assert!(
        created.stderr.contains("will create new service"),
        "{}",
        created.stderr
    );
    let services = aws.services("dev-dynamic-api-foo").await;
    assert_eq!(services.len(), 1);
    assert_eq!(aws.target_groups("dev-dynamic-api-foo").await.len(), 1);
    assert_eq!(aws.rules().await.len(), 1);
    assert_eq!(aws.records().await.len(), 1);
    let listed = world.eden(&["ls", "-p", "api"]).success();
    assert!(
        listed.stdout.contains("dev-dynamic-api-foo"),
        "{}",
        listed.stdout
    );
}

/// A lease is taken over only from a run seen to stop renewing it, by this machine's own clock:
/// a run takes a free lease at once, waits while the holder renews it, and takes it over once
/// the renewals stop for the lease's lifetime.
#[tokio::test]
async fn a_lease_is_taken_over_only_once_its_holder_stops_renewing_it() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let world = World::behind_proxy();
    let aws = world.aws().await;
    world.create("api", "foo", "v1");
    let image = world.image("api", "v2");
    let deployed = world
        .eden(&[
            "create",
            "-p",
            "api",
            "--name",
            "foo",
            "--image-uri",
            &image,
        ])
        .success();
    assert!(
        !deployed
            .stderr
            .contains("being changed by another eden run"),
        "{}",
        deployed.stderr
    );

    // A live holder is waited for; once it stops renewing (its last renewal comes 2 s in), the
    // lease is taken over after its lifetime, however far that holder's clock was.
    let held = aws.hold_lease("api/dev-dynamic-api-foo").await;
    let started = std::time::Instant::now();
    let taking = world.spawn(&[
        "create",
        "-p",
        "api",
        "--name",
        "foo",
        "--image-uri",
        &world.image("api", "v1"),
    ]);
    std::thread::sleep(std::time::Duration::from_secs(3));
    drop(held);
    let taken = wait_all(vec![taking]).remove(0).success();
    assert!(
        taken.stderr.contains("being changed by another eden run"),
        "{}",
        taken.stderr
    );
    let lifetime = std::time::Duration::from_secs(eden_core::plan::LEASE_SECONDS);
    assert!(
        started.elapsed() >= lifetime + std::time::Duration::from_secs(2),
        "took it after {:?}: {}",
        started.elapsed(),
        taken.stderr
    );
    let service = &aws.services("dev-dynamic-api-foo").await[0];
    assert!(service.task_definition().unwrap().ends_with(":3"));
}
