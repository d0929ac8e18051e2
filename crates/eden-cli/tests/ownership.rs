//! Only what eden made: a resource with an environment's name that eden did not make for that
//! profile and name (the reference, a hand-made look-alike, another profile's environment, a
//! foreign record) is never changed or deleted, by create, delete or gc.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;

use support::{Aws, World};

/// Everything in the emulated account that eden could touch, as text to compare before and
/// after: services with their task definitions and tags, target groups, rules, records, task
/// definition revisions, state items and the environments file.
async fn account(aws: &Aws) -> String {
    let mut lines = Vec::new();
    for svc in aws.services("").await {
        lines.push(format!(
            "service {} {} {:?}",
            svc.service_name().unwrap(),
            svc.task_definition().unwrap(),
            tags_of(aws, svc.service_arn().unwrap()).await
        ));
    }
    for tg in aws.target_groups("").await {
        lines.push(format!("target group {}", tg.target_group_arn().unwrap()));
    }
    for rule in aws.rules().await {
        lines.push(format!("rule {rule:?}"));
    }
    for (name, kind) in aws.records().await {
        lines.push(format!("record {name} {kind}"));
    }
    let families = aws
        .ecs
        .list_task_definition_families()
        .send()
        .await
        .unwrap();
    for family in families.families() {
        lines.push(format!(
            "family {family} {:?}",
            aws.task_definitions(family).await
        ));
    }
    for item in aws.state_items("eden").await {
        let sorted: BTreeMap<_, _> = item.into_iter().collect();
        lines.push(format!("state {sorted:?}"));
    }
    lines.push(format!("file {}", aws.file().await));
    lines.sort();
    lines.join("\n")
}

async fn tags_of(aws: &Aws, arn: &str) -> Vec<(String, String)> {
    let out = aws
        .ecs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    out.tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect()
}

/// A whole environment made by hand with eden's names for `api`'s `name`, untagged, and a rule
/// of another team's host that forwards to its target group.
async fn hand_made_environment(aws: &Aws, name: &str) {
    let resource = format!("dev-dynamic-api-{name}");
    let tg = aws.hand_made_target_group(&resource).await;
    aws.hand_made_service(&resource, Some(&tg)).await;
    aws.hand_made_rule(&format!("api-{name}.dev.example.com"), &tg, 4001)
        .await;
    aws.hand_made_rule("other-team.dev.example.com", &tg, 4002)
        .await;
    aws.hand_made_record(&format!("api-{name}.dev.example.com"), None)
        .await;
}

#[tokio::test]
async fn the_reference_is_never_an_environment() {
    let world = World::new();
    let aws = world.aws().await;
    let before = account(&aws).await;
    // prefix dev01 and name api give dev01-api: the reference service, family and target group.
    let image = world.image("api", "v2");
    for args in [
        &[
            "create",
            "-p",
            "api",
            "--name",
            "api",
            "--name-prefix",
            "dev01",
            "--image-uri",
            &image,
        ][..],
        &[
            "create",
            "-p",
            "api",
            "--name",
            "api",
            "--name-prefix",
            "dev01",
            "--image-uri",
            &image,
            "--dry-run",
        ],
        &[
            "delete",
            "-p",
            "api",
            "--name",
            "api",
            "--name-prefix",
            "dev01",
        ],
        &[
            "delete",
            "-p",
            "api",
            "--name",
            "api",
            "--name-prefix",
            "dev01",
            "--dry-run",
        ],
    ] {
        world
            .eden(args)
            .failure("would make service dev01-api, the reference's own");
    }
    assert_eq!(account(&aws).await, before);
}

#[tokio::test]
async fn a_hand_made_look_alike_is_left_alone_by_create_delete_and_gc() {
    let world = World::new();
    let aws = world.aws().await;
    hand_made_environment(&aws, "handmade").await;
    let before = account(&aws).await;

    world
        .try_create("api", "handmade", "v1", &[])
        .failure("service dev-dynamic-api-handmade is not eden's: it carries no eden tags");
    world
        .try_create("api", "handmade", "v1", &["--dry-run"])
        .failure("is not eden's");
    assert_eq!(account(&aws).await, before, "create changed something");

    let planned = world
        .eden(&["delete", "-p", "api", "--name", "handmade", "--dry-run"])
        .success();
    assert!(
        !planned.stdout.contains("would delete"),
        "{}",
        planned.stdout
    );
    assert!(
        planned
            .stdout
            .contains("would leave service dev-dynamic-api-handmade"),
        "{}",
        planned.stdout
    );
    let deleted = world
        .eden(&["delete", "-p", "api", "--name", "handmade", "-o", "json"])
        .success();
    let deleted: serde_json::Value = serde_json::from_str(&deleted.stdout).unwrap();
    assert_eq!(deleted["removed"], serde_json::json!([]), "{deleted}");
    let kept = deleted["kept"].to_string();
    for what in [
        "service dev-dynamic-api-handmade",
        "task definition family dev-dynamic-api-handmade",
        "target group dev-dynamic-api-handmade",
        "record api-handmade.dev.example.com",
        "listener rule",
    ] {
        assert!(kept.contains(what), "{what} not said to be kept: {kept}");
    }

    let swept = world
        .eden(&["gc", "--orphans", "-p", "api", "-o", "json"])
        .success();
    assert!(!swept.stdout.contains("handmade"), "{}", swept.stdout);
    assert_eq!(
        account(&aws).await,
        before,
        "delete or gc changed something"
    );
}

#[tokio::test]
async fn each_kind_of_look_alike_stops_create_before_it_makes_anything() {
    let world = World::new();
    let aws = world.aws().await;
    let tg = aws.hand_made_target_group("dev-dynamic-api-tg-only").await;
    aws.hand_made_target_group("dev-dynamic-api-svc-only").await;
    aws.hand_made_service("dev-dynamic-api-svc-only", None)
        .await;
    aws.hand_made_task_definition("dev-dynamic-api-family-only")
        .await;
    aws.hand_made_rule("api-rule-only.dev.example.com", &tg, 4003)
        .await;
    aws.hand_made_record("api-address.dev.example.com", Some("10.0.0.1"))
        .await;
    aws.hand_made_record("api-alias.dev.example.com", None)
        .await;
    let before = account(&aws).await;
    for (name, what) in [
        ("tg-only", "target group dev-dynamic-api-tg-only is not eden's"),
        ("svc-only", "service dev-dynamic-api-svc-only is not eden's"),
        (
            "family-only",
            "task definition family dev-dynamic-api-family-only is not eden's",
        ),
        ("rule-only", "for host api-rule-only.dev.example.com is not eden's"),
        (
            "address",
            "record api-address.dev.example.com (A 10.0.0.1) is not eden's: eden never makes such a record",
        ),
        (
            "alias",
            "record api-alias.dev.example.com A is not eden's: it points at the shared ALB, but no state item",
        ),
    ] {
        world.try_create("api", name, "v1", &[]).failure(what);
        world
            .eden(&["delete", "-p", "api", "--name", name])
            .success();
    }
    assert_eq!(account(&aws).await, before);
}

#[tokio::test]
async fn another_hosts_rule_is_kept_and_holds_the_target_group_until_it_is_gone() {
    let world = World::new();
    let aws = world.aws().await;
    world.create("api", "shared", "v1");
    let tg = aws.target_groups("dev-dynamic-api-shared").await[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    let other = aws
        .hand_made_rule("other-team.dev.example.com", &tg, 4004)
        .await;

    world
        .eden(&["delete", "-p", "api", "--name", "shared"])
        .failure(&format!(
            "target group dev-dynamic-api-shared stays: listener rule {other}, which eden did not make, still forwards to it"
        ));
    let rules = aws.rules().await;
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0].rule_arn(), Some(other.as_str()));
    // Still listed, for the delete that finishes it.
    let ls = world.eden(&["ls", "-p", "api"]).success();
    assert!(
        ls.stdout.contains("dev-dynamic-api-shared"),
        "{}",
        ls.stdout
    );

    aws.elb.delete_rule().rule_arn(&other).send().await.unwrap();
    world
        .eden(&["delete", "-p", "api", "--name", "shared"])
        .success();
    assert_eq!(
        aws.leftovers("dev-dynamic-api-shared", "api-shared.").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn profiles_whose_prefixes_overlap_never_touch_each_others_environments() {
    let world = World::new();
    let aws = world.aws().await;
    // team2's prefix is api's less its last part: team2's api-foo is api's foo by name.
    let config = std::fs::read_to_string(&world.config).unwrap();
    let api = config
        .split("\n[")
        .find(|section| section.starts_with("api]") || section.starts_with("[api]"))
        .unwrap();
    let team2 = api
        .trim_start_matches('[')
        .replacen("api]", "[team2]", 1)
        .replace("name_prefix = dev-dynamic-api", "name_prefix = dev-dynamic")
        .replace("domain_name_prefix = api", "domain_name_prefix = team2")
        .replace(
            "endpoint_update_key = api_endpoint",
            "endpoint_update_key = team2_endpoint",
        );
    std::fs::write(&world.config, format!("{config}\n{team2}\n")).unwrap();
    let check = world.eden(&["config", "check"]).success();
    assert!(
        check
            .stderr
            .contains("name_prefix dev-dynamic of profile team2 overlaps"),
        "{}",
        check.stderr
    );

    world.create("api", "foo", "v1");
    let before = account(&aws).await;
    let image = world.image("api", "v2");
    world
        .eden(&[
            "create",
            "-p",
            "team2",
            "--name",
            "api-foo",
            "--image-uri",
            &image,
        ])
        .failure("tagged as eden's for profile api and name foo");
    let deleted = world
        .eden(&["delete", "-p", "team2", "--name", "api-foo"])
        .success();
    assert!(
        deleted.stderr.contains("Left service dev-dynamic-api-foo"),
        "{}",
        deleted.stderr
    );
    world.eden(&["gc", "--orphans", "-p", "team2"]).success();
    assert_eq!(account(&aws).await, before);
    world
        .eden(&["delete", "-p", "api", "--name", "foo"])
        .success();
    assert_eq!(
        aws.leftovers("dev-dynamic-api-foo", "api-foo.").await,
        Vec::<String>::new()
    );
}

/// An environment the original made: its resources carry no tags, the state table records it,
/// and it has no lease item. The first run that touches it tags what it keeps.
#[tokio::test]
async fn an_untagged_environment_the_state_table_records_is_adopted() {
    let world = World::new();
    let aws = world.aws().await;
    world.create("api", "legacy", "v1");
    let keys: Vec<String> = ["eden:managed-by", "eden:profile", "eden:name"]
        .map(String::from)
        .to_vec();
    let service = aws.services("dev-dynamic-api-legacy").await[0]
        .service_arn()
        .unwrap()
        .to_string();
    let revision = aws.task_definitions("dev-dynamic-api-legacy").await[0].clone();
    for arn in [&service, &revision] {
        aws.ecs
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.clone()))
            .send()
            .await
            .unwrap();
    }
    let tg = aws.target_groups("dev-dynamic-api-legacy").await[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    let rule = aws.rules().await[0].rule_arn().unwrap().to_string();
    for arn in [&tg, &rule] {
        aws.elb
            .remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(keys.clone()))
            .send()
            .await
            .unwrap();
    }
    assert!(tags_of(&aws, &service).await.is_empty());
    // And no lease item, as the original leaves an environment (one of eden's would vouch for
    // the target group and rule it left, whose tags eden then does not read).
    use aws_sdk_dynamodb::types::AttributeValue::S;
    aws.ddb
        .delete_item()
        .table_name("eden")
        .key("type", S("_lease".into()))
        .key("name", S("api/dev-dynamic-api-legacy".into()))
        .send()
        .await
        .unwrap();

    let deployed = world.create("api", "legacy", "v2");
    for adopted in ["service", "target group", "listener rule"] {
        assert!(
            deployed.stderr.contains(&format!("Adopted {adopted} ")),
            "{adopted} not adopted:\n{}",
            deployed.stderr
        );
    }
    let tags = tags_of(&aws, &service).await;
    assert!(
        tags.contains(&("eden:name".to_string(), "legacy".to_string())),
        "{tags:?}"
    );
    let elb_tags = aws
        .elb
        .describe_tags()
        .resource_arns(&tg)
        .resource_arns(&rule)
        .send()
        .await
        .unwrap();
    for description in elb_tags.tag_descriptions() {
        assert!(
            description
                .tags()
                .iter()
                .any(|t| t.key() == Some("eden:profile") && t.value() == Some("api")),
            "{description:?}"
        );
    }

    // Untagged again, a delete removes it as recorded, without tagging first.
    aws.ecs
        .untag_resource()
        .resource_arn(&service)
        .set_tag_keys(Some(keys.clone()))
        .send()
        .await
        .unwrap();
    world
        .eden(&["delete", "-p", "api", "--name", "legacy"])
        .success();
    assert_eq!(
        aws.leftovers("dev-dynamic-api-legacy", "api-legacy.").await,
        Vec::<String>::new()
    );
}

/// An orphan (no state item) whose service and record were replaced by hand: gc removes only
/// what is tagged as its own, as its dry run said; a name made again by hand after an eden
/// delete is no orphan, though the tagging API still lists its INACTIVE task definitions.
#[tokio::test]
async fn gc_removes_only_what_is_tagged_as_the_orphans_own() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let world = World::new();
    let aws = world.aws().await;
    world.create("api", "mixed", "v1");
    aws.ddb
        .delete_item()
        .table_name("eden")
        .key("type", AttributeValue::S("api".into()))
        .key("name", AttributeValue::S("dev-dynamic-api-mixed".into()))
        .send()
        .await
        .unwrap();
    aws.delete_service("dev-dynamic-api-mixed").await;
    aws.hand_made_service("dev-dynamic-api-mixed", None).await;
    aws.delete_record("api-mixed.dev.example.com").await;
    aws.hand_made_record("api-mixed.dev.example.com", Some("10.0.0.9"))
        .await;
    world.create("api", "reused", "v1");
    world
        .eden(&["delete", "-p", "api", "--name", "reused"])
        .success();
    hand_made_environment(&aws, "reused").await;

    let planned = world
        .eden(&["gc", "--orphans", "-p", "api", "--dry-run", "-o", "json"])
        .success();
    let planned: serde_json::Value = serde_json::from_str(&planned.stdout).unwrap();
    let environments = planned["environments"].as_array().unwrap();
    assert_eq!(environments.len(), 1, "{planned}");
    assert_eq!(environments[0]["name"], "dev-dynamic-api-mixed");
    let found = environments[0]["found"].to_string();
    assert!(
        found.contains("target group dev-dynamic-api-mixed"),
        "{found}"
    );
    assert!(found.contains("listener rule"), "{found}");
    assert!(!found.contains("service dev-"), "{found}");
    assert!(!found.contains("record"), "{found}");

    world.eden(&["gc", "--orphans", "-p", "api"]).success();
    assert_eq!(
        aws.leftovers("dev-dynamic-api-mixed", "api-mixed.").await,
        [
            "service dev-dynamic-api-mixed",
            "record api-mixed.dev.example.com A"
        ]
    );
    // The family's latest revision is the hand-made service's: the family is not eden's, and
    // keeps eden's older revision too.
    assert_eq!(aws.task_definitions("dev-dynamic-api-mixed").await.len(), 2);
    assert_eq!(aws.services("dev-dynamic-api-reused").await.len(), 1);
    assert_eq!(aws.target_groups("dev-dynamic-api-reused").await.len(), 1);
}
