//! What CI needs beyond create and delete, against moto: --set-env, --ttl and gc (expired and
//! orphaned environments), status, --wait, and config check --aws.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};
use support::{Moto, Proxy, World};

const API: &str = "dev-dynamic-api-";

fn json(run: &support::Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// The state item of `resource`, as DynamoDB holds it.
async fn state_item(
    aws: &support::Aws,
    resource: &str,
) -> Option<std::collections::HashMap<String, AttributeValue>> {
    aws.state_items("eden")
        .await
        .into_iter()
        .find(|i| i["name"].as_s().unwrap() == resource && i.contains_key("endpoint"))
}

fn number(item: &std::collections::HashMap<String, AttributeValue>, field: &str) -> i64 {
    item[field].as_n().unwrap().parse().unwrap()
}

#[tokio::test]
async fn set_env_changes_only_this_environments_container() {
    let world = World::new();
    let aws = world.aws().await;
    world
        .try_create(
            "api",
            "flags",
            "v1",
            &[
                "--set-env",
                "DATABASE_HOST=db.pr.internal",
                "--set-env",
                "FEATURE_X=on",
            ],
        )
        .success();
    let td = aws.task_definition("dev-dynamic-api-flags").await;
    let api = td
        .container_definitions()
        .iter()
        .find(|c| c.name() == Some("api"))
        .unwrap();
    let env: Vec<(&str, &str)> = api
        .environment()
        .iter()
        .map(|p| (p.name().unwrap(), p.value().unwrap()))
        .collect();
    assert_eq!(
        env,
        [("DATABASE_HOST", "db.pr.internal"), ("FEATURE_X", "on")]
    );
    // The secrets and the other container stay as the reference has them.
    assert_eq!(api.secrets().len(), 1);
    let router = td
        .container_definitions()
        .iter()
        .find(|c| c.name() == Some("log-router"))
        .unwrap();
    assert!(router.environment().is_empty());
    let reference = aws.task_definition("dev01-api").await;
    assert_eq!(
        reference.container_definitions()[0].environment()[0].value(),
        Some("db.dev.internal")
    );

    world
        .try_create("api", "flags", "v1", &["--set-env", "NO_EQUALS"])
        .failure("invalid --set-env \"NO_EQUALS\"");
}

#[tokio::test]
async fn ttl_is_recorded_extended_by_a_deploy_and_swept_by_gc() {
    let world = World::new();
    let aws = world.aws().await;
    let created = world
        .try_create("api", "short", "v1", &["--ttl", "1s", "-o", "json"])
        .success();
    let created = json(&created);
    let item = state_item(&aws, "dev-dynamic-api-short").await.unwrap();
    assert_eq!(number(&item, "ttl_seconds"), 1);
    assert_eq!(
        number(&item, "expires_at"),
        created["expires_at"].as_i64().unwrap()
    );
    let service = &aws.services("dev-dynamic-api-short").await[0];
    let tags = aws
        .ecs
        .list_tags_for_resource()
        .resource_arn(service.service_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert!(tags
        .tags()
        .iter()
        .any(|t| t.key() == Some("eden:expires-at")));

    // A longer-lived one, a deploy that extends it, and one without a TTL stay.
    world
        .try_create("api", "long", "v1", &["--ttl", "1h"])
        .success();
    let first = number(
        &state_item(&aws, "dev-dynamic-api-long").await.unwrap(),
        "expires_at",
    );
    world.create("admin", "forever", "v1");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    world.create("api", "long", "v2");
    let renewed = state_item(&aws, "dev-dynamic-api-long").await.unwrap();
    assert_eq!(number(&renewed, "ttl_seconds"), 3600);
    assert!(
        number(&renewed, "expires_at") >= first + 2,
        "a deploy extends the expiry"
    );

    let ls = world.eden(&["ls", "-p", "api"]).success();
    assert!(ls.stdout.contains("expires: 20"), "{}", ls.stdout);

    let planned = json(&world.eden(&["gc", "--dry-run", "-o", "json"]).success());
    let names: Vec<&str> = planned["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dev-dynamic-api-short"]);
    assert_eq!(aws.services("dev-dynamic-api-short").await.len(), 1);

    let swept = world.eden(&["gc"]).success();
    assert!(
        swept
            .stdout
            .contains("Deleted dev-dynamic-api-short (profile api, expired"),
        "{}",
        swept.stdout
    );
    assert_eq!(
        aws.leftovers("dev-dynamic-api-short", "api-short.").await,
        Vec::<String>::new()
    );
    assert!(state_item(&aws, "dev-dynamic-api-short").await.is_none());
    assert_eq!(aws.services(API).await.len(), 1);
    assert_eq!(aws.services("dev-dynamic-admin-").await.len(), 1);
    assert_eq!(
        world.eden(&["gc"]).success().stdout.trim(),
        "Nothing to collect"
    );

    world
        .try_create("api", "bad", "v1", &["--ttl", "soon"])
        .failure("invalid --ttl \"soon\"");
}

#[tokio::test]
async fn gc_orphans_removes_what_no_state_item_records() {
    let world = World::new();
    let aws = world.aws().await;
    world.create("api", "lost", "v1");
    world.create("api", "kept", "v1");
    // The state item is lost (a crash between steps, a table restored from backup...).
    aws.ddb
        .delete_item()
        .table_name("eden")
        .key("type", AttributeValue::S("api".into()))
        .key("name", AttributeValue::S("dev-dynamic-api-lost".into()))
        .send()
        .await
        .unwrap();
    // Lease items with no environment: given up by runs that failed before they knew of one,
    // in this profile and another, and one held right now by a run that renews it.
    for key in ["api/dev-dynamic-api-ghost", "admin/dev-dynamic-admin-ghost"] {
        aws.put_lease(key, None).await;
    }
    let _busy = aws.hold_lease("api/dev-dynamic-api-busy").await;

    let planned = json(
        &world
            .eden(&["gc", "--orphans", "-p", "api", "--dry-run", "-o", "json"])
            .success(),
    );
    let found = planned["environments"].as_array().unwrap();
    let reasons: Vec<(&str, &str)> = found
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("dev-dynamic-api-lost", "orphan"),
            ("dev-dynamic-api-busy", "lease"),
            ("dev-dynamic-api-ghost", "lease")
        ],
        "{planned}"
    );
    let orphans = &found[..1];
    let found: Vec<&str> = orphans[0]["found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for kind in [
        "service dev-dynamic-api-lost",
        "task definition arn:",
        "target group dev-dynamic-api-lost",
        "listener rule arn:",
        "config key api_endpoint of servicename-dev-lost",
    ] {
        assert!(
            found.iter().any(|a| a.starts_with(kind)),
            "no {kind} in {found:?}"
        );
    }
    // Records carry no tags: without a state item, nothing shows the record is eden's.
    assert!(!found.iter().any(|a| a.starts_with("record")), "{found:?}");
    assert_eq!(aws.services("dev-dynamic-api-lost").await.len(), 1);

    let swept = json(
        &world
            .eden(&["gc", "--orphans", "-p", "api", "-o", "json"])
            .success(),
    );
    // The real run removes exactly what the dry run listed.
    let lost = swept["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "dev-dynamic-api-lost")
        .unwrap();
    let mut removed: Vec<&str> = lost["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let mut listed = found.clone();
    removed.sort();
    listed.sort();
    assert_eq!(removed, listed);
    assert!(
        lost["left"][0]
            .as_str()
            .unwrap()
            .contains("no state item records an environment at this host"),
        "{lost}"
    );
    assert_eq!(
        aws.leftovers("dev-dynamic-api-lost", "api-lost.").await,
        ["record api-lost.dev.example.com A"]
    );
    // Gone is gone: its INACTIVE task definitions, which the tagging API still lists, are no
    // orphan.
    let again = json(
        &world
            .eden(&["gc", "--orphans", "-p", "api", "--dry-run", "-o", "json"])
            .success(),
    );
    assert!(
        !again.to_string().contains("dev-dynamic-api-lost"),
        "{again}"
    );
    assert!(aws
        .task_definitions("dev-dynamic-api-lost")
        .await
        .is_empty());
    assert_eq!(aws.services("dev-dynamic-api-kept").await.len(), 1);
    assert!(state_item(&aws, "dev-dynamic-api-kept").await.is_some());
    let mut leases: Vec<String> = aws
        .state_items("eden")
        .await
        .iter()
        .filter(|i| i["type"] == AttributeValue::S("_lease".into()))
        .map(|i| i["name"].as_s().unwrap().clone())
        .collect();
    leases.sort();
    assert_eq!(
        leases,
        [
            "admin/dev-dynamic-admin-ghost",
            "api/dev-dynamic-api-busy",
            "api/dev-dynamic-api-kept",
        ]
    );
}

#[tokio::test]
async fn status_shows_each_resource_with_its_state() {
    let world = World::new();
    world
        .try_create("api", "shown", "v1", &["--ttl", "3d"])
        .success();
    let status = json(
        &world
            .eden(&["status", "-p", "api", "--name", "shown", "-o", "json"])
            .success(),
    );
    assert_eq!(status["profile"], "api");
    assert_eq!(status["name"], "dev-dynamic-api-shown");
    assert_eq!(status["endpoint"], "api-shown.dev.example.com");
    assert_eq!(status["url"], "https://api-shown.dev.example.com");
    assert_eq!(status["image"], world.image("api", "v1"));
    assert!(status["expires_at"].as_i64().unwrap() > status["last_updated"].as_i64().unwrap());
    assert_eq!(status["service"]["status"], "ACTIVE");
    assert_eq!(status["service"]["desired"], 1);
    assert!(status["service"]["last_deployment"]["task_definition"]
        .as_str()
        .unwrap()
        .ends_with("dev-dynamic-api-shown:1"));
    assert!(status["target_group"]["arn"]
        .as_str()
        .unwrap()
        .contains(":targetgroup/"));
    assert!(status["listener_rule"]["priority"].as_u64().is_some());
    assert_eq!(status["records"], serde_json::json!(["A"]));
    assert_eq!(status["recorded"], true);

    let text = world
        .eden(&["status", "-p", "api", "--name", "shown"])
        .success();
    for line in [
        "url           https://api-shown.dev.example.com",
        "service       arn:aws:ecs:",
        "state item    recorded",
    ] {
        assert!(
            text.stdout.contains(line),
            "no {line:?} in:\n{}",
            text.stdout
        );
    }
    world
        .eden(&["status", "-p", "api", "--name", "never-made"])
        .failure("environment dev-dynamic-api-never-made of profile api not found");
}

#[tokio::test]
async fn wait_returns_once_the_service_runs() {
    // moto reports services as running only when told to.
    let world = World::with_moto(Moto::start_with(&[("MOTO_ECS_SERVICE_RUNNING", "1")]));
    let created = world
        .try_create("api", "ready", "v1", &["--wait", "-o", "json"])
        .success();
    assert_eq!(json(&created)["ready"], true);
    assert!(
        created
            .stderr
            .contains("Environment dev-dynamic-api-ready is ready"),
        "{}",
        created.stderr
    );
}

/// Route 53 answers a lookup of a new name from a name server its change has not reached with
/// "no such name", which resolvers remember: `--wait` returns once the change is in sync. A role
/// from an older `eden iam-policy`, which may not read the change, is told so and not failed.
#[tokio::test]
async fn wait_returns_once_the_records_reach_every_name_server() {
    let mut world = World::with_moto(Moto::start_with(&[("MOTO_ECS_SERVICE_RUNNING", "1")]));
    world.proxy = Some(Proxy::start(&world.moto.endpoint));
    world.proxy().rules(json!({"route53_pending_ms": 4000}));
    let created = world
        .try_create("api", "ready", "v1", &["--wait"])
        .success();
    let pending = "dev-dynamic-api-ready: records reaching Route 53's name servers";
    assert!(created.stderr.contains(pending), "{}", created.stderr);
    assert!(world.proxy().calls("GetChange") >= 2);

    world.proxy().rules(json!({"faults": [
        {"operation": "GetChange", "error": "AccessDenied", "times": 100},
    ]}));
    let older_role = world
        .try_create("api", "ready-too", "v1", &["--wait"])
        .success();
    let told = "route53:GetChange is denied; add it from `eden iam-policy`";
    assert!(older_role.stderr.contains(told), "{}", older_role.stderr);
}

#[tokio::test]
async fn wait_gives_up_after_its_timeout_and_says_where_the_rollout_stood() {
    let world = World::new();
    let started = std::time::Instant::now();
    let run = world
        .try_create("api", "stuck", "v1", &["--wait", "--timeout", "2s"])
        .failure("environment dev-dynamic-api-stuck is not ready: still rollout IN_PROGRESS: 0/1 running");
    assert!(
        run.stderr
            .contains("after 2s; see `eden status -p api --name stuck` for its state"),
        "{}",
        run.stderr
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    // One line per change of state when stderr is not a terminal.
    assert!(
        run.stderr
            .contains("dev-dynamic-api-stuck: rollout IN_PROGRESS: 0/1 running"),
        "{}",
        run.stderr
    );
    // The environment stays: it exists, it is just not ready.
    assert_eq!(
        world
            .aws()
            .await
            .services("dev-dynamic-api-stuck")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn config_check_aws_names_each_missing_prerequisite() {
    let world = World::new();
    let ok = world.eden(&["config", "check", "--aws", "-p", "api"]);
    // The state table is made by the first push or create. The file itself is fine.
    let ok = ok.failure("found 1 error(s) in AWS");
    assert!(!ok.stderr.contains("config file"), "{}", ok.stderr);
    assert!(
        ok.stdout
            .contains("Profile api: FAIL state table: eden not found"),
        "{}",
        ok.stdout
    );
    for line in [
        "Profile api: ok   reference service: arn:aws:ecs:",
        "Profile api: ok   shared ALB is separate",
        "Profile api: ok   certificate: arn:aws:acm:",
        "covers *.dev.example.com",
        "Profile api: ok   hosted zone:",
        "Profile api: ok   target cluster: dev ACTIVE",
    ] {
        assert!(ok.stdout.contains(line), "no {line:?} in:\n{}", ok.stdout);
    }
    world.eden(&["config", "push", "-p", "api"]).success();
    let all = world
        .eden(&["config", "check", "--aws", "-p", "api", "-o", "json"])
        .success();
    assert_eq!(json(&all)["ok"], true);

    world
        .eden(&[
            "config",
            "setup",
            "-p",
            "api",
            "--target-cluster",
            "nope",
            "--dynamic-zone-name",
            "other.example.com.",
        ])
        .success();
    let broken = world
        .eden(&["config", "check", "--aws", "-p", "api"])
        .failure("found 2 error(s)");
    for line in [
        "Profile api: FAIL target cluster: nope not found; create it or fix target_cluster",
        "but dynamic_zone_name says other.example.com.; fix it (`eden config check --aws --fix` does)",
    ] {
        assert!(
            broken.stdout.contains(line),
            "no {line:?} in:\n{}",
            broken.stdout
        );
    }
    world
        .eden(&[
            "config",
            "setup",
            "-p",
            "api",
            "--dynamic-zone-name",
            "Dev.Example.com.",
        ])
        .success();
    world
        .eden(&["config", "check", "--aws", "-p", "api"])
        .failure("found 1 error(s)");

    // The reference service's own ALB cannot be the shared one.
    let reference_alb = world
        .aws()
        .await
        .elb
        .describe_load_balancers()
        .names("dev01-api")
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    world
        .eden(&[
            "config",
            "setup",
            "-p",
            "api",
            "--target-cluster",
            "dev",
            "--master-alb-arn",
            &reference_alb,
        ])
        .success();
    let shared = world
        .eden(&["config", "check", "--aws", "-p", "api"])
        .failure("found 3 error(s)");
    for line in [
        "FAIL shared ALB is separate: the shared ALB serves the reference service's target group",
        "FAIL HTTPS:443 listener: none; add an HTTPS listener on port 443",
        "FAIL certificate: no HTTPS:443 listener to hold one",
    ] {
        assert!(
            shared.stdout.contains(line),
            "no {line:?} in:\n{}",
            shared.stdout
        );
    }
}
