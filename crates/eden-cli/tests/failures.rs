//! Failures: bad input, missing prerequisites and faults part-way. Each is one clear error line
//! and a non-zero exit, and leaves AWS and the environments file as they were.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use support::{Aws, World};

/// Nothing of any api environment exists.
async fn assert_nothing_made(aws: &Aws) {
    assert_eq!(
        aws.leftovers("dev-dynamic-", "dev.example.com").await,
        Vec::<String>::new()
    );
    let families = aws
        .ecs
        .list_task_definition_families()
        .family_prefix("dev-dynamic")
        .send()
        .await
        .unwrap();
    for family in families.families() {
        assert_eq!(
            aws.task_definitions(family).await,
            Vec::<String>::new(),
            "{family}"
        );
    }
    assert_eq!(aws.state_items("eden").await.len(), 0);
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_made() {
    let world = World::new();
    let aws = world.aws().await;
    let image = world.image("api", "v1");
    let missing_tag = image.replace(":v1", ":v9");
    let missing_repo = image.replace("/api:", "/nothing:");
    let no_service = world
        .profile("api", "reference_service_arn")
        .replace("dev01-api", "nope");
    let plain_alb = world.profile("api", "reference_alb_arn");
    let long_name = "n".repeat(129);
    let long_image = format!("registry.example.com/{}:1", "a".repeat(240));
    let big_env = format!("BIG={}", "x".repeat(20_000));
    let long_zone = format!("{}.example.com", "z".repeat(120));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--name", "", "--image-uri", &image], "invalid --name"),
        (
            vec!["--name", "...", "--image-uri", &image],
            "invalid --name",
        ),
        (
            vec!["--name", "日本語", "--image-uri", &image],
            "invalid --name",
        ),
        (
            vec!["--name", "foo", "--image-uri", "Bad Image:1"],
            "invalid --image-uri",
        ),
        (
            vec!["--name", "foo", "--image-uri", &missing_tag],
            "not found in ECR",
        ),
        (
            vec!["--name", "foo", "--image-uri", &missing_repo],
            "not found in ECR",
        ),
        (
            vec!["--name", "foo", "--image-uri", &image, "-p", "nope"],
            "profile nope not found",
        ),
        (
            vec![
                "--name",
                "foo",
                "--image-uri",
                &image,
                "--reference-service-arn",
                &no_service,
            ],
            "reference service",
        ),
        (
            vec![
                "--name",
                "foo",
                "--image-uri",
                &image,
                "--reference-service-arn",
                "dev01-api",
            ],
            "reference_service_arn",
        ),
        (
            vec![
                "--name",
                "foo",
                "--image-uri",
                &image,
                "--master-alb-arn",
                &plain_alb,
            ],
            "HTTPS:443 listener",
        ),
        (
            vec![
                "--name",
                "foo",
                "--image-uri",
                &image,
                "--dynamic-zone-id",
                "ZNOSUCHZONE",
            ],
            "hosted zone",
        ),
        (
            vec![
                "--name",
                "foo",
                "--image-uri",
                &image,
                "--config-bucket-name",
                "no-such-bucket",
            ],
            "S3 bucket",
        ),
        (
            vec!["--name", &long_name, "--image-uri", &image],
            "129 characters once DNS-safe",
        ),
        (
            vec!["--name", "foo", "--image-uri", &long_image],
            "255 characters",
        ),
        (
            vec!["--name", "foo", "--image-uri", &image, "--ttl", "400d"],
            "at most a year",
        ),
        (
            vec![
                "--name",
                "foo",
                "--image-uri",
                &image,
                "--set-env",
                &big_env,
                "--set-env",
                &big_env,
            ],
            "more than the 32768",
        ),
        (
            vec!["--name", "foo", "--image-uri", &image, "-p", "_profile"],
            "invalid profile name \"_profile\"",
        ),
        (
            vec![
                "--name",
                "foo",
                "--image-uri",
                &image,
                "--dynamic-zone-name",
                &long_zone,
            ],
            "at most 128",
        ),
    ];
    for (args, needle) in cases {
        let mut full = vec!["create"];
        if !args.contains(&"-p") {
            full.extend(["-p", "api"]);
        }
        full.extend(args.iter().copied());
        world.eden(&full).failure(needle);
    }
    assert_nothing_made(&aws).await;
}

#[tokio::test]
async fn broken_config_files_and_incomplete_profiles_are_named() {
    let world = World::new();
    for (text, why) in [
        ("[api\nname_prefix = x\n", "config file"),
        (
            "[api]\nname_prefix = dev-dynamic-api\n",
            "missing key reference_service_arn",
        ),
    ] {
        let path = world.home.path().join("other-config");
        std::fs::write(&path, text).unwrap();
        let path = path.to_string_lossy().into_owned();
        world
            .try_create("api", "foo", "v1", &["-c", &path])
            .failure(why);
    }
}

#[tokio::test]
async fn config_paths_that_are_not_files_and_an_unset_home_are_refused_at_once() {
    let world = World::new();
    let fifo = world.home.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for path in [fifo.to_string_lossy().into_owned(), "/dev/zero".into()] {
        let started = Instant::now();
        world
            .eden(&["config", "check", "-c", &path])
            .failure("not a regular file");
        world
            .try_create("api", "foo", "v1", &["-c", &path])
            .failure("not a regular file");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{path} blocked"
        );
    }
    for home in ["", "unset"] {
        let mut command = world.command(&["config", "check", "-p", "api"]);
        match home {
            "unset" => command.env_remove("HOME"),
            _ => command.env("HOME", home),
        };
        support::Run::from(command.output().unwrap()).failure("HOME is unset or empty");
    }
    for args in [
        &["config", "setup", "-p", "_profile", "--name-prefix", "x"][..],
        &["config", "push", "-p", "_lease"],
        &["config", "remote-rm", "-p", "_profile"],
        &["delete", "-p", "_profile", "--name", "foo"],
        &["gc", "-p", "_lease"],
    ] {
        world.eden(args).failure("invalid profile name");
    }
    // A config file others may write is used, with a warning.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&world.config, std::fs::Permissions::from_mode(0o666)).unwrap();
    let run = world.eden(&["config", "check", "-p", "api"]).success();
    assert!(
        run.stderr.contains("writable by other users"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_corrupt_environments_file_is_never_overwritten() {
    let world = World::new();
    let aws = world.aws().await;
    for (body, why) in [
        (&b"{\"environments\": [ {\"name\": "[..], "not valid JSON"),
        (&b"{\"environments\": {}}"[..], "not an array"),
    ] {
        aws.put_file(body).await;
        world.try_create("api", "foo", "v1", &[]).failure(why);
        world
            .eden(&["delete", "-p", "api", "--name", "foo"])
            .failure(why);
        assert_eq!(aws.file_bytes().await, body, "the file was changed");
    }
    aws.put_file(br#"{"environments": []}"#).await;
    assert_nothing_made(&aws).await;
}

#[tokio::test]
async fn a_failure_part_way_undoes_everything_this_run_made() {
    let world = World::new();
    let aws = world.aws().await;
    // moto rejects a service in a cluster that does not exist: the fourth step fails after the
    // task definition, target group, record and rule were made.
    let run = world
        .try_create("api", "foo", "v1", &["--target-cluster", "nowhere"])
        .failure("create service dev-dynamic-api-foo failed");
    assert!(
        run.stderr.contains("Undoing what this run made"),
        "{}",
        run.stderr
    );
    for undone in [
        "task definition",
        "target group",
        "listener rule",
        "record api-foo.dev.example.com",
    ] {
        assert!(
            run.stderr.contains(&format!("Undone: {undone}")),
            "{undone} not undone:\n{}",
            run.stderr
        );
    }
    assert_nothing_made(&aws).await;
    assert_eq!(aws.file().await, serde_json::json!({"environments": []}));
}

#[tokio::test]
async fn delete_finishes_a_half_deleted_environment() {
    let world = World::new();
    let aws = world.aws().await;
    world.create("api", "foo", "v1");
    // Remove the service and the record by hand, as a crashed delete might have.
    aws.delete_service("dev-dynamic-api-foo").await;
    let run = world
        .eden(&["delete", "-p", "api", "--name", "foo"])
        .success();
    assert!(
        run.stderr
            .contains("ECS Service dev-dynamic-api-foo not found, skipping deletion"),
        "{}",
        run.stderr
    );
    assert_eq!(
        aws.leftovers("dev-dynamic-", "foo").await,
        Vec::<String>::new()
    );
    assert_eq!(
        aws.task_definitions("dev-dynamic-api-foo").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn no_credentials_and_a_dead_endpoint_fail_fast_with_advice() {
    let world = World::new();
    let mut no_creds = world.command(&["ls"]);
    no_creds
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    support::Run::from(no_creds.output().unwrap()).failure("AWS credentials");

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut dead = world.command(&["ls"]);
    dead.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{closed}"));
    let started = Instant::now();
    support::Run::from(dead.output().unwrap()).failure("check your network");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_missing_or_other_region_is_named_before_anything_is_read() {
    let world = World::new();
    let mut no_region = world.command(&["ls"]);
    no_region
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION");
    support::Run::from(no_region.output().unwrap()).failure("no AWS region is set");

    // The profile's resources are in us-east-1: elsewhere every read would say "not found".
    let image = world.image("api", "v1");
    let commands: [&[&str]; 4] = [
        &[
            "create",
            "-p",
            "api",
            "--name",
            "far",
            "--image-uri",
            &image,
        ],
        &[
            "create",
            "-p",
            "api",
            "--name",
            "far",
            "--image-uri",
            &image,
            "--dry-run",
        ],
        &["delete", "-p", "api", "--name", "far"],
        &["status", "-p", "api", "--name", "far"],
    ];
    for args in commands {
        let mut elsewhere = world.command(args);
        elsewhere.env("AWS_REGION", "eu-west-1");
        support::Run::from(elsewhere.output().unwrap()).failure(&format!(
            "resources in {} (its reference_service_arn), but AWS calls go to eu-west-1: set AWS_REGION={}",
            support::REGION,
            support::REGION
        ));
    }
}

#[tokio::test]
async fn a_reference_service_without_a_target_group_is_named() {
    let world = World::new();
    let aws = world.aws().await;
    let reference = aws
        .ecs
        .describe_services()
        .cluster("dev")
        .services("dev01-api")
        .send()
        .await
        .unwrap();
    let task_definition = reference.services()[0]
        .task_definition()
        .unwrap()
        .to_string();
    let bare = aws
        .ecs
        .create_service()
        .cluster("dev")
        .service_name("no-balancer")
        .task_definition(task_definition)
        .desired_count(1)
        .send()
        .await
        .unwrap();
    let arn = bare.service().unwrap().service_arn().unwrap().to_string();
    world
        .try_create("api", "foo", "v1", &["--reference-service-arn", &arn])
        .failure("target group of reference service");
    assert_nothing_made(&aws).await;
}

#[tokio::test]
async fn a_corrupt_remote_profile_is_named() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let world = World::new();
    let aws = world.aws().await;
    world.eden(&["config", "push", "-p", "api"]).success();
    aws.ddb
        .put_item()
        .table_name("eden")
        .item("type", AttributeValue::S("_profile".into()))
        .item("name", AttributeValue::S("api".into()))
        .item("profile", AttributeValue::S("{not json".into()))
        .send()
        .await
        .unwrap();
    world
        .eden(&["config", "pull", "-p", "api", "-c", "/dev/null/nowhere"])
        .failure("remote profile api is corrupt");
}

#[test]
fn an_endpoint_that_never_answers_fails_within_ten_seconds() {
    let world = World::new();
    // Accepts connections (the kernel's backlog) but never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut command = world.command(&["ls"]);
    command.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"));
    let started = Instant::now();
    support::Run::from(command.output().unwrap()).failure("no answer in time");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    drop(silent);
}
