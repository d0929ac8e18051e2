//! Two machines on one environment: one with the right time, the other with a clock minutes
//! off (libfaketime, which `scripts/setup` installs into .venv), each with its own HOME. No
//! decision of eden's rests on comparing their clocks, so every race ends with the environment
//! whole or wholly gone. Behind the proxy, which makes each conditional write of the lease one
//! step, as DynamoDB does (two of moto's can both pass their condition).

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::process::{Child, Stdio};

use support::{Run, World};

/// libfaketime as the `libfaketime` wheel ships it.
fn libfaketime() -> PathBuf {
    let lib = support::workspace().join(".venv/lib");
    let found = std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .map(|python| {
            python
                .path()
                .join("site-packages/libfaketime/vendor/libfaketime/src/libfaketime.so.1")
        })
        .find(|so| so.exists());
    found.unwrap_or_else(|| panic!("no libfaketime under {}: run scripts/setup", lib.display()))
}

/// The second machine: its own HOME (with the same config file) and a clock `offset` off.
struct Machine {
    home: tempfile::TempDir,
    offset: &'static str,
}

impl Machine {
    fn new(world: &World, offset: &'static str) -> Self {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".eden")).unwrap();
        std::fs::copy(
            world.home.path().join(".eden/config"),
            home.path().join(".eden/config"),
        )
        .unwrap();
        Self { home, offset }
    }

    fn spawn(&self, world: &World, args: &[&str]) -> Child {
        world
            .command(args)
            .env("HOME", self.home.path())
            .env("LD_PRELOAD", libfaketime())
            .env("FAKETIME", self.offset)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("eden starts")
    }
}

fn create_args<'a>(name: &'a str, image: &'a str) -> [&'a str; 7] {
    ["create", "-p", "api", "--name", name, "--image-uri", image]
}

fn finish(child: Child) -> Run {
    Run::from(child.wait_with_output().unwrap())
}

/// Whether the environment is whole: its service on one of `images`, one rule for its host, its
/// record, file entry and state item; or wholly gone. Returns which.
async fn whole_or_gone(world: &World, name: &str, images: &[String]) -> &'static str {
    let aws = world.aws().await;
    let resource = format!("dev-dynamic-api-{name}");
    let host = format!("api-{name}.");
    let left = aws.leftovers(&resource, &host).await;
    let state = aws
        .state_items("eden")
        .await
        .into_iter()
        .any(|i| i["name"].as_s().unwrap() == &resource && i.contains_key("endpoint"));
    let file = String::from_utf8(aws.file_bytes().await).unwrap_or_default();
    let listed = file.contains(&format!("servicename-dev-{name}\""));
    if left.is_empty() {
        assert!(!state, "{name}: gone but still recorded");
        assert!(!listed, "{name}: gone but still in the file: {file}");
        return "gone";
    }
    let services = aws.services(&resource).await;
    assert_eq!(services.len(), 1, "{name}: {left:?}");
    let running = aws
        .task_definition(services[0].task_definition().unwrap())
        .await;
    let image = running.container_definitions()[0].image().unwrap();
    assert!(images.iter().any(|i| i == image), "{name}: runs {image}");
    assert_eq!(aws.target_groups(&resource).await.len(), 1, "{name}");
    let rules = left.iter().filter(|l| l.starts_with("rule ")).count();
    assert_eq!(rules, 1, "{name}: {left:?}");
    assert!(
        left.iter().any(|l| l.starts_with("record ")),
        "{name}: {left:?}"
    );
    assert!(state, "{name}: whole but not recorded");
    assert!(listed, "{name}: whole but not in the file: {file}");
    "whole"
}

#[tokio::test]
async fn creates_on_two_machines_with_clocks_apart_make_one_whole_environment() {
    let world = World::behind_proxy();
    let ahead = Machine::new(&world, "+3m");
    let images = [world.image("api", "v1"), world.image("api", "v2")];
    for name in ["race1", "race2", "race3"] {
        let here = world.spawn(&create_args(name, &images[0]));
        let there = ahead.spawn(&world, &create_args(name, &images[1]));
        let (here, there) = (finish(here), finish(there));
        // The one that came second waits for the first and deploys: both succeed.
        here.success();
        there.success();
        assert_eq!(whole_or_gone(&world, name, &images).await, "whole");
    }
}

#[tokio::test]
async fn a_delete_racing_a_deploy_from_a_machine_minutes_behind_leaves_all_or_nothing() {
    let world = World::behind_proxy();
    let behind = Machine::new(&world, "-5m");
    let images = [world.image("api", "v1"), world.image("api", "v2")];
    for name in ["gone1", "gone2", "gone3"] {
        world.create("api", name, "v1");
        let deploy = behind.spawn(&world, &create_args(name, &images[1]));
        let delete = world.spawn(&["delete", "-p", "api", "--name", name]);
        let (deploy, delete) = (finish(deploy), finish(delete));
        delete.success();
        // A deploy that came second finds the environment gone and makes it anew; one that
        // came first is deleted after it. Either way both succeed.
        deploy.success();
        whole_or_gone(&world, name, &images).await;
    }
}

#[tokio::test]
async fn an_environment_expires_by_the_state_tables_clock_whatever_a_machines_says() {
    let world = World::new();
    let (ahead, behind) = (Machine::new(&world, "+2h"), Machine::new(&world, "-2h"));
    let image = [world.image("api", "v1")];
    let ttl = |name: &str, ttl: &str| {
        let mut args = create_args(name, &image[0]).to_vec();
        args.extend(["--ttl", ttl]);
        args.iter().map(|arg| arg.to_string()).collect::<Vec<_>>()
    };
    let run = |machine: Option<&Machine>, args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let child = match machine {
            Some(machine) => machine.spawn(&world, &args),
            None => world.spawn(&args),
        };
        finish(child).success();
    };
    // An hour to live, given by a machine two hours behind; a second, by one on time.
    run(Some(&behind), ttl("kept", "1h"));
    run(None, ttl("soon", "1s"));
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    // A machine two hours ahead sweeps what expired, and keeps what has an hour to go.
    run(Some(&ahead), vec!["gc".into()]);
    assert_eq!(whole_or_gone(&world, "soon", &image).await, "gone");
    assert_eq!(whole_or_gone(&world, "kept", &image).await, "whole");
    // A machine two hours behind sweeps what expired all the same.
    run(None, ttl("past", "1s"));
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    run(Some(&behind), vec!["gc".into()]);
    assert_eq!(whole_or_gone(&world, "past", &image).await, "gone");
    assert_eq!(whole_or_gone(&world, "kept", &image).await, "whole");
}
