//! The integration test harness: a private moto server on a free loopback port, seeded with the
//! world eden expects, the real `eden` binary run against it, and SDK clients to read the AWS
//! state that results.

// Each test file uses its own part of the harness.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const REGION: &str = "us-east-1";

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The project's venv (made by `scripts/setup`), or `EDEN_VENV`.
pub fn venv_bin(tool: &str) -> PathBuf {
    let venv = std::env::var_os("EDEN_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv"));
    let path = venv.join("bin").join(tool);
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup first (it installs moto into .venv)",
        path.display()
    );
    path
}

/// Runs a linter from the test venv on files of the workspace, with the venv's shellcheck on
/// the path (actionlint checks the workflows' scripts with it); its findings fail the test.
pub fn lint<F: AsRef<std::ffi::OsStr> + std::fmt::Debug>(tool: &str, files: &[F]) {
    let venv = venv_bin(tool).parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(venv).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let out = Command::new(venv_bin(tool))
        .args(files)
        .current_dir(workspace())
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{tool} {files:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A moto server of this test's own. One started with moto's defaults is reset when its test
/// ends and kept for the next test of this binary: a moto's start and its first EC2 call (moto
/// loads EC2 then) are half of the 3 s a world takes to seed.
pub struct Moto {
    server: Option<Server>,
    pub endpoint: String,
    pooled: bool,
}

/// A running moto, and its answers to seed requests.
struct Server {
    child: Child,
    seeded: BufReader<ChildStdout>,
}

/// The idle motos of this test binary, reset, with their endpoints.
static IDLE: std::sync::Mutex<Vec<(Server, String)>> = std::sync::Mutex::new(Vec::new());

/// moto's server, which also seeds a world for each line `{"endpoint", "config"}` on its stdin
/// (`scripts/seed_world.py`, with Python and boto3 loaded once rather than for every world) and
/// answers `SEED {"world"}` or `SEED {"error"}` on stdout. It ends when its stdin closes: an
/// idle moto ends with the test binary, whose statics are never dropped.
const MOTO_MAIN: &str = "import json, os, sys, threading, traceback
def seed_worlds():
    os.environ.setdefault('AWS_ACCESS_KEY_ID', 'testing')
    os.environ.setdefault('AWS_SECRET_ACCESS_KEY', 'testing')
    sys.path.insert(0, os.environ['EDEN_SCRIPTS'])
    import seed_world
    for line in sys.stdin:
        asked = json.loads(line)
        try:
            answer = {'world': seed_world.seed(asked['endpoint'], asked['config'])}
        except Exception:
            answer = {'error': traceback.format_exc()}
        sys.stdout.write('SEED ' + json.dumps(answer) + '\\n')
        sys.stdout.flush()
    os._exit(0)
threading.Thread(target=seed_worlds, daemon=True).start()
from moto.server import main
main(sys.argv[1:])";

impl Moto {
    pub fn start() -> Self {
        let idle = IDLE.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some((server, endpoint)) => Self {
                server: Some(server),
                endpoint,
                pooled: true,
            },
            None => {
                let mut moto = Self::start_with(&[]);
                moto.pooled = true;
                moto
            }
        }
    }

    /// A moto of its own for this test, with these settings.
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut child = Command::new(venv_bin("python"))
            .args(["-c", MOTO_MAIN, "-H", "127.0.0.1", "-p", &port.to_string()])
            .env("EDEN_SCRIPTS", workspace().join("scripts"))
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto's server starts");
        let seeded = BufReader::new(child.stdout.take().expect("moto's stdout"));
        wait_for(port, "moto");
        Self {
            server: Some(Server { child, seeded }),
            endpoint: format!("http://127.0.0.1:{port}"),
            pooled: false,
        }
    }

    /// Seeds the world through `endpoint` (this moto, or a proxy in front of it), writes the
    /// seed's config file at `config`, and returns the world's ids.
    fn seed(&mut self, endpoint: &str, config: &Path) -> Value {
        let server = self.server.as_mut().expect("a running moto");
        let asked = serde_json::json!({"endpoint": endpoint, "config": config});
        let stdin = server.child.stdin.as_mut().expect("moto's stdin");
        writeln!(stdin, "{asked}").expect("moto reads the seed request");
        loop {
            let mut line = String::new();
            let read = server.seeded.read_line(&mut line).expect("moto's answer");
            assert!(read > 0, "moto ended while seeding");
            let Some(answer) = line.strip_prefix("SEED ") else {
                continue;
            };
            let mut answer: Value = serde_json::from_str(answer).expect("the seed answers JSON");
            assert!(
                answer["error"].is_null(),
                "seeding failed: {}",
                answer["error"]
            );
            return answer["world"].take();
        }
    }

    /// Forgets every resource and turns IAM checks off, as a new moto; false when moto is gone.
    fn reset(&self, child: &mut Child) -> bool {
        if !matches!(child.try_wait(), Ok(None)) {
            return false;
        }
        let reset = request(&self.endpoint, "POST", "/moto-api/reset", &[], "");
        let auth = request(&self.endpoint, "POST", "/moto-api/reset-auth", &[], "inf");
        reset.0 == 200 && auth.0 == 200
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let Some(mut server) = self.server.take() else {
            return;
        };
        // A failed test's moto may still get calls from its runs: it is not reused.
        if self.pooled && !std::thread::panicking() && self.reset(&mut server.child) {
            let mut idle = IDLE.lock().unwrap_or_else(|e| e.into_inner());
            idle.push((server, self.endpoint.clone()));
            return;
        }
        let _ = server.child.kill();
        let _ = server.child.wait();
    }
}

/// Epoch seconds now, the clock of eden's lease items.
pub fn epoch_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A free loopback port, and never one handed out before in this process: a server binds it
/// only after this returns, and a test handed the same port meanwhile would talk to another
/// test's server (seen: two tests seeding one moto).
pub fn free_port() -> u16 {
    static HANDED_OUT: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        if HANDED_OUT.lock().unwrap().insert(port) {
            return port;
        }
    }
}

/// Waits until a server listens on the port.
pub fn wait_for(port: u16, what: &str) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{what} did not start in 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `scripts/awsproxy.py` in front of moto: latency, throttling and faults per AWS operation.
pub struct Proxy {
    child: Child,
    pub endpoint: String,
}

impl Proxy {
    pub fn start(upstream: &str) -> Self {
        Self::routing(upstream, &[])
    }

    /// A proxy that sends the calls of each service in `routes` to its own moto.
    pub fn routing(upstream: &str, routes: &[(&str, Moto)]) -> Self {
        let port = free_port();
        let routes = routes.iter().flat_map(|(service, moto)| {
            [
                "--route".to_string(),
                format!("{service}={}", moto.endpoint),
            ]
        });
        let child = Command::new(venv_bin("python"))
            .arg(workspace().join("scripts/awsproxy.py"))
            .args(["--upstream", upstream, "--port", &port.to_string()])
            .args(routes)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the proxy starts");
        wait_for(port, "awsproxy");
        Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Replaces the rules (see awsproxy.py) and resets the call counts.
    pub fn rules(&self, rules: Value) {
        self.call("POST", "/__proxy/rules", &rules.to_string());
    }

    /// How often eden called the AWS operation since the rules were last set.
    pub fn calls(&self, operation: &str) -> u64 {
        self.stats().get(operation).copied().unwrap_or(0)
    }

    /// How often eden called each AWS operation since the rules were last set.
    pub fn stats(&self) -> std::collections::BTreeMap<String, u64> {
        let stats: Value =
            serde_json::from_str(&self.call("GET", "/__proxy/stats", "")).expect("stats are JSON");
        stats
            .as_object()
            .expect("stats are an object")
            .iter()
            .filter_map(|(key, count)| Some((key.clone(), count.as_u64()?)))
            .filter(|(key, _)| !key.starts_with("ms:"))
            .collect()
    }

    /// When the proxy received the first call of `operation` and when it answered it, in ms
    /// since the rules were last set.
    pub fn timing(&self, operation: &str) -> (f64, f64) {
        let trace: Value =
            serde_json::from_str(&self.call("GET", "/__proxy/trace", "")).expect("trace is JSON");
        let call = trace
            .as_array()
            .expect("trace is a list")
            .iter()
            .find(|call| call[0] == operation)
            .unwrap_or_else(|| panic!("no {operation} call"));
        (
            call[1].as_f64().unwrap_or(0.0),
            call[2].as_f64().unwrap_or(0.0),
        )
    }

    /// Waits until eden has called `operation` (the call may still be in flight).
    pub fn wait_for_call(&self, operation: &str) {
        let started = Instant::now();
        while self.calls(operation) == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no {operation} call in 30 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn call(&self, method: &str, path: &str, body: &str) -> String {
        http(&self.endpoint, method, path, body)
    }
}

/// A plain HTTP/1.1 call to a loopback server; returns the answer's body.
pub fn http(endpoint: &str, method: &str, path: &str, body: &str) -> String {
    request(endpoint, method, path, &[], body).1
}

/// A plain HTTP/1.1 call with extra headers; returns the status and the body.
pub fn request(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    use std::io::{Read, Write};
    let address = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("the server answers");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    stream
        .write_all(format!("{head}\r\n{body}").as_bytes())
        .expect("the server reads");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("the server answers");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The services that get a moto of their own in a split world, as their calls are signed. ECS
/// and ELB stay with EC2, whose subnets they check.
const SPLIT_SERVICES: [&str; 4] = ["dynamodb", "s3", "route53", "ecr"];

/// A seeded emulated AWS, a home folder with the seed's config file, and the world's ids.
pub struct World {
    pub moto: Moto,
    /// The services with a moto of their own (see [`World::split_behind_proxy`]).
    pub split: Vec<(&'static str, Moto)>,
    /// When set, eden reaches moto through it.
    pub proxy: Option<Proxy>,
    pub home: tempfile::TempDir,
    pub config: PathBuf,
    pub ids: Value,
}

impl World {
    pub fn new() -> Self {
        Self::with_moto(Moto::start())
    }

    /// A world that eden reaches through `scripts/awsproxy.py`.
    pub fn behind_proxy() -> Self {
        let mut world = Self::new();
        world.proxy = Some(Proxy::start(&world.moto.endpoint));
        world
    }

    /// A world behind the proxy where DynamoDB, S3, Route 53 and ECR each have a moto of their
    /// own: one moto answers one call at a time, where AWS's services answer side by side. For
    /// tests that load the world with many runs at once.
    pub fn split_behind_proxy() -> Self {
        let moto = Moto::start();
        let split: Vec<_> = SPLIT_SERVICES
            .iter()
            .map(|service| (*service, Moto::start()))
            .collect();
        let proxy = Proxy::routing(&moto.endpoint, &split);
        // Seeded through the proxy, which sends each call to its service's moto.
        let mut world = Self::seeded(moto, &proxy.endpoint);
        world.split = split;
        world.proxy = Some(proxy);
        world
    }

    /// Where the moto of a service (as its calls are signed) listens.
    fn moto_of(&self, service: &str) -> &str {
        self.split
            .iter()
            .find(|(s, _)| *s == service)
            .map_or(&self.moto.endpoint, |(_, moto)| &moto.endpoint)
    }

    pub fn proxy(&self) -> &Proxy {
        self.proxy.as_ref().expect("a world behind the proxy")
    }

    /// Where eden sends its AWS calls.
    pub fn endpoint(&self) -> &str {
        self.proxy
            .as_ref()
            .map_or(&self.moto.endpoint, |p| &p.endpoint)
    }

    pub fn with_moto(moto: Moto) -> Self {
        let endpoint = moto.endpoint.clone();
        Self::seeded(moto, &endpoint)
    }

    /// The world seeded through `endpoint`.
    fn seeded(mut moto: Moto, endpoint: &str) -> Self {
        let home = tempfile::tempdir().expect("a temp home");
        let config = home.path().join(".eden/config");
        let ids = moto.seed(endpoint, &config);
        Self {
            moto,
            split: Vec::new(),
            proxy: None,
            home,
            config,
            ids,
        }
    }

    /// `eden ARGS` against this world, with the config file in place.
    pub fn eden(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().expect("eden runs");
        Run::from(out)
    }

    /// The command, for tests that start several at once.
    pub fn command(&self, args: &[&str]) -> Command {
        // Known when this harness is part of eden-cli's tests; other crates' tests use the
        // world without the binary.
        let Some(eden) = option_env!("CARGO_BIN_EXE_eden") else {
            panic!("the eden binary is known to eden-cli's tests only");
        };
        let mut cmd = Command::new(eden);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null());
        cmd
    }

    pub fn profile(&self, profile: &str, field: &str) -> String {
        self.ids["profiles"][profile][field]
            .as_str()
            .unwrap_or_else(|| panic!("world has no {profile}.{field}"))
            .to_string()
    }

    pub fn id(&self, field: &str) -> String {
        self.ids[field]
            .as_str()
            .unwrap_or_else(|| panic!("world has no {field}"))
            .to_string()
    }

    pub fn image(&self, profile: &str, version: &str) -> String {
        self.profile(profile, &format!("image_{version}"))
    }

    /// `create -p PROFILE --name NAME --image-uri IMAGE`, with the profile's image `version`.
    fn create_args(&self, profile: &str, name: &str, version: &str) -> Vec<String> {
        let image = self.image(profile, version);
        let args = [
            "create",
            "-p",
            profile,
            "--name",
            name,
            "--image-uri",
            &image,
        ];
        args.map(String::from).to_vec()
    }

    /// `eden create -p PROFILE --name NAME --image-uri IMAGE EXTRA...`, whatever its outcome.
    pub fn try_create(&self, profile: &str, name: &str, version: &str, extra: &[&str]) -> Run {
        let args = self.create_args(profile, name, version);
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        self.eden(&args)
    }

    /// `eden create -p PROFILE --name NAME --image-uri IMAGE`, which must succeed.
    pub fn create(&self, profile: &str, name: &str, version: &str) -> Run {
        self.try_create(profile, name, version, &[]).success()
    }

    /// Starts `eden create -p PROFILE --name NAME --image-uri IMAGE` without waiting.
    pub fn spawn_create(&self, profile: &str, name: &str, version: &str) -> std::process::Child {
        let args = self.create_args(profile, name, version);
        self.spawn(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// Starts `eden ARGS` without waiting, its output captured.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("eden starts")
    }

    pub async fn aws(&self) -> Aws {
        let sdk = sdk_config(&self.moto.endpoint).await;
        let s3 = aws_sdk_s3::config::Builder::from(&sdk)
            .endpoint_url(self.moto_of("s3"))
            .force_path_style(true)
            .build();
        let r53 = aws_sdk_route53::config::Builder::from(&sdk)
            .endpoint_url(self.moto_of("route53"))
            .build();
        let ddb = aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url(self.moto_of("dynamodb"))
            .build();
        Aws {
            ecs: aws_sdk_ecs::Client::new(&sdk),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&sdk),
            r53: aws_sdk_route53::Client::from_conf(r53),
            s3: aws_sdk_s3::Client::from_conf(s3),
            ddb: aws_sdk_dynamodb::Client::from_conf(ddb),
            cluster: self.id("cluster"),
            zone_id: self.id("zone_id"),
            bucket: self.id("bucket"),
            key: self.id("key"),
            shared_alb: self.id("shared_alb_arn"),
        }
    }

    /// ECS through the proxy, which shows what ECS keeps of a service and moto drops.
    pub async fn ecs_through_proxy(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&sdk_config(&self.proxy().endpoint).await)
    }

    /// The service of that name, as ECS shows it through the proxy.
    pub async fn service_through_proxy(&self, name: &str) -> aws_sdk_ecs::types::Service {
        let described = self
            .ecs_through_proxy()
            .await
            .describe_services()
            .cluster(self.id("cluster"))
            .services(name)
            .send()
            .await
            .unwrap();
        described.services()[0].clone()
    }
}

/// The SDK's configuration for the emulated AWS at `endpoint`.
async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await
}

/// A finished eden run.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Self {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn success(self) -> Self {
        assert_eq!(self.code, Some(0), "eden failed:\n{}", self.stderr);
        self
    }

    /// A failure reported as one `error:` line that contains `needle`, with no panic or dump.
    pub fn failure(self, needle: &str) -> Self {
        assert_ne!(
            self.code,
            Some(0),
            "eden should have failed:\n{}",
            self.stderr
        );
        let errors: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "want one error line:\n{}", self.stderr);
        assert!(
            errors[0].contains(needle),
            "error line lacks {needle:?}: {}",
            errors[0]
        );
        for bad in ["panicked", "RUST_BACKTRACE", "Error {", "Some("] {
            assert!(
                !self.stderr.contains(bad),
                "stderr has {bad:?}:\n{}",
                self.stderr
            );
        }
        self
    }
}

/// SDK clients on the emulated AWS, to read what eden left there.
pub struct Aws {
    pub ecs: aws_sdk_ecs::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub r53: aws_sdk_route53::Client,
    pub s3: aws_sdk_s3::Client,
    pub ddb: aws_sdk_dynamodb::Client,
    pub cluster: String,
    pub zone_id: String,
    pub bucket: String,
    pub key: String,
    pub shared_alb: String,
}

impl Aws {
    pub async fn file_bytes(&self) -> Vec<u8> {
        let out = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await
            .unwrap();
        out.body.collect().await.unwrap().into_bytes().to_vec()
    }

    pub async fn file(&self) -> Value {
        serde_json::from_slice(&self.file_bytes().await).unwrap()
    }

    pub async fn put_file(&self, body: &[u8]) {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .body(body.to_vec().into())
            .send()
            .await
            .unwrap();
    }

    /// ACTIVE services of the cluster whose names start with `prefix`, with their task definitions.
    pub async fn services(&self, prefix: &str) -> Vec<aws_sdk_ecs::types::Service> {
        let arns = self
            .ecs
            .list_services()
            .cluster(&self.cluster)
            .max_results(100)
            .send()
            .await
            .unwrap();
        let names: Vec<String> = arns
            .service_arns()
            .iter()
            .filter_map(|a| a.rsplit('/').next())
            .filter(|n| n.starts_with(prefix))
            .map(str::to_string)
            .collect();
        let mut services = Vec::new();
        for chunk in names.chunks(10) {
            let out = self
                .ecs
                .describe_services()
                .cluster(&self.cluster)
                .set_services(Some(chunk.to_vec()))
                .send()
                .await
                .unwrap();
            services.extend(
                out.services()
                    .iter()
                    .filter(|s| s.status() == Some("ACTIVE"))
                    .cloned(),
            );
        }
        services
    }

    pub async fn target_groups(
        &self,
        prefix: &str,
    ) -> Vec<aws_sdk_elasticloadbalancingv2::types::TargetGroup> {
        let out = self.elb.describe_target_groups().send().await.unwrap();
        out.target_groups()
            .iter()
            .filter(|t| {
                t.target_group_name()
                    .unwrap_or_default()
                    .starts_with(prefix)
            })
            .cloned()
            .collect()
    }

    /// A task definition by ARN, family or family:revision.
    pub async fn task_definition(&self, which: &str) -> aws_sdk_ecs::types::TaskDefinition {
        self.ecs
            .describe_task_definition()
            .task_definition(which)
            .send()
            .await
            .unwrap()
            .task_definition
            .unwrap()
    }

    /// The shared HTTPS:443 listener's non-default rules.
    pub async fn rules(&self) -> Vec<aws_sdk_elasticloadbalancingv2::types::Rule> {
        let out = self
            .elb
            .describe_rules()
            .listener_arn(self.shared_listener().await)
            .send()
            .await
            .unwrap();
        out.rules()
            .iter()
            .filter(|r| r.is_default() != Some(true))
            .cloned()
            .collect()
    }

    /// Names and types of the zone's A and AAAA records.
    pub async fn records(&self) -> Vec<(String, String)> {
        let out = self
            .r53
            .list_resource_record_sets()
            .hosted_zone_id(&self.zone_id)
            .send()
            .await
            .unwrap();
        out.resource_record_sets()
            .iter()
            .filter(|r| matches!(r.r#type().as_str(), "A" | "AAAA"))
            .map(|r| {
                (
                    r.name().trim_end_matches('.').to_string(),
                    r.r#type().as_str().to_string(),
                )
            })
            .collect()
    }

    /// Deletes a service of the cluster by hand, with its tasks.
    pub async fn delete_service(&self, name: &str) {
        self.ecs
            .delete_service()
            .cluster(&self.cluster)
            .service(name)
            .force(true)
            .send()
            .await
            .unwrap();
    }

    /// Deletes every record of `host` by hand.
    pub async fn delete_record(&self, host: &str) {
        use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch};
        let out = self
            .r53
            .list_resource_record_sets()
            .hosted_zone_id(&self.zone_id)
            .start_record_name(host)
            .send()
            .await
            .unwrap();
        let changes: Vec<Change> = out
            .resource_record_sets()
            .iter()
            .filter(|r| r.name().trim_end_matches('.') == host)
            .map(|r| {
                Change::builder()
                    .action(ChangeAction::Delete)
                    .resource_record_set(r.clone())
                    .build()
                    .unwrap()
            })
            .collect();
        self.r53
            .change_resource_record_sets()
            .hosted_zone_id(&self.zone_id)
            .change_batch(
                ChangeBatch::builder()
                    .set_changes(Some(changes))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }

    /// ACTIVE revisions of exactly this family.
    pub async fn task_definitions(&self, family: &str) -> Vec<String> {
        let out = self
            .ecs
            .list_task_definitions()
            .family_prefix(family)
            .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
            .send()
            .await
            .unwrap();
        out.task_definition_arns()
            .iter()
            .filter(|a| a.rsplit_once('/').unwrap().1.rsplit_once(':').unwrap().0 == family)
            .cloned()
            .collect()
    }

    /// A lease item as another eden run leaves it in table `eden`: held by `owner`, or given up
    /// (no owner) by a run that did not know what it left.
    pub async fn put_lease(&self, key: &str, owner: Option<&str>) {
        use aws_sdk_dynamodb::types::AttributeValue::S;
        let mut put = self
            .ddb
            .put_item()
            .table_name("eden")
            .item("type", S("_lease".into()))
            .item("name", S(key.into()))
            .item("version", S("v0".into()))
            .item("kind", S("lease".into()));
        if let Some(owner) = owner {
            put = put.item("owner", S(owner.into()));
        }
        put.send().await.unwrap();
    }

    /// A lease held by another run that is alive: it writes a new version every second until
    /// the holder is dropped.
    pub async fn hold_lease(&self, key: &str) -> LeaseHolder {
        self.put_lease(key, Some("another-run")).await;
        let (ddb, key) = (self.ddb.clone(), key.to_string());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let renewing = std::thread::spawn(move || {
            use aws_sdk_dynamodb::types::AttributeValue;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let mut version = 0;
            while !stopped.load(std::sync::atomic::Ordering::SeqCst) {
                version += 1;
                let renew = ddb
                    .update_item()
                    .table_name("eden")
                    .key("type", AttributeValue::S("_lease".into()))
                    .key("name", AttributeValue::S(key.clone()))
                    .update_expression("SET version = :v")
                    .expression_attribute_values(":v", AttributeValue::S(format!("v{version}")))
                    .send();
                runtime.block_on(renew).unwrap();
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        LeaseHolder {
            stop,
            renewing: Some(renewing),
        }
    }

    /// Every item of the state table (a scan is fine in a test).
    pub async fn state_items(
        &self,
        table: &str,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        match self.ddb.scan().table_name(table).send().await {
            Ok(out) => out.items().to_vec(),
            Err(_) => Vec::new(),
        }
    }

    /// A table in the original 0.1.x schema (hash key `env_name`).
    pub async fn legacy_table(&self, name: &str) {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        let attribute = AttributeDefinition::builder()
            .attribute_name("env_name")
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap();
        let key = KeySchemaElement::builder()
            .attribute_name("env_name")
            .key_type(KeyType::Hash)
            .build()
            .unwrap();
        self.ddb
            .create_table()
            .table_name(name)
            .attribute_definitions(attribute)
            .key_schema(key)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap();
    }

    /// The shared ALB's HTTPS:443 listener.
    pub async fn shared_listener(&self) -> String {
        let listeners = self
            .elb
            .describe_listeners()
            .load_balancer_arn(&self.shared_alb)
            .send()
            .await
            .unwrap();
        listeners
            .listeners()
            .iter()
            .find(|l| l.port() == Some(443))
            .and_then(|l| l.listener_arn())
            .unwrap()
            .to_string()
    }

    /// A target group made by hand, untagged, in the reference's VPC.
    pub async fn hand_made_target_group(&self, name: &str) -> String {
        use aws_sdk_elasticloadbalancingv2::types::ProtocolEnum;
        let vpc = self.target_groups("dev01-api").await[0]
            .vpc_id()
            .unwrap()
            .to_string();
        self.elb
            .create_target_group()
            .name(name)
            .protocol(ProtocolEnum::Http)
            .port(8080)
            .vpc_id(vpc)
            .send()
            .await
            .unwrap()
            .target_groups()[0]
            .target_group_arn()
            .unwrap()
            .to_string()
    }

    /// A task definition family registered by hand, untagged; returns the revision's ARN.
    pub async fn hand_made_task_definition(&self, family: &str) -> String {
        use aws_sdk_ecs::types::ContainerDefinition;
        self.ecs
            .register_task_definition()
            .family(family)
            .container_definitions(
                ContainerDefinition::builder()
                    .name("api")
                    .image("nginx:1")
                    .memory(128)
                    .build(),
            )
            .send()
            .await
            .unwrap()
            .task_definition()
            .unwrap()
            .task_definition_arn()
            .unwrap()
            .to_string()
    }

    /// A service made by hand, untagged, with the reference's network, on a family of its own
    /// name and attached to `target_group` when given.
    pub async fn hand_made_service(&self, name: &str, target_group: Option<&str>) {
        use aws_sdk_ecs::types::LoadBalancer;
        let reference = &self.services("dev01-api").await[0];
        let task_definition = self.hand_made_task_definition(name).await;
        let lbs = target_group.map(|tg| {
            LoadBalancer::builder()
                .target_group_arn(tg)
                .container_name("api")
                .container_port(8080)
                .build()
        });
        self.ecs
            .create_service()
            .cluster(&self.cluster)
            .service_name(name)
            .task_definition(task_definition)
            .desired_count(1)
            .set_network_configuration(reference.network_configuration().cloned())
            .set_load_balancers(lbs.map(|lb| vec![lb]))
            .send()
            .await
            .unwrap();
    }

    /// A listener rule made by hand, untagged, on the shared listener: `host` to `target_group`.
    pub async fn hand_made_rule(&self, host: &str, target_group: &str, priority: i32) -> String {
        use aws_sdk_elasticloadbalancingv2::types::{
            Action, ActionTypeEnum, HostHeaderConditionConfig, RuleCondition,
        };
        let condition = RuleCondition::builder()
            .field("host-header")
            .host_header_config(HostHeaderConditionConfig::builder().values(host).build())
            .build();
        let action = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(target_group)
            .build();
        self.elb
            .create_rule()
            .listener_arn(self.shared_listener().await)
            .priority(priority)
            .conditions(condition)
            .actions(action)
            .send()
            .await
            .unwrap()
            .rules()[0]
            .rule_arn()
            .unwrap()
            .to_string()
    }

    /// An A record made by hand at `host`: an alias to the shared ALB when `to` is None, else
    /// an address.
    pub async fn hand_made_record(&self, host: &str, to: Option<&str>) {
        use aws_sdk_route53::types::{
            AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet,
            RrType,
        };
        let set = ResourceRecordSet::builder().name(host).r#type(RrType::A);
        let set = match to {
            Some(address) => set
                .ttl(60)
                .resource_records(ResourceRecord::builder().value(address).build().unwrap()),
            None => {
                let alb = self
                    .elb
                    .describe_load_balancers()
                    .load_balancer_arns(&self.shared_alb)
                    .send()
                    .await
                    .unwrap();
                let alb = &alb.load_balancers()[0];
                set.alias_target(
                    AliasTarget::builder()
                        .hosted_zone_id(alb.canonical_hosted_zone_id().unwrap())
                        .dns_name(alb.dns_name().unwrap())
                        .evaluate_target_health(false)
                        .build()
                        .unwrap(),
                )
            }
        };
        let change = Change::builder()
            .action(ChangeAction::Upsert)
            .resource_record_set(set.build().unwrap())
            .build()
            .unwrap();
        self.r53
            .change_resource_record_sets()
            .hosted_zone_id(&self.zone_id)
            .change_batch(ChangeBatch::builder().changes(change).build().unwrap())
            .send()
            .await
            .unwrap();
    }

    /// Everything eden made under `prefix` that is still there, described for an assertion.
    pub async fn leftovers(&self, prefix: &str, host_part: &str) -> Vec<String> {
        let mut left = Vec::new();
        left.extend(
            self.services(prefix)
                .await
                .iter()
                .map(|s| format!("service {}", s.service_name().unwrap())),
        );
        left.extend(
            self.target_groups(prefix)
                .await
                .iter()
                .map(|t| format!("target group {}", t.target_group_name().unwrap())),
        );
        for rule in self.rules().await {
            let hosts: Vec<String> = rule
                .conditions()
                .iter()
                .flat_map(|c| {
                    c.host_header_config()
                        .map(|h| h.values().to_vec())
                        .unwrap_or_default()
                })
                .collect();
            if hosts.iter().any(|h| h.contains(host_part)) {
                left.push(format!("rule {hosts:?}"));
            }
        }
        left.extend(
            self.records()
                .await
                .into_iter()
                .filter(|(n, _)| n.contains(host_part))
                .map(|(n, t)| format!("record {n} {t}")),
        );
        let file = self.file().await;
        for env in file["environments"].as_array().into_iter().flatten() {
            if env.to_string().contains(host_part) {
                left.push(format!("file entry {env}"));
            }
        }
        left
    }
}

/// Another run's lease, renewed until dropped (see [`Aws::hold_lease`]).
pub struct LeaseHolder {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    renewing: Option<std::thread::JoinHandle<()>>,
}

impl Drop for LeaseHolder {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(renewing) = self.renewing.take() {
            let _ = renewing.join();
        }
    }
}
