//! Runs stopped part-way: by SIGINT or SIGTERM (undone), or by SIGKILL (finished or removed by
//! the next run).

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{Aws, Run, World};

/// Every call takes this long, so that a create is still running when the signal comes.
fn slow() -> serde_json::Value {
    json!({"latency_ms": 150})
}

fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

async fn assert_one_environment(aws: &Aws) {
    assert_eq!(aws.services("dev-dynamic-api-foo").await.len(), 1);
    assert_eq!(aws.target_groups("dev-dynamic-api-foo").await.len(), 1);
    assert_eq!(aws.rules().await.len(), 1);
    assert_eq!(aws.records().await.len(), 1);
    let file = aws.file().await;
    assert_eq!(
        file["environments"][0]["api_endpoint"],
        "api-foo.dev.example.com"
    );
    let items = aws.state_items("eden").await;
    let environments = items.iter().filter(|i| i.contains_key("endpoint"));
    assert_eq!(environments.count(), 1, "{items:?}");
}

#[tokio::test]
async fn sigint_or_sigterm_during_create_undoes_it() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    let image = world.image("api", "v1");
    for name in ["INT", "TERM"] {
        world.proxy().rules(slow());
        let child = world.spawn(&[
            "create",
            "-p",
            "api",
            "--name",
            "foo",
            "--image-uri",
            &image,
        ]);
        // While the first resources are being made.
        world.proxy().wait_for_call("RegisterTaskDefinition");
        signal(child.id(), name);
        let run = Run::from(child.wait_with_output().unwrap()).failure("interrupted");
        assert!(
            run.stderr.contains("Undoing what this run made"),
            "{}",
            run.stderr
        );
        assert_eq!(
            aws.leftovers("dev-dynamic-", "foo").await,
            Vec::<String>::new(),
            "SIG{name}"
        );
        assert_eq!(
            aws.task_definitions("dev-dynamic-api-foo").await,
            Vec::<String>::new()
        );
        assert_eq!(aws.state_items("eden").await.len(), 0);
    }
}

#[tokio::test]
async fn after_sigkill_create_converges_and_delete_leaves_nothing() {
    let world = World::behind_proxy();
    let aws = world.aws().await;
    let image = world.image("api", "v1");
    let kill_mid_create = || {
        // CreateRule held for 2 s, so that the kill lands while it is in flight however loaded
        // the machine is (with every call at 150 ms, the run once finished first); the proxy
        // then lets it through, as AWS completes a call whose client died.
        let mut rules = slow();
        rules["operation_latency_ms"] = json!({"CreateRule": 2000});
        world.proxy().rules(rules);
        let mut child = world.spawn(&[
            "create",
            "-p",
            "api",
            "--name",
            "foo",
            "--image-uri",
            &image,
        ]);
        // After the task definition, target group and record, while the rule is being made.
        world.proxy().wait_for_call("CreateRule");
        child.kill().unwrap();
        child.wait().unwrap();
        world.proxy().rules(json!({}));
    };

    // The killed run's lease blocks the next run until it expires, not for ever.
    kill_mid_create();
    let again = world.create("api", "foo", "v1");
    assert!(
        again.stderr.contains("being changed by another eden run"),
        "{}",
        again.stderr
    );
    assert_one_environment(&aws).await;
    world
        .eden(&["delete", "-p", "api", "--name", "foo"])
        .success();

    kill_mid_create();
    world
        .eden(&["delete", "-p", "api", "--name", "foo"])
        .success();
    assert_eq!(
        aws.leftovers("dev-dynamic-", "foo").await,
        Vec::<String>::new()
    );
    assert_eq!(
        aws.task_definitions("dev-dynamic-api-foo").await,
        Vec::<String>::new()
    );
    assert_eq!(aws.state_items("eden").await.len(), 0);
}
