//! A fixed delay per AWS call in front of moto, for `bench/bench` and `bench/trace`.
//!
//! `scripts/awsproxy.py` does the same and more (faults, throttling, Route 53's own checks of a
//! change), but its Python costs about 1.2 ms of CPU per call on the machine that also runs eden
//! and moto, and a create pays for it on its critical path: 16 ms a create with no latency on 2
//! cores (100 ms through it, 84 ms straight to moto). AWS's network costs the caller no CPU, so
//! the timing runs go through this one instead. Its control API is awsproxy.py's, for the rules
//! that timing uses (`latency_ms`, `service_latency_ms`, `operation_latency_ms`; GET
//! `/__proxy/stats` and `/__proxy/trace`); it lets Route 53 changes through as moto takes them.

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

/// Why a call could not be passed on: said back to the caller as a 502.
type Failure = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser)]
#[command(about = "A fixed delay per AWS call in front of moto")]
struct Args {
    /// Where the calls go: moto's URL.
    #[arg(long)]
    upstream: String,
    /// The loopback port to listen on.
    #[arg(long)]
    port: u16,
    /// The calls signed for SERVICE go to another moto, as AWS's services answer side by side.
    #[arg(long = "route", value_name = "SERVICE=URL")]
    routes: Vec<String>,
}

/// The rules posted to `/__proxy/rules`; awsproxy.py's other keys change nothing here.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RulesIn {
    latency_ms: u64,
    service_latency_ms: HashMap<String, u64>,
    operation_latency_ms: HashMap<String, u64>,
    faults: Vec<serde_json::Value>,
    throttle: Vec<serde_json::Value>,
}

/// The rules in force and what was seen since they were set.
struct Rules {
    set: RulesIn,
    epoch: Instant,
    calls: BTreeMap<String, u64>,
    /// Milliseconds the upstream took, per operation.
    upstream_ms: BTreeMap<String, f64>,
    /// (operation, received ms, answered ms, service), in ms since the rules were set.
    trace: Vec<(String, f64, f64, String)>,
}

impl Rules {
    fn new(set: RulesIn) -> Self {
        Rules {
            set,
            epoch: Instant::now(),
            calls: BTreeMap::new(),
            upstream_ms: BTreeMap::new(),
            trace: Vec::new(),
        }
    }

    fn latency(&self, operation: &str, service: &str) -> Duration {
        let ms = self
            .set
            .operation_latency_ms
            .get(operation)
            .or_else(|| self.set.service_latency_ms.get(service))
            .unwrap_or(&self.set.latency_ms);
        Duration::from_millis(*ms)
    }

    fn since_epoch(&self, at: Instant) -> f64 {
        (at.saturating_duration_since(self.epoch).as_secs_f64() * 10_000.0).round() / 10.0
    }

    fn stats(&self) -> serde_json::Value {
        let mut stats = serde_json::Map::new();
        for (operation, calls) in &self.calls {
            stats.insert(operation.clone(), (*calls).into());
        }
        for (operation, ms) in &self.upstream_ms {
            stats.insert(
                format!("ms:{operation}"),
                ((ms * 10.0).round() / 10.0).into(),
            );
        }
        stats.into()
    }
}

struct Proxy {
    client: Client<HttpConnector, Full<Bytes>>,
    upstream: String,
    routes: HashMap<String, String>,
    rules: Mutex<Rules>,
}

impl Proxy {
    fn rules(&self) -> MutexGuard<'_, Rules> {
        self.rules
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn control(&self, method: &Method, path: &str, body: &[u8]) -> Response {
        if method == Method::POST && path == "/__proxy/rules" {
            let body = if body.is_empty() { &b"{}"[..] } else { body };
            let set: RulesIn = match serde_json::from_slice(body) {
                Ok(set) => set,
                Err(e) => return (StatusCode::BAD_REQUEST, format!("rules: {e}")).into_response(),
            };
            if !set.faults.is_empty() || !set.throttle.is_empty() {
                let why = "faults and throttling are scripts/awsproxy.py's";
                return (StatusCode::BAD_REQUEST, why).into_response();
            }
            *self.rules() = Rules::new(set);
            return json(serde_json::json!({}));
        }
        let rules = self.rules();
        match path {
            "/__proxy/trace" => json(serde_json::json!(rules.trace)),
            _ => json(rules.stats()),
        }
    }

    async fn forward(&self, request: Request) -> Result<Response, Failure> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await?.to_bytes();
        if parts.uri.path().starts_with("/__proxy/") {
            return Ok(self.control(&parts.method, parts.uri.path(), &body));
        }
        let received = Instant::now();
        let operation = operation_of(&parts.method, &parts.uri, &parts.headers, &body);
        let service = service_of(&parts.headers);
        let latency = {
            let mut rules = self.rules();
            *rules.calls.entry(operation.clone()).or_default() += 1;
            rules.latency(&operation, &service)
        };
        tokio::time::sleep(latency).await;

        let upstream = self.routes.get(&service).unwrap_or(&self.upstream);
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut call = axum::http::Request::builder()
            .method(parts.method.clone())
            .uri(format!("{upstream}{path}"));
        for (name, value) in &parts.headers {
            // The Host header goes as it came: moto reads S3's addressing style from it.
            if !framing(name) {
                call = call.header(name, value);
            }
        }
        let call = call.body(Full::new(body))?;
        let started = Instant::now();
        let answer = self.client.request(call).await?;
        let (answer, data) = answer.into_parts();
        let data = data.collect().await?.to_bytes();
        let upstream_ms = started.elapsed().as_secs_f64() * 1000.0;

        let mut response = Response::builder().status(answer.status);
        for (name, value) in &answer.headers {
            // A HEAD answer's length is the object's, not of a body hyper frames.
            let length_of_head = name == header::CONTENT_LENGTH && parts.method == Method::HEAD;
            if length_of_head || !(framing(name) || name == header::SERVER || name == header::DATE)
            {
                response = response.header(name, value);
            }
        }
        let response = response.body(Body::from(data))?;
        let mut rules = self.rules();
        *rules.upstream_ms.entry(operation.clone()).or_default() += upstream_ms;
        let (received, answered) = (
            rules.since_epoch(received),
            rules.since_epoch(Instant::now()),
        );
        rules.trace.push((operation, received, answered, service));
        Ok(response)
    }
}

/// Headers that say how a body is framed on its connection: hyper sets them for the body it sends.
fn framing(name: &header::HeaderName) -> bool {
    name == header::CONNECTION
        || name == header::TRANSFER_ENCODING
        || name == header::CONTENT_LENGTH
}

fn json(value: serde_json::Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// The service a call is signed for: the fourth part of the SigV4 credential scope.
fn service_of(headers: &HeaderMap) -> String {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    authorization
        .split_once("Credential=")
        .and_then(|(_, scope)| scope.split('/').nth(3))
        .unwrap_or_default()
        .to_string()
}

/// The AWS operation of a call, by its protocol: JSON's target header, the query protocol's
/// Action, Route 53's REST paths, else S3's methods.
fn operation_of(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> String {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(target) = text("x-amz-target") {
        return target.rsplit('.').next().unwrap_or(target).to_string();
    }
    let form =
        text("content-type").is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if method == Method::POST && form {
        return form_urlencoded::parse(body)
            .find(|(key, _)| key == "Action")
            .map_or_else(|| "Unknown".to_string(), |(_, action)| action.into_owned());
    }
    if let Some(route53) = uri.path().strip_prefix("/2013-04-01/") {
        let parts: Vec<&str> = route53.trim_end_matches('/').split('/').collect();
        return match (parts.as_slice(), method) {
            ([.., "rrset"], &Method::POST) => "ChangeResourceRecordSets".into(),
            ([.., "rrset"], _) => "ListResourceRecordSets".into(),
            (["hostedzone", _], &Method::GET) => "GetHostedZone".into(),
            _ => format!("Route53{method}"),
        };
    }
    match *method {
        Method::GET => "GetObject".into(),
        Method::PUT => "PutObject".into(),
        Method::HEAD => "HeadObject".into(),
        Method::DELETE => "DeleteObject".into(),
        _ => format!("S3{method}"),
    }
}

async fn handle(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    match proxy.forward(request).await {
        Ok(response) => response,
        Err(e) => (StatusCode::BAD_GATEWAY, format!("latency-proxy: {e}")).into_response(),
    }
}

async fn run(args: Args) -> Result<(), String> {
    let mut routes = HashMap::new();
    for route in &args.routes {
        let (service, url) = route
            .split_once('=')
            .ok_or_else(|| format!("--route {route}: expected SERVICE=URL"))?;
        routes.insert(service.to_string(), url.trim_end_matches('/').to_string());
    }
    let proxy = Arc::new(Proxy {
        client: Client::builder(TokioExecutor::new()).build_http(),
        upstream: args.upstream.trim_end_matches('/').to_string(),
        routes,
        rules: Mutex::new(Rules::new(RulesIn::default())),
    });
    let app = axum::Router::new().fallback(handle).with_state(proxy);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latency-proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operation(method: Method, path: &str, headers: &[(&str, &str)], body: &str) -> String {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                header::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                value.parse().expect("a header value"),
            );
        }
        let uri: Uri = path.parse().expect("a path");
        operation_of(&method, &uri, &map, body.as_bytes())
    }

    #[test]
    fn operations_are_named_as_awsproxy_names_them() {
        let json = [("x-amz-target", "DynamoDB_20120810.PutItem")];
        assert_eq!(operation(Method::POST, "/", &json, "{}"), "PutItem");
        let form = [(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )];
        let query = "Version=2015-12-01&Action=CreateRule&ListenerArn=x";
        assert_eq!(operation(Method::POST, "/", &form, query), "CreateRule");
        let rrset = "/2013-04-01/hostedzone/Z1/rrset";
        assert_eq!(
            operation(Method::POST, rrset, &[], ""),
            "ChangeResourceRecordSets"
        );
        let lookup = "/2013-04-01/hostedzone/Z1/rrset?name=a.&maxitems=1";
        assert_eq!(
            operation(Method::GET, lookup, &[], ""),
            "ListResourceRecordSets"
        );
        assert_eq!(
            operation(Method::GET, "/2013-04-01/hostedzone/Z1", &[], ""),
            "GetHostedZone"
        );
        assert_eq!(
            operation(Method::PUT, "/bucket/key.json", &[], "{}"),
            "PutObject"
        );
    }

    #[test]
    fn the_service_is_the_credential_scopes_fourth_part() {
        let mut headers = HeaderMap::new();
        let signed = "AWS4-HMAC-SHA256 Credential=lab/20261202/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=0";
        headers.insert(
            header::AUTHORIZATION,
            signed.parse().expect("a header value"),
        );
        assert_eq!(service_of(&headers), "ecs");
        assert_eq!(service_of(&HeaderMap::new()), "");
    }
}
