//! `eden iam-policy` against moto's IAM enforcement: create and delete work under the printed
//! policy, and fail without one of its actions.
//!
//! moto checks the actions of every service, but resources only for S3 (it matches every other
//! call against `*`), so all but the S3 statement are widened to `*` here; and Route 53 calls
//! fail under its enforcement, so the zone lives in a second moto without it. AWS checks each
//! write and check of a DynamoDB transaction as its own action (DeleteItem, PutItem and
//! ConditionCheckItem, in the policy); moto checks the call, `dynamodb:TransactWriteItems`,
//! which is added here for it.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;

use serde_json::Value;
use support::{Moto, Run, World};

/// A Route 53 zone for the environment hostnames in a moto that does not enforce IAM.
async fn zone_in(moto: &Moto) -> String {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto.endpoint)
        .region(aws_config::Region::new(support::REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let zone = aws_sdk_route53::Client::new(&sdk)
        .create_hosted_zone()
        .name("dev.example.com")
        .caller_reference("least-privilege")
        .send()
        .await
        .unwrap();
    zone.hosted_zone()
        .unwrap()
        .id()
        .trim_start_matches("/hostedzone/")
        .to_string()
}

/// The printed policy, its non-S3 resources widened to what moto can match.
fn policy_for_moto(world: &World, zone_id: &str, without: Option<&str>) -> String {
    let printed = world
        .eden(&["iam-policy", "-p", "api", "--dynamic-zone-id", zone_id])
        .success();
    let mut policy: Value = serde_json::from_str(&printed.stdout).unwrap();
    for statement in policy["Statement"].as_array_mut().unwrap() {
        let actions = statement["Action"].as_array_mut().unwrap();
        actions.retain(|a| Some(a.as_str().unwrap()) != without);
        if actions.iter().any(|a| a == "dynamodb:DeleteItem") {
            actions.push("dynamodb:TransactWriteItems".into());
        }
        if !actions
            .iter()
            .any(|a| a.as_str().unwrap().starts_with("s3:"))
        {
            statement["Resource"] = "*".into();
            statement.as_object_mut().unwrap().remove("Condition");
        }
    }
    policy.to_string()
}

/// Runs eden as a user with only `policy`, then turns moto's enforcement off again.
fn as_user_with(world: &World, dns: &Moto, policy: &str, runs: &[Vec<&str>]) -> Vec<Run> {
    let path = world.home.path().join("policy.json");
    std::fs::write(&path, policy).unwrap();
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/iam_user.py");
    let out = Command::new(python)
        .arg(script)
        .args(["--endpoint", &world.moto.endpoint, "--policy"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = runs
        .iter()
        .map(|args| {
            let mut command = world.command(args);
            command
                .env("AWS_ACCESS_KEY_ID", key["AccessKeyId"].as_str().unwrap())
                .env(
                    "AWS_SECRET_ACCESS_KEY",
                    key["SecretAccessKey"].as_str().unwrap(),
                )
                .env("AWS_ENDPOINT_URL_ROUTE_53", &dns.endpoint);
            Run::from(command.output().unwrap())
        })
        .collect();
    support::http(&world.moto.endpoint, "POST", "/moto-api/reset-auth", "inf");
    results
}

/// The seeded world, and a zone for its hostnames in a moto without IAM enforcement.
struct Setup {
    world: World,
    dns: Moto,
    zone_id: String,
    image: String,
}

impl Setup {
    async fn new() -> Self {
        let world = World::new();
        let dns = Moto::start();
        let zone_id = zone_in(&dns).await;
        let image = world.image("api", "v1");
        Self {
            world,
            dns,
            zone_id,
            image,
        }
    }

    fn create(&self) -> Vec<&str> {
        let mut args = vec![
            "create",
            "-p",
            "api",
            "--name",
            "foo",
            "--image-uri",
            &self.image,
        ];
        args.extend(["--dynamic-zone-id", &self.zone_id]);
        args
    }

    fn delete(&self) -> Vec<&str> {
        vec![
            "delete",
            "-p",
            "api",
            "--name",
            "foo",
            "--dynamic-zone-id",
            &self.zone_id,
        ]
    }

    /// Runs eden under the printed policy, less `without`.
    fn as_user(&self, without: Option<&str>, runs: &[Vec<&str>]) -> Vec<Run> {
        let policy = policy_for_moto(&self.world, &self.zone_id, without);
        as_user_with(&self.world, &self.dns, &policy, runs)
    }
}

#[tokio::test]
async fn create_and_delete_work_under_exactly_the_actions_of_the_printed_policy() {
    let setup = Setup::new().await;
    let runs = setup.as_user(
        None,
        &[setup.create(), vec!["ls", "-p", "api"], setup.delete()],
    );
    let mut runs = runs.into_iter();
    // Its lease given up as it ends, without a warning; the delete then takes it at once.
    let created = runs.next().unwrap().success();
    assert!(
        !created.stderr.contains("Could not release lease"),
        "{}",
        created.stderr
    );
    let listed = runs.next().unwrap().success();
    assert!(
        listed.stdout.contains("api-foo.dev.example.com"),
        "{}",
        listed.stdout
    );
    let deleted = runs.next().unwrap().success();
    assert!(
        !deleted.stderr.contains("waiting for it"),
        "{}",
        deleted.stderr
    );
    let aws = setup.world.aws().await;
    assert_eq!(
        aws.leftovers("dev-dynamic-", "foo").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_policy_without_one_of_its_actions_is_refused() {
    let setup = Setup::new().await;
    let without = Some("elasticloadbalancing:CreateTargetGroup");
    let run = setup.as_user(without, &[setup.create()]).remove(0);
    run.failure("create target group");
    let aws = setup.world.aws().await;
    assert_eq!(
        aws.leftovers("dev-dynamic-", "foo").await,
        Vec::<String>::new()
    );
}
