//! create, deploy and delete against the in-memory cloud: what they leave, what a failed write
//! undoes, what they refuse, and how many rounds of calls deep each is (its virtual time on
//! tokio's paused clock, at one second a call).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{
    create, delete, preview_create, preview_delete, CreateRequest, DeleteRequest, Stop,
    DEFAULT_WAIT,
};
use crate::cloud::Cloud;
use crate::error::Error;
use crate::fake::FakeCloud;
use crate::image::ImageUri;
use crate::names::EnvName;
use crate::profile::tests::seed_profile;
use crate::profile::Settings;

const TABLE: &str = "eden";
const LATENCY: Duration = Duration::from_secs(1);

/// Every call that changes a resource of the environment (not the lease's own writes).
const WRITES: [&str; 8] = [
    "CreateTargetGroup",
    "RegisterTaskDefinition",
    "put_environment",
    "PutObject",
    "ChangeResourceRecordSets",
    "CreateRule",
    "ModifyTargetGroupAttributes",
    "CreateService",
];

/// The seed's api profile as the original's file has it: no listener, reference target group
/// or zone name.
pub(super) fn bare() -> Settings {
    seed_profile().settings("api").expect("the seed's profile")
}

/// The profile as `eden config check --aws --fix` fills it in for the fake's world.
fn filled(cloud: &FakeCloud) -> Settings {
    let mut s = bare();
    let world = cloud.world();
    s.zone_name = Some(world.zone.1.clone());
    s.listener_arn = world.listener.as_ref().map(|l| l.arn.clone());
    s.reference_target_group = world.services[0].1.load_balancers[0]
        .target_group_arn
        .clone();
    s
}

pub(super) fn create_request(image: &str) -> CreateRequest {
    CreateRequest {
        name: EnvName::parse("foo").expect("a valid name"),
        image: ImageUri::parse(image).expect("a valid image"),
        table: TABLE.into(),
        wait: DEFAULT_WAIT,
        environment: Vec::new(),
        ttl: None,
    }
}

fn delete_request() -> DeleteRequest {
    DeleteRequest {
        name: EnvName::parse("foo").expect("a valid name"),
        table: TABLE.into(),
        wait: DEFAULT_WAIT,
    }
}

/// A new environment's plan, as `action resource`: every resource made.
pub(super) const NEW_ENVIRONMENT: [&str; 8] = [
    "create task definition",
    "create target group",
    "update target group",
    "create listener rule",
    "update config key",
    "create state item",
    "create record",
    "create service",
];

/// A plan's changes as `action resource`.
pub(super) fn kinds(changes: &[super::PlannedChange]) -> Vec<String> {
    let kinds = changes
        .iter()
        .map(|c| format!("{} {}", c.action, c.resource));
    kinds.collect()
}

/// What the world holds, but an environments file that lists no environment: a run that made
/// the file and undid its entry leaves the file, empty, for the clients that read it.
fn settled(fake: &FakeCloud) -> Vec<String> {
    let mut summary = fake.world().summary();
    summary.retain(|line| !line.starts_with("object ") || line.contains("\"name\""));
    summary
}

/// Runs a plan and returns its result and how many rounds of calls it took.
async fn timed<T>(run: impl std::future::Future<Output = T>) -> (T, u64) {
    let started = Instant::now();
    let result = run.await;
    let rounds = started.elapsed().as_millis() / LATENCY.as_millis();
    (result, rounds as u64)
}

#[tokio::test(start_paused = true)]
async fn create_deploy_and_delete_are_as_deep_as_documented() {
    let fake = FakeCloud::seeded(&bare());
    let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
    fake.calls.set_latency(LATENCY);

    let (made, rounds) = timed(create(&cloud, &s, &create_request("api:v1"), &stop)).await;
    let made = made.expect("created");
    assert!(!made.deployed);
    assert_eq!(rounds, 4, "create: {:?}", fake.calls.names());
    // `--wait` waits for the change that made the records; a deploy makes none.
    assert!(made.records_change.is_some());

    fake.calls.clear();
    let (deployed, rounds) = timed(create(&cloud, &s, &create_request("api:v2"), &stop)).await;
    let deployed = deployed.expect("deployed");
    assert!(deployed.deployed);
    assert_eq!(deployed.records_change, None);
    // The target group and host rule are the ones the lease item says the create left: no
    // tag read.
    assert_eq!(rounds, 3, "deploy: {:?}", fake.calls.names());

    fake.calls.clear();
    let (deleted, rounds) = timed(delete(&cloud, &s, &delete_request(), &stop)).await;
    deleted.expect("deleted");
    assert_eq!(rounds, 3, "delete: {:?}", fake.calls.names());

    // The profile as the original's file has it: the listener's rules, the host's records and
    // the reference's target group wait for the read that names them.
    fake.calls.clear();
    let (made, rounds) = timed(create(&cloud, &bare(), &create_request("api:v1"), &stop)).await;
    made.expect("created");
    assert_eq!(rounds, 5, "bare create: {:?}", fake.calls.names());
}

#[tokio::test(start_paused = true)]
async fn a_create_and_its_delete_leave_the_world_as_it_was() {
    let fake = FakeCloud::seeded(&bare());
    let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
    let before = fake.world().summary();

    let made = create(&cloud, &s, &create_request("api:v1"), &stop)
        .await
        .expect("created");
    let after = fake.world().summary();
    for expected in [
        "service dev-dynamic-foo ".to_string(),
        format!("task definition {}", made.task_definition),
        "target group dev-dynamic-foo".into(),
        "rule [\"api-foo.dev.example.com\"]".into(),
        "record api-foo.dev.example.com A".into(),
        "object endpoints.json".into(),
    ] {
        assert!(
            after.iter().any(|line| line.starts_with(&expected)),
            "no {expected} in {after:#?}"
        );
    }
    assert!(fake.table.item("api", "dev-dynamic-foo").is_some());

    delete(&cloud, &s, &delete_request(), &stop)
        .await
        .expect("deleted");
    // The environments file stays, without this environment.
    assert_eq!(settled(&fake), before);
    assert_eq!(fake.table.item("api", "dev-dynamic-foo"), None);
    assert_eq!(fake.table.lease_keys(), Vec::<String>::new());
}

#[tokio::test(start_paused = true)]
async fn a_create_whose_write_fails_undoes_everything_it_made() {
    for write in WRITES {
        let fake = FakeCloud::seeded(&bare());
        let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
        let before = fake.world().summary();
        fake.calls.fail(write);
        let failed = create(&cloud, &s, &create_request("api:v1"), &stop).await;
        assert!(
            matches!(failed, Err(Error::RolledBack { .. } | Error::Aws { .. })),
            "{write}: {failed:?}"
        );
        assert!(
            fake.calls.names().contains(&write),
            "{write} was never called"
        );
        assert_eq!(settled(&fake), before, "{write} failed and this stayed");
        assert_eq!(fake.table.item("api", "dev-dynamic-foo"), None, "{write}");
        assert_eq!(fake.table.lease_keys(), Vec::<String>::new(), "{write}");
    }
}

/// The lease vouches only for what the last eden run left: a host rule replaced since (here by
/// another profile's, as an untagged one of a recorded environment would be adopted) is read
/// for its tags, found not this environment's, and left as it is.
#[tokio::test(start_paused = true)]
async fn a_rule_replaced_by_hand_is_not_vouched_for_by_the_lease() {
    let fake = FakeCloud::seeded(&bare());
    let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
    create(&cloud, &s, &create_request("api:v1"), &stop)
        .await
        .expect("created");
    let by_hand = {
        let mut world = fake.world();
        let rule = world.rules.iter_mut().find(|(r, _)| r.priority.is_some());
        let (rule, tags) = rule.expect("the environment's rule");
        rule.arn.push_str("-by-hand");
        *tags = crate::ownership::tags("admin", "foo");
        rule.clone()
    };
    fake.calls.clear();
    let refused = create(&cloud, &s, &create_request("api:v2"), &stop).await;
    assert!(matches!(refused, Err(Error::NotOurs { .. })), "{refused:?}");
    // Delete removes the rest, and keeps the target group the other profile's rule uses.
    let kept = delete(&cloud, &s, &delete_request(), &stop).await;
    assert!(
        matches!(&kept, Err(Error::InUse { by, .. }) if by.contains(&by_hand.arn)),
        "{kept:?}"
    );
    let calls = fake.calls.names();
    assert!(calls.contains(&"DescribeTags"), "{calls:?}");
    assert!(!calls.contains(&"DeleteRule"), "{calls:?}");
    let world = fake.world();
    assert!(world.rules.iter().any(|(r, _)| *r == by_hand));
}

#[tokio::test(start_paused = true)]
async fn a_look_alike_service_is_refused_before_any_write() {
    let fake = FakeCloud::seeded(&bare());
    let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
    {
        let mut world = fake.world();
        let mut look_alike = world.services[0].clone();
        look_alike.1.name = "dev-dynamic-foo".into();
        look_alike.1.arn = format!("{}-foo", look_alike.1.arn);
        world.services.push(look_alike);
    }
    let before = fake.world().summary();
    let refused = create(&cloud, &s, &create_request("api:v1"), &stop).await;
    assert!(matches!(refused, Err(Error::NotOurs { .. })), "{refused:?}");
    let calls = fake.calls.names();
    assert!(
        !calls.iter().any(|call| WRITES.contains(call)),
        "wrote: {calls:?}"
    );
    assert_eq!(fake.world().summary(), before);
}

/// A profile whose resources are in another region than the calls go to is refused before
/// any call, by every command, rather than read as "not found" (an empty table, a missing ALB).
#[tokio::test(start_paused = true)]
async fn a_profile_of_another_region_is_refused_before_any_call() {
    let fake = FakeCloud::seeded(&bare());
    let (s, stop) = (filled(&fake), Stop::default());
    let cloud = Cloud {
        region: "us-east-1".into(),
        ..fake.cloud()
    };
    let request = create_request("api:v1");
    let refusals = [
        create(&cloud, &s, &request, &stop).await.err(),
        preview_create(&cloud, &s, &request).await.err(),
        delete(&cloud, &s, &delete_request(), &stop).await.err(),
        preview_delete(&cloud, &s, &delete_request()).await.err(),
    ];
    for refused in refusals {
        assert!(
            matches!(refused, Some(Error::OtherRegion { .. })),
            "{refused:?}"
        );
    }
    assert_eq!(fake.calls.names(), Vec::<&str>::new());
}

/// What a delete's dry run prints is what the delete then removes, and it changes nothing.
#[tokio::test(start_paused = true)]
async fn a_deletes_dry_run_lists_what_the_delete_removes() {
    let fake = FakeCloud::seeded(&bare());
    let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
    create(&cloud, &s, &create_request("api:v1"), &stop)
        .await
        .expect("created");
    let before = fake.world().summary();
    let planned = preview_delete(&cloud, &s, &delete_request())
        .await
        .expect("planned");
    assert_eq!(fake.world().summary(), before);
    let deleted = delete(&cloud, &s, &delete_request(), &stop)
        .await
        .expect("deleted");
    let removals: Vec<String> = planned
        .iter()
        .filter(|change| change.action == "delete" && change.resource != "state item")
        .map(|change| format!("{} {}", change.resource, change.name))
        .collect();
    assert_eq!(removals, deleted.removed);
    for resource in [
        "config key",
        "record",
        "listener rule",
        "service",
        "target group",
    ] {
        assert!(
            planned.iter().any(|change| change.resource == resource),
            "no {resource} in {planned:?}"
        );
    }
}

/// A delete's writes are 2 rounds deep: everything at once, then the target group with the
/// lease and the state item.
#[tokio::test(start_paused = true)]
async fn a_deletes_plan_is_two_rounds_of_writes() {
    let fake = FakeCloud::seeded(&bare());
    let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
    create(&cloud, &s, &create_request("api:v1"), &stop)
        .await
        .expect("created");
    let name = delete_request().name;
    let (mut found, revisions) = super::delete::look(&cloud, &s, s.names(&name), TABLE)
        .await
        .expect("read");
    found.claim_tags(&cloud, &s, None).await.expect("tags");
    let plan = super::delete::decide(&s, &name, found, revisions)
        .expect("decided")
        .plan(&s, Some(TABLE), None);
    plan.assert_consistent();
    assert_eq!(plan.depth(), 2, "{plan:#?}");
}

/// What a create's dry run prints is what the create then makes: a new environment's every
/// resource, a deploy's task definition and service only; a host whose rule sends it elsewhere
/// is refused by both, before any write.
#[tokio::test(start_paused = true)]
async fn a_creates_dry_run_is_what_the_create_does() {
    let fake = FakeCloud::seeded(&bare());
    let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
    let before = fake.world().summary();
    let planned = preview_create(&cloud, &s, &create_request("api:v1"))
        .await
        .expect("planned");
    assert_eq!(fake.world().summary(), before);
    assert_eq!(kinds(&planned), NEW_ENVIRONMENT);
    // Each change says what it waits for: the rule the target group, the service all else.
    let at = |kind: &str| kinds(&planned).iter().position(|k| k == kind).expect(kind);
    let after = |kind: &str| planned[at(kind)].after.clone();
    assert_eq!(after("create listener rule"), [at("create target group")]);
    assert_eq!(after("create record"), [at("create state item")]);
    assert_eq!(after("create service").len(), planned.len() - 1);
    create(&cloud, &s, &create_request("api:v1"), &stop)
        .await
        .expect("created");
    let made = fake.world().summary();
    for kind in [
        "service ",
        "task definition ",
        "rule ",
        "record ",
        "object ",
    ] {
        let count = |summary: &[String]| summary.iter().filter(|l| l.starts_with(kind)).count();
        assert_eq!(count(&made), count(&before) + 1, "{kind}: {made:#?}");
    }

    let planned = preview_create(&cloud, &s, &create_request("api:v2"))
        .await
        .expect("planned");
    assert_eq!(
        kinds(&planned),
        [
            "create task definition",
            "update state item",
            "update service"
        ]
    );

    {
        let mut world = fake.world();
        let reference_tg = world.target_groups[0].0.arn.clone();
        let (rule, _) = world
            .rules
            .iter_mut()
            .find(|(r, _)| r.priority.is_some())
            .expect("the environment's rule");
        rule.target_groups = vec![reference_tg];
    }
    fake.calls.clear();
    let refused = preview_create(&cloud, &s, &create_request("api:v2")).await;
    assert!(matches!(refused, Err(Error::Busy { .. })), "{refused:?}");
    let refused = create(&cloud, &s, &create_request("api:v2"), &stop).await;
    assert!(matches!(refused, Err(Error::Busy { .. })), "{refused:?}");
    let calls = fake.calls.names();
    assert!(
        !calls.iter().any(|c| WRITES.contains(c)),
        "wrote: {calls:?}"
    );
}

/// A stop (a signal) while steps are in flight: they finish, no other starts, and what the run
/// made is undone.
#[tokio::test(start_paused = true)]
async fn a_stop_during_a_create_undoes_what_it_made() {
    let fake = FakeCloud::seeded(&bare());
    let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
    fake.calls.set_latency(LATENCY);
    let before = settled(&fake);
    let stopper = async {
        // In the third round: the rule and the records are in flight.
        tokio::time::sleep(LATENCY * 5 / 2).await;
        stop.request();
    };
    let req = create_request("api:v1");
    let (stopped, ()) = tokio::join!(create(&cloud, &s, &req, &stop), stopper);
    assert!(
        matches!(&stopped, Err(Error::RolledBack { cause, .. }) if matches!(**cause, Error::Interrupted)),
        "{stopped:?}"
    );
    let calls = fake.calls.names();
    assert!(calls.contains(&"CreateRule"), "{calls:?}");
    assert!(!calls.contains(&"CreateService"), "{calls:?}");
    assert_eq!(settled(&fake), before);
    assert_eq!(fake.table.item("api", "dev-dynamic-foo"), None);
    assert_eq!(fake.table.lease_keys(), Vec::<String>::new());
}

/// A run dropped halfway (its caller went away, as an HTTP client that hangs up) stops renewing
/// its lease: the next run takes it over once it has stood still for a lease's time, and makes
/// the environment whole.
#[tokio::test(start_paused = true)]
async fn a_run_dropped_halfway_stops_renewing_its_lease() {
    let fake = FakeCloud::seeded(&bare());
    let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
    fake.calls.set_latency(LATENCY);
    let first = create_request("api:v1");
    // In the third round, as in the stop above.
    let dropped = tokio::time::timeout(LATENCY * 5 / 2, create(&cloud, &s, &first, &stop)).await;
    assert!(dropped.is_err(), "the create ended before it was dropped");
    let next = CreateRequest {
        wait: Duration::from_secs(60),
        ..create_request("api:v2")
    };
    let (made, rounds) = timed(create(&cloud, &s, &next, &stop)).await;
    made.expect("the next run takes the lease over");
    assert!(rounds >= super::LEASE_SECONDS, "taken after {rounds} s");
    let calls = fake.calls.names();
    assert!(calls.contains(&"CreateService"), "{calls:?}");
}

/// A run whose lease another run took meanwhile (it stood still too long, say) writes no state
/// item and undoes nothing: the state item's writes are fenced by the lease, and the environment
/// is the other run's now.
#[tokio::test(start_paused = true)]
async fn a_run_whose_lease_was_taken_writes_no_state_item_and_undoes_nothing() {
    let fake = FakeCloud::seeded(&bare());
    fake.calls.set_latency(LATENCY);
    // While the second round's writes, the state item among them, are on their way.
    let calls = create_taken_over_after(&fake, LATENCY * 3 / 2).await;
    assert_eq!(fake.table.item("api", "dev-dynamic-foo"), None);
    assert!(calls.contains(&"put_environment"), "{calls:?}");
    assert!(!calls.contains(&"DeleteTargetGroup"), "undone: {calls:?}");
}

/// Creates `foo` while another run takes its lease over after `after`: the create reports the
/// lost lease. Returns the calls made.
async fn create_taken_over_after(fake: &Arc<FakeCloud>, after: Duration) -> Vec<&'static str> {
    let (cloud, s, stop) = (fake.cloud(), filled(fake), Stop::default());
    let req = create_request("api:v1");
    let resource = s.names(&req.name).resource;
    let takeover = take_over(fake, &s, &resource, after);
    let (created, ()) = tokio::join!(create(&cloud, &s, &req, &stop), takeover);
    let e = created.expect_err("a create that lost its lease is not reported as done");
    assert!(matches!(e, Error::LeaseLost { .. }), "{e}");
    fake.calls.names()
}

/// Another run takes the environment's lease over after `after`, as one does from a run that
/// stood still for a lease's time.
async fn take_over(fake: &FakeCloud, s: &Settings, resource: &str, after: Duration) {
    tokio::time::sleep(after).await;
    let row = crate::fake::LeaseRow {
        owner: Some("another run".into()),
        version: "v".into(),
        left: None,
    };
    fake.table
        .put_lease(&format!("{}/{resource}", s.profile), row);
}

/// A run whose lease is taken over while its last call is on its way (a laptop that slept, a
/// stopped process: its own clock saw no time pass) does not report success: the other run's
/// reads may predate that call. A create's service is there for the other run to finish; a
/// delete's state item stays, so that the environment is still listed for the next delete.
#[tokio::test(start_paused = true)]
async fn a_run_whose_lease_is_taken_over_during_its_last_call_reports_it() {
    let fake = FakeCloud::seeded(&bare());
    fake.calls.set_latency(LATENCY);
    // In the fourth round: the service and the lease's release are on their way.
    let calls = create_taken_over_after(&fake, LATENCY * 7 / 2).await;
    assert!(calls.contains(&"CreateService"), "{calls:?}");
    assert!(!calls.contains(&"DeleteService"), "undone: {calls:?}");

    let fake = FakeCloud::seeded(&bare());
    let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
    let req = create_request("api:v1");
    let resource = s.names(&req.name).resource;
    create(&cloud, &s, &req, &stop).await.expect("created");
    fake.calls.set_latency(LATENCY);
    // In the third round: the target group and the release with the state item.
    let takeover = take_over(&fake, &s, &resource, LATENCY * 5 / 2);
    let req = delete_request();
    let (deleted, ()) = tokio::join!(delete(&cloud, &s, &req, &stop), takeover);
    let e = deleted.expect_err("a delete that lost its lease is not reported as done");
    assert!(matches!(e, Error::LeaseLost { .. }), "{e}");
    assert!(fake.table.item(&s.profile, &resource).is_some());
    let calls = fake.calls.names();
    assert!(calls.contains(&"DeleteTargetGroup"), "{calls:?}");
}

/// A run whose lease was taken over unawares (it stood still, and its heartbeat had not yet
/// found out) undoes nothing when a later step fails: it makes sure it still holds the lease
/// first. The target group it made may be the other run's now (CreateTargetGroup answers a
/// second creator with the same one).
#[tokio::test(start_paused = true)]
async fn a_run_undoes_only_while_it_still_holds_its_lease() {
    let fake = FakeCloud::seeded(&bare());
    // Short calls: the create is over before its first heartbeat.
    let latency = LATENCY / 10;
    fake.calls.set_latency(latency);
    fake.calls.fail("CreateRule");
    // After the state item's write, while the rule is on its way.
    let calls = create_taken_over_after(&fake, latency * 5 / 2).await;
    assert!(calls.contains(&"put_environment"), "{calls:?}");
    assert!(!calls.contains(&"DeleteTargetGroup"), "undone: {calls:?}");
}

/// The next run waits for the service the last run said it left (its call goes with the lease,
/// and may still be on its way), but only for a while: a service deleted by hand since is made
/// again once the wait is over.
#[tokio::test(start_paused = true)]
async fn a_service_deleted_by_hand_is_waited_for_a_while_then_made_again() {
    let fake = FakeCloud::seeded(&bare());
    let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
    create(&cloud, &s, &create_request("api:v1"), &stop)
        .await
        .expect("created");
    let resource = s.names(&create_request("api:v1").name).resource;
    fake.world()
        .services
        .retain(|(_, svc)| svc.name != resource);
    fake.calls.set_latency(LATENCY);
    fake.calls.clear();
    let (made, rounds) = timed(create(&cloud, &s, &create_request("api:v2"), &stop)).await;
    assert!(!made.expect("made again").deployed);
    assert!((10..20).contains(&rounds), "{rounds} s");
    let calls = fake.calls.names();
    assert!(calls.contains(&"CreateService"));
    // Read again after 0.5, 1.5, 3.5, 7.5 and 10 s, not every 0.5 s.
    let lookups = calls.iter().filter(|c| **c == "ListResourceRecordSets");
    assert_eq!(lookups.count(), 6);
}

/// A service pointed at another task definition by hand (a rollback from the console) shows
/// neither what the last run left nor what its last call replaced: nothing to wait for. (A
/// rollback to exactly the one replaced looks like that call still landing: waited for.)
#[tokio::test(start_paused = true)]
async fn a_service_rolled_back_by_hand_is_not_waited_for() {
    let fake = FakeCloud::seeded(&bare());
    let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
    for image in ["api:v1", "api:v2", "api:v3"] {
        create(&cloud, &s, &create_request(image), &stop)
            .await
            .expect("made");
    }
    let resource = s.names(&create_request("api:v1").name).resource;
    let first = format!("{resource}:1");
    for (_, svc) in fake.world().services.iter_mut() {
        if svc.name == resource {
            svc.task_definition = svc
                .task_definition
                .replace(&format!("{resource}:2"), &first);
        }
    }
    fake.calls.set_latency(LATENCY);
    let (deployed, rounds) = timed(create(&cloud, &s, &create_request("api:v4"), &stop)).await;
    assert!(deployed.expect("deployed").deployed);
    assert!(rounds < 10, "waited {rounds} s");
}

/// ECS keeps a deleted service DRAINING while it stops its tasks, and refuses a new service of
/// its name until then: a create right after a delete waits for it (up to its wait), then makes
/// the environment anew; a run that may not wait (the API's) is told the service is busy.
#[tokio::test(start_paused = true)]
async fn a_create_right_after_a_delete_waits_for_the_old_service_to_drain() {
    let fake = FakeCloud::seeded(&bare());
    let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
    create(&cloud, &s, &create_request("api:v1"), &stop)
        .await
        .expect("created");
    fake.world().drain = Duration::from_secs(30);
    delete(&cloud, &s, &delete_request(), &stop)
        .await
        .expect("deleted");
    let at_once = CreateRequest {
        wait: Duration::ZERO,
        ..create_request("api:v2")
    };
    let busy = create(&cloud, &s, &at_once, &stop).await;
    let is_draining = |e: Option<&Error>| matches!(e, Some(Error::Busy { why, .. }) if why.contains("still being deleted"));
    assert!(is_draining(busy.as_ref().err()), "{busy:?}");
    // The dry run says what the run does: refuses at once, or waits first and then makes it.
    let refused = preview_create(&cloud, &s, &at_once).await;
    assert!(is_draining(refused.as_ref().err()), "{refused:?}");
    let planned = preview_create(&cloud, &s, &create_request("api:v2"))
        .await
        .expect("planned");
    let resource = s.names(&create_request("api:v2").name).resource;
    assert_eq!(
        planned[0].to_string(),
        format!("would wait for service {resource} (it is being deleted)")
    );
    let made_service = planned
        .iter()
        .find(|c| (c.action, c.resource) == ("create", "service"))
        .expect("a new service");
    assert!(made_service.after.contains(&0), "{planned:?}");
    let started = Instant::now();
    let made = create(&cloud, &s, &create_request("api:v2"), &stop).await;
    assert!(!made.expect("made anew").deployed);
    let waited = started.elapsed().as_secs();
    assert!((30..40).contains(&waited), "waited {waited} s");
    let statuses: Vec<String> = fake
        .world()
        .services
        .iter()
        .filter(|(_, svc)| svc.name == resource)
        .map(|(_, svc)| svc.status.clone())
        .collect();
    assert_eq!(statuses, ["INACTIVE", "ACTIVE"]);
}

/// A create right behind a delete of an environment whose service was gone already (deleted by
/// hand): the create takes the lease only once the delete's target group is gone, and makes
/// its own; it used to take it while the deletion was in flight, reuse the target group, and
/// make one of the two runs fail.
#[tokio::test(start_paused = true)]
async fn a_create_right_behind_a_delete_without_a_service_makes_its_own_target_group() {
    let fake = FakeCloud::seeded(&bare());
    let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
    create(&cloud, &s, &create_request("api:v1"), &stop)
        .await
        .expect("created");
    let resource = s.names(&create_request("api:v1").name).resource;
    for (_, svc) in fake.world().services.iter_mut() {
        if svc.name == resource {
            svc.status = "INACTIVE".into();
        }
    }
    fake.calls.set_latency(LATENCY / 10);
    fake.calls.set_latency_of("DeleteTargetGroup", LATENCY * 3);
    let behind = async {
        // Once the delete holds the lease: the create waits for it.
        tokio::time::sleep(LATENCY / 20).await;
        create(&cloud, &s, &create_request("api:v2"), &stop).await
    };
    let req = delete_request();
    let (deleted, created) = tokio::join!(delete(&cloud, &s, &req, &stop), behind);
    deleted.expect("deleted");
    assert!(!created.expect("created anew").deployed);
    let world = fake.world();
    let target_groups: Vec<&String> = world
        .target_groups
        .iter()
        .filter(|(tg, _)| tg.name == s.names(&delete_request().name).target_group)
        .map(|(tg, _)| &tg.arn)
        .collect();
    assert_eq!(target_groups.len(), 1, "{target_groups:?}");
    let host_rules = world.rules.iter().filter(|(r, _)| !r.hosts.is_empty());
    let forwards: Vec<&[String]> = host_rules.map(|(r, _)| &r.target_groups[..]).collect();
    assert_eq!(forwards, [std::slice::from_ref(target_groups[0])]);
}

/// A dry run takes no lease: when another run holds the environment's, it says that the run
/// would wait for it first (and then read again), for a create and a delete alike.
#[tokio::test(start_paused = true)]
async fn a_dry_run_says_when_another_run_holds_the_environment() {
    let fake = FakeCloud::seeded(&bare());
    let (cloud, s, stop) = (fake.cloud(), filled(&fake), Stop::default());
    create(&cloud, &s, &create_request("api:v1"), &stop)
        .await
        .expect("created");
    let resource = s.names(&create_request("api:v1").name).resource;
    let first_lines = |planned: &[super::PlannedChange]| planned[0].to_string();
    let free = preview_create(&cloud, &s, &create_request("api:v2")).await;
    assert!(!first_lines(&free.expect("planned")).contains("another eden run"));

    take_over(&fake, &s, &resource, Duration::ZERO).await;
    let wait = format!(
        "would wait for environment {resource} (another eden run is changing it; the plan is as things stand now)"
    );
    let deploy = preview_create(&cloud, &s, &create_request("api:v2"))
        .await
        .expect("planned");
    assert_eq!(first_lines(&deploy), wait);
    assert!(deploy[1..]
        .iter()
        .all(|c| c.action == "keep" || c.after.contains(&0)));
    let removal = preview_delete(&cloud, &s, &delete_request())
        .await
        .expect("planned");
    assert_eq!(first_lines(&removal), wait);
}
