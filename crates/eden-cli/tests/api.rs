//! The HTTP API served by `eden serve`, against moto: the same changes as the CLI, every error
//! status, concurrency, and keys that never reach the logs.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::{Child, Stdio};

use serde_json::{json, Value};
use support::{request, World};

const KEY: &str = "eden-test-key-7f3a91c2";
const OTHER_KEY: &str = "second-key-55b0e";

/// `eden serve` on a free port, its log kept in a file.
struct Server {
    child: Child,
    endpoint: String,
    log: std::path::PathBuf,
}

impl Server {
    fn start(world: &World) -> Self {
        let port = support::free_port();
        let log = world.home.path().join("serve.log");
        let mut command = world.command(&["serve", "-v", "--listen", &format!("127.0.0.1:{port}")]);
        command
            .env("EDEN_API_KEYS", format!("{KEY},{OTHER_KEY}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        let child = command.spawn().unwrap();
        support::wait_for(port, "eden serve");
        Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    fn get(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        let headers: Vec<(&str, &str)> = key.map(|k| ("x-api-key", k)).into_iter().collect();
        let (status, body) = request(&self.endpoint, "GET", path, &headers, "");
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let (status, body) = request(
            &self.endpoint,
            "POST",
            path,
            &[("x-api-key", KEY)],
            &body.to_string(),
        );
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// Asks the server to stop, as a service manager does (SIGTERM), waits until it has, and
    /// returns everything it logged.
    fn terminate(mut self) -> String {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        assert!(sent.unwrap().success());
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// Stops the server and returns everything it logged.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).unwrap()
    }
}

fn served_world() -> (World, Server) {
    let world = World::new();
    for profile in ["api", "admin"] {
        world.eden(&["config", "push", "-p", profile]).success();
    }
    let server = Server::start(&world);
    (world, server)
}

fn create_path(name: &str, image: &str, profile: &str) -> String {
    format!("/api/v1/create?name={name}&image_uri={image}&profile={profile}")
}

#[tokio::test]
async fn create_and_delete_over_http_change_aws_as_the_cli_does() {
    let (world, server) = served_world();
    let aws = world.aws().await;

    let (status, created) = server.get(
        &create_path("foo", &world.image("api", "v1"), "api"),
        Some(KEY),
    );
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["status"], "ok");
    assert_eq!(created["name"], "dev-dynamic-api-foo");
    assert_eq!(created["endpoint"], "api-foo.dev.example.com");
    let (status, _) = server.post(
        "/api/v1/create",
        json!({"name": "foo", "image_uri": world.image("admin", "v1"), "profile": "admin"}),
    );
    assert_eq!(status, 200);

    assert_eq!(aws.services("dev-dynamic-").await.len(), 2);
    assert_eq!(
        aws.file().await["environments"][0],
        json!({"env": "dev", "name": "servicename-dev-foo", "api_endpoint": "api-foo.dev.example.com", "admin_endpoint": "admin-foo.dev.example.com"})
    );
    let ls = world.eden(&["ls", "-p", "api"]).success();
    assert!(
        ls.stdout
            .contains("dev-dynamic-api-foo api-foo.dev.example.com"),
        "{}",
        ls.stdout
    );
    let (status, listed) = server.get("/api/v1/environments?profile=api", Some(KEY));
    assert_eq!(status, 200);
    assert_eq!(
        listed["environments"]["api"][0]["endpoint"],
        "api-foo.dev.example.com"
    );
    assert!(listed["environments"].get("admin").is_none());

    let (status, deleted) = server.get("/api/v1/delete?name=foo&profile=api", Some(KEY));
    assert_eq!(status, 200, "{deleted}");
    let (status, _) = server.post("/api/v1/delete", json!({"name": "foo", "profile": "admin"}));
    assert_eq!(status, 200);
    assert_eq!(
        aws.leftovers("dev-dynamic-", "foo").await,
        Vec::<String>::new()
    );
    assert_eq!(aws.file().await, json!({"environments": []}));

    let (status, health) = server.get("/healthz", None);
    assert_eq!((status, health), (200, json!({"status": "ok"})));
    let log = server.stop();
    assert!(
        log.contains("method=GET path=/api/v1/create status=200"),
        "{log}"
    );
}

#[tokio::test]
async fn every_rejection_has_its_status_and_makes_nothing() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (world, server) = served_world();
    let aws = world.aws().await;
    let image = world.image("api", "v1");

    // A lease another run holds, for the 409.
    let _held = aws.hold_lease("api/dev-dynamic-api-held").await;
    // A pushed profile whose reference service does not exist, for the 502.
    let mut broken: Value = serde_json::from_str(
        aws.ddb
            .get_item()
            .table_name("eden")
            .key("type", AttributeValue::S("_profile".into()))
            .key("name", AttributeValue::S("api".into()))
            .send()
            .await
            .unwrap()
            .item()
            .unwrap()["profile"]
            .as_s()
            .unwrap(),
    )
    .unwrap();
    broken["reference_service_arn"] = json!("arn:aws:ecs:us-east-1:123456789012:service/dev/nope");
    aws.ddb
        .put_item()
        .table_name("eden")
        .item("type", AttributeValue::S("_profile".into()))
        .item("name", AttributeValue::S("broken".into()))
        .item("profile", AttributeValue::S(broken.to_string()))
        .send()
        .await
        .unwrap();

    let cases: Vec<(String, Option<&str>, u16, &str)> = vec![
        (
            create_path("foo", &image, "api"),
            None,
            401,
            "missing x-api-key",
        ),
        (
            create_path("foo", &image, "api"),
            Some("wrong-key"),
            403,
            "invalid API key",
        ),
        (
            format!("/api/v1/create?image_uri={image}&profile=api"),
            Some(KEY),
            400,
            "missing parameter name",
        ),
        (
            "/api/v1/create?name=foo&profile=api".into(),
            Some(KEY),
            400,
            "missing parameter image_uri",
        ),
        (
            create_path("...", &image, "api"),
            Some(KEY),
            400,
            "invalid parameter name",
        ),
        (
            create_path("foo", "Not%20An%20Image", "api"),
            Some(KEY),
            400,
            "invalid parameter image_uri",
        ),
        (
            create_path("foo", &image, "nope"),
            Some(KEY),
            404,
            "remote profile nope not found",
        ),
        (create_path("held", &image, "api"), Some(KEY), 409, "busy"),
        (
            create_path("foo", &image, "broken"),
            Some(KEY),
            502,
            "reference service",
        ),
        (
            "/api/v1/delete?profile=api".into(),
            Some(KEY),
            400,
            "missing parameter name",
        ),
    ];
    for (path, key, want, message) in cases {
        let (status, body) = server.get(&path, key);
        assert_eq!(status, want, "{path}: {body}");
        assert_eq!(body["status"], "error", "{path}");
        let text = body["message"].as_str().unwrap();
        assert!(text.contains(message), "{path}: {text}");
        assert!(!text.contains('\n') && !text.contains("panicked"), "{text}");
    }
    assert_eq!(
        aws.leftovers("dev-dynamic-", "dev.example.com").await,
        Vec::<String>::new()
    );
    server.stop();
}

#[tokio::test]
async fn head_options_and_malformed_input_never_run_anything() {
    let (world, server) = served_world();
    let aws = world.aws().await;
    let image = world.image("api", "v1");
    let key = [("x-api-key", KEY)];
    let create = create_path("foo", &image, "api");
    for method in ["HEAD", "OPTIONS", "PUT", "DELETE"] {
        for path in [
            create.as_str(),
            "/api/v1/delete?name=foo&profile=api",
            "/api/v1/gc",
        ] {
            let (status, body) = request(&server.endpoint, method, path, &key, "");
            assert_eq!(status, 405, "{method} {path}: {body}");
            if method != "HEAD" {
                let body: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(body["status"], "error", "{method} {path}");
            }
        }
    }
    assert!(aws.services("dev-dynamic-").await.is_empty());

    let bodies = [
        ("/api/v1/create", "{not json", "invalid JSON body"),
        (
            "/api/v1/create",
            r#"{"name": 5, "image_uri": "x"}"#,
            "invalid JSON body",
        ),
        ("/api/v1/delete", "[1, 2]", "invalid JSON body"),
        ("/api/v1/gc", r#"{"orphans": "yes"}"#, "invalid JSON body"),
    ];
    for (path, body, message) in bodies {
        let (status, answer) = request(&server.endpoint, "POST", path, &key, body);
        assert_eq!(status, 400, "{path} {body}: {answer}");
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(answer["status"], "error");
        assert!(
            answer["message"].as_str().unwrap().contains(message),
            "{answer}"
        );
    }
    for (path, message) in [
        (
            "/api/v1/gc?orphans=maybe".to_string(),
            "invalid query string",
        ),
        (
            create_path("foo", &image, "_profile"),
            "invalid profile name",
        ),
        (
            "/api/v1/environments?profile=_lease".to_string(),
            "invalid profile name",
        ),
    ] {
        let (status, answer) = server.get(&path, Some(KEY));
        assert_eq!(status, 400, "{path}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(message),
            "{answer}"
        );
    }
    assert!(aws.services("dev-dynamic-").await.is_empty());
    assert_eq!(aws.file().await, json!({"environments": []}));
    server.stop();
}

#[tokio::test]
async fn a_corrupt_remote_profile_is_skipped_by_gc_and_the_others_are_swept() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (world, server) = served_world();
    let aws = world.aws().await;
    let (status, created) = server.get(
        &format!(
            "{}&ttl=1s",
            create_path("old", &world.image("api", "v1"), "api")
        ),
        Some(KEY),
    );
    assert_eq!(status, 200, "{created}");
    aws.ddb
        .put_item()
        .table_name("eden")
        .item("type", AttributeValue::S("_profile".into()))
        .item("name", AttributeValue::S("corrupt".into()))
        .item("profile", AttributeValue::S("{not json".into()))
        .send()
        .await
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let (status, swept) = server.post("/api/v1/gc", json!({"orphans": true}));
    assert_eq!(status, 200, "{swept}");
    let environments = swept["environments"].as_array().unwrap();
    assert!(
        environments
            .iter()
            .any(|e| e["name"] == "dev-dynamic-api-old"
                && !e["removed"].as_array().unwrap().is_empty()),
        "{swept}"
    );
    assert_eq!(swept["skipped"][0]["profile"], "corrupt", "{swept}");
    assert!(swept["skipped"][0]["why"]
        .as_str()
        .unwrap()
        .contains("corrupt"));
    assert!(aws.services("dev-dynamic-api-old").await.is_empty());
    server.stop();
}

/// A client that hangs up mid-create does not stop the run halfway (axum drops a handler whose
/// client is gone), and a server asked to stop meanwhile waits for the run: the environment is
/// whole, its lease given up.
#[tokio::test]
async fn a_client_that_hangs_up_mid_create_does_not_stop_the_run_halfway() {
    use std::io::Write;
    let world = World::behind_proxy();
    world.eden(&["config", "push", "-p", "api"]).success();
    let server = Server::start(&world);
    let aws = world.aws().await;
    world
        .proxy()
        .rules(json!({"operation_latency_ms": {"CreateRule": 1500}}));
    let address = server.endpoint.trim_start_matches("http://");
    let mut client = std::net::TcpStream::connect(address).unwrap();
    let path = create_path("hangup", &world.image("api", "v1"), "api");
    write!(
        client,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nx-api-key: {KEY}\r\n\r\n"
    )
    .unwrap();
    world.proxy().wait_for_call("CreateRule");
    drop(client);
    let log = server.terminate();
    assert!(log.contains("eden API stopped"), "{log}");
    assert_eq!(aws.services("dev-dynamic-api-hangup").await.len(), 1);
    let ls = world.eden(&["ls", "-p", "api"]).success();
    assert!(
        ls.stdout.contains("dev-dynamic-api-hangup"),
        "{}",
        ls.stdout
    );
    world
        .eden(&["delete", "-p", "api", "--name", "hangup"])
        .success();
    assert_eq!(
        aws.leftovers("dev-dynamic-api-hangup", "hangup").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn twenty_concurrent_api_creates_all_succeed() {
    let (world, server) = served_world();
    let aws = world.aws().await;
    let image = world.image("api", "v1");
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..20)
            .map(|i| {
                let path = create_path(&format!("pr-{i}"), &image, "api");
                let server = &server;
                scope.spawn(move || server.get(&path, Some(KEY)))
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    assert_eq!(aws.services("dev-dynamic-api-pr-").await.len(), 20);
    assert_eq!(
        aws.file().await["environments"].as_array().unwrap().len(),
        20
    );
    server.stop();
}

#[tokio::test]
async fn the_keys_never_reach_the_logs_or_the_answers() {
    let (world, server) = served_world();
    let image = world.image("api", "v1");
    let wrong = "guess-9d8c7b6a5f4e";
    let mut answers = String::new();
    for key in [KEY, OTHER_KEY, wrong] {
        for path in [
            create_path("foo", &image, "api"),
            "/api/v1/environments".into(),
            "/api/v1/delete?name=foo&profile=api".into(),
        ] {
            answers.push_str(&server.get(&path, Some(key)).1.to_string());
        }
    }
    let log = server.stop();
    assert!(
        log.contains("path=/api/v1/create"),
        "the server logged nothing: {log}"
    );
    for secret in [KEY, OTHER_KEY, wrong] {
        // Not even in part: no run of eight characters of a key.
        for start in 0..=secret.len() - 8 {
            let part = &secret[start..start + 8];
            assert!(!log.contains(part), "the log holds {part:?} of a key");
            assert!(!answers.contains(part), "an answer holds {part:?} of a key");
        }
    }
}

#[test]
fn serve_refuses_to_start_without_a_key() {
    let world = World::new();
    let mut command = world.command(&["serve", "--listen", "127.0.0.1:0"]);
    command.env_remove("EDEN_API_KEYS");
    support::Run::from(command.output().unwrap()).failure("no API key configured");
}

#[tokio::test]
async fn a_schedule_can_sweep_expired_environments_through_the_api() {
    let (world, server) = served_world();
    let image = world.image("api", "v1");
    let (status, created) = server.get(
        &format!("{}&ttl=1s", create_path("brief", &image, "api")),
        Some(KEY),
    );
    assert_eq!(status, 200, "{created}");
    assert!(created["expires_at"].as_i64().is_some());
    let (status, _) = server.get(
        &format!("{}&ttl=1s", create_path("kept", &image, "admin")),
        Some(KEY),
    );
    assert_eq!(status, 200);
    let (status, bad) = server.get(
        &format!("{}&ttl=soon", create_path("x", &image, "api")),
        Some(KEY),
    );
    assert_eq!(status, 400);
    assert!(bad["message"]
        .as_str()
        .unwrap()
        .starts_with("invalid parameter ttl"));
    std::thread::sleep(std::time::Duration::from_millis(2100));

    // Only the named profile, and only a dry run first.
    let (status, planned) = server.post("/api/v1/gc", json!({"profile": "api", "dry_run": true}));
    assert_eq!(status, 200, "{planned}");
    assert_eq!(planned["environments"][0]["name"], "dev-dynamic-api-brief");
    assert_eq!(
        world
            .aws()
            .await
            .services("dev-dynamic-api-brief")
            .await
            .len(),
        1
    );

    let (status, swept) = server.post("/api/v1/gc", json!({"profile": "api"}));
    assert_eq!(status, 200, "{swept}");
    assert_eq!(swept["environments"].as_array().unwrap().len(), 1);
    let aws = world.aws().await;
    assert_eq!(
        aws.leftovers("dev-dynamic-api-brief", "api-brief.").await,
        Vec::<String>::new()
    );
    assert_eq!(aws.services("dev-dynamic-admin-kept").await.len(), 1);
    let (status, _) = server.get("/api/v1/gc", None);
    assert_eq!(status, 401);
    server.stop();
}
