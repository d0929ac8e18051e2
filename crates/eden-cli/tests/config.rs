//! `eden config`: the profile file and remote profiles in the DynamoDB state table.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use support::World;

/// The seed's setup flags, one call each, as its README runs them.
fn seed_setup_calls(world: &World) -> Vec<Vec<String>> {
    [
        (
            "--endpoint-s3-bucket-name",
            "servicename-config".to_string(),
        ),
        ("--endpoint-s3-key", "endpoints.json".into()),
        ("--endpoint-name-prefix", "servicename-dev".into()),
        ("--endpoint-update-key", "api_endpoint".into()),
        ("--endpoint-env-type", "dev".into()),
        ("--domain-name-prefix", "api".into()),
        ("--dynamic-zone-id", world.id("zone_id")),
        ("--master-alb-arn", world.id("shared_alb_arn")),
        ("--name-prefix", "dev-dynamic".into()),
        (
            "--reference-service-arn",
            world.profile("api", "reference_service_arn"),
        ),
        ("--target-cluster", "dev".into()),
    ]
    .into_iter()
    .map(|(flag, value)| vec!["config".into(), "setup".into(), flag.into(), value])
    .collect()
}

#[tokio::test]
async fn setup_writes_a_private_file_that_check_passes_and_create_uses() {
    let world = World::new();
    std::fs::remove_dir_all(world.home.path().join(".eden")).unwrap();
    for call in seed_setup_calls(&world) {
        let args: Vec<&str> = call.iter().map(String::as_str).collect();
        world.eden(&args).success();
    }
    let path = world.home.path().join(".eden/config");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("[default]\nconfig_bucket_name = servicename-config\n"),
        "{text}"
    );
    assert!(text.contains("target_cluster = dev\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(
        world.eden(&["config", "check"]).success().stdout,
        "No errors found\n"
    );

    // The derived keys (zone name, container) are looked up at run time.
    let image = world.image("api", "v1");
    let created = world
        .eden(&["create", "--name", "foo", "--image-uri", &image])
        .success();
    assert_eq!(created.stdout.trim(), "api-foo.dev.example.com");

    // `--aws` records what AWS has for the keys the profile leaves out, and never writes over a
    // value given: it warns of it.
    let listener = world.aws().await.shared_listener().await;
    let filled = world
        .eden(&[
            "config",
            "setup",
            "--aws",
            "--dynamic-zone-name",
            "other.example.com",
        ])
        .success();
    let text = std::fs::read_to_string(&path).unwrap();
    for line in [
        format!("master_listener_arn = {listener}\n"),
        format!(
            "reference_target_group_arn = {}\n",
            world.profile("api", "reference_target_group_arn")
        ),
        "dynamic_zone_name = other.example.com\n".to_string(),
    ] {
        assert!(text.contains(&line), "{line} not in {text}");
    }
    assert!(
        filled
            .stderr
            .contains("but dynamic_zone_name says other.example.com"),
        "{}",
        filled.stderr
    );

    // Several flags in one call merge into the profile; nothing given is an error.
    world
        .eden(&[
            "config",
            "setup",
            "-p",
            "other",
            "--name-prefix",
            "a",
            "--target-cluster",
            "b",
        ])
        .success();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("[other]\nname_prefix = a\ntarget_cluster = b\n"),
        "{text}"
    );
    assert!(text.contains("[default]"));
    world
        .eden(&["config", "setup", "-p", "other"])
        .failure("no parameters");
}

#[tokio::test]
async fn check_names_each_problem() {
    let world = World::new();
    let path = world.home.path().join(".eden/config");
    std::fs::write(
        &path,
        "[bad]\nname_prefix = dev_dynamic\nmaster_alb_arn = not-an-arn\ndynamic_zone_name = dev.example.com\n",
    )
    .unwrap();
    let run = world
        .eden(&["config", "check"])
        .failure("found 11 error(s)");
    assert!(
        run.stdout
            .contains("Profile bad: missing key reference_service_arn"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("Profile bad: missing key dynamic_zone_id"));
    assert!(run
        .stdout
        .contains("master_alb_arn \"not-an-arn\" is malformed"));
    assert!(run
        .stdout
        .contains("name_prefix \"dev_dynamic\" may hold only"));
    world
        .eden(&["config", "check", "-p", "nope"])
        .failure("found 1 error(s)");
}

#[tokio::test]
async fn profiles_push_pull_list_and_remove_through_the_state_table() {
    let world = World::new();
    let aws = world.aws().await;
    let push = world.eden(&["config", "push", "-p", "api"]).success();
    assert!(
        push.stderr
            .contains("Successfully pushed profile api to DynamoDB table eden"),
        "{}",
        push.stderr
    );

    let table = aws
        .ddb
        .describe_table()
        .table_name("eden")
        .send()
        .await
        .unwrap();
    let table = table.table().unwrap();
    let keys: Vec<(&str, &str)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type().as_str()))
        .collect();
    assert_eq!(keys, [("type", "HASH"), ("name", "RANGE")]);
    assert_eq!(
        table.global_secondary_indexes()[0].index_name(),
        Some("kind_last_updated_gsi")
    );
    let item = aws
        .ddb
        .get_item()
        .table_name("eden")
        .key("type", AttributeValue::S("_profile".into()))
        .key("name", AttributeValue::S("api".into()))
        .send()
        .await
        .unwrap();
    let json: serde_json::Value =
        serde_json::from_str(item.item().unwrap()["profile"].as_s().unwrap()).unwrap();
    assert_eq!(json["endpoint_s3_bucket_name"], "servicename-config");
    assert_eq!(json["name_prefix"], "dev-dynamic-api");

    // create records the environment in the same table, as the original's later schema does.
    world.create("api", "foo", "v1");
    let env = aws
        .ddb
        .get_item()
        .table_name("eden")
        .key("type", AttributeValue::S("api".into()))
        .key("name", AttributeValue::S("dev-dynamic-api-foo".into()))
        .send()
        .await
        .unwrap();
    let env = env.item().unwrap();
    assert_eq!(env["endpoint"].as_s().unwrap(), "api-foo.dev.example.com");
    assert_eq!(env["kind"].as_s().unwrap(), "environment");
    assert!(env["last_updated"].as_n().unwrap().parse::<i64>().unwrap() > 1_700_000_000);

    let listed = world.eden(&["config", "ls"]).success();
    assert!(
        listed
            .stdout
            .contains("Remote profiles (DynamoDB table eden):\napi\n"),
        "{}",
        listed.stdout
    );

    let pulled = world.home.path().join("pulled");
    let pulled_arg = pulled.to_string_lossy().into_owned();
    world
        .eden(&["config", "pull", "-p", "api", "-c", &pulled_arg])
        .success();
    let text = std::fs::read_to_string(&pulled).unwrap();
    assert!(
        text.contains("[api]\nname_prefix = dev-dynamic-api\n"),
        "{text}"
    );
    world
        .eden(&["config", "check", "-c", &pulled_arg])
        .success();

    let removed = world.eden(&["config", "remote-rm", "-p", "api"]).success();
    assert!(removed
        .stderr
        .contains("Successfully removed profile api from DynamoDB table eden"));
    world
        .eden(&["config", "pull", "-p", "api", "-c", &pulled_arg])
        .failure("remote profile api not found");
    let again = world.eden(&["config", "remote-rm", "-p", "api"]).success();
    assert!(again.stderr.contains("was not in DynamoDB table eden"));
}

#[tokio::test]
async fn an_old_schema_table_gets_a_clear_way_forward() {
    let world = World::new();
    let aws = world.aws().await;
    aws.legacy_table("eden").await;
    for args in [
        vec!["config", "push", "-p", "api"],
        vec!["ls"],
        vec!["config", "pull", "-p", "api"],
    ] {
        world
            .eden(&args)
            .failure("0.1.x schema (hash key env_name); push your profiles to a new table");
    }
}
