//! The endpoints: parameters in, the core's plans run, JSON out.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::Json;
use eden_core::expiry::Ttl;
use eden_core::image::ImageUri;
use eden_core::names::EnvName;
use eden_core::plan::gc::{self, GcRequest, ProfileSource};
use eden_core::plan::{self, CreateRequest, DeleteRequest, Stop};
use eden_core::profile::{Settings, DEFAULT_PROFILE};
use eden_core::remote;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::App;

/// An API call never waits for another run of the same environment: it answers 409 at once,
/// well within API Gateway's 29 seconds.
const NO_WAIT: Duration = Duration::ZERO;

/// The fields of create and delete, from the query string or a JSON body.
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    name: Option<String>,
    image_uri: Option<String>,
    profile: Option<String>,
    /// As `eden create --ttl`: `30s`, `90m`, `12h`, `3d`.
    ttl: Option<String>,
}

/// A parameter the call cannot do without.
fn required<'a>(field: &'a Option<String>, name: &str) -> Result<&'a str, ApiError> {
    field
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::BadRequest(format!("missing parameter {name}")))
}

impl Params {
    fn profile(&self) -> &str {
        self.profile
            .as_deref()
            .filter(|p| !p.is_empty())
            .unwrap_or(DEFAULT_PROFILE)
    }
}

/// The query string's fields, or a 400 in the JSON envelope (axum answers in plain text).
fn query<T>(params: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    params
        .map(|Query(params)| params)
        .map_err(|e| ApiError::BadRequest(format!("invalid query string: {}", e.body_text())))
}

/// The JSON body's fields, or a 400 in the JSON envelope, for a body that is not JSON, not of
/// the right types, or not sent as JSON.
fn body<T>(params: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    params
        .map(|Json(params)| params)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {}", e.body_text())))
}

/// Runs a call that changes AWS to its end in a task of its own, among the app's runs. axum
/// drops the handler of a client that hangs up; a plan dropped halfway would leave what it made
/// without its undo, and its lease held.
async fn to_the_end<F>(
    app: Arc<App>,
    call: impl FnOnce(Arc<App>) -> F,
) -> Result<Json<Value>, ApiError>
where
    F: Future<Output = Result<Json<Value>, ApiError>> + Send + 'static,
{
    let runs = app.runs.clone();
    let run = runs.spawn(call(app)).await;
    run.unwrap_or_else(|stopped| Err(ApiError::RunStopped(stopped.to_string())))
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// HEAD, OPTIONS and any other method on an endpoint that changes AWS: never run it (axum
/// would answer a HEAD with the GET handler).
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn create_query(
    State(app): State<Arc<App>>,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let params = query(params)?;
    to_the_end(app, |app| async move { create(&app, params).await }).await
}

pub async fn create_json(
    State(app): State<Arc<App>>,
    params: Result<Json<Params>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let params = body(params)?;
    to_the_end(app, |app| async move { create(&app, params).await }).await
}

pub async fn delete_query(
    State(app): State<Arc<App>>,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let params = query(params)?;
    to_the_end(app, |app| async move { delete(&app, params).await }).await
}

pub async fn delete_json(
    State(app): State<Arc<App>>,
    params: Result<Json<Params>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let params = body(params)?;
    to_the_end(app, |app| async move { delete(&app, params).await }).await
}

async fn create(app: &App, params: Params) -> Result<Json<Value>, ApiError> {
    // Everything the caller sent is checked before the first AWS call.
    let name = EnvName::parse(required(&params.name, "name")?)
        .map_err(|e| ApiError::BadRequest(format!("invalid parameter name: {e}")))?;
    let image = ImageUri::parse(required(&params.image_uri, "image_uri")?)
        .map_err(|e| ApiError::BadRequest(format!("invalid parameter image_uri: {e}")))?;
    let ttl = match params.ttl.as_deref().filter(|t| !t.is_empty()) {
        Some(ttl) => Some(
            Ttl::parse(ttl)
                .map_err(|e| ApiError::BadRequest(format!("invalid parameter ttl: {e}")))?,
        ),
        None => None,
    };
    let settings = settings(app, params.profile()).await?;
    let request = CreateRequest {
        name,
        image,
        table: app.table.clone(),
        wait: NO_WAIT,
        environment: Vec::new(),
        ttl,
    };
    let created = plan::create(&app.cloud, &settings, &request, &Stop::default()).await?;
    Ok(ok(&created))
}

async fn delete(app: &App, params: Params) -> Result<Json<Value>, ApiError> {
    let name = EnvName::parse(required(&params.name, "name")?)
        .map_err(|e| ApiError::BadRequest(format!("invalid parameter name: {e}")))?;
    let settings = settings(app, params.profile()).await?;
    let request = DeleteRequest {
        name,
        table: app.table.clone(),
        wait: NO_WAIT,
    };
    let deleted = plan::delete(&app.cloud, &settings, &request, &Stop::default()).await?;
    Ok(ok(&deleted))
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    profile: Option<String>,
}

/// What `eden ls` shows, as JSON.
pub async fn environments(
    State(app): State<Arc<App>>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let params = query(params)?;
    let environments =
        remote::environments(&app.cloud, &app.table, params.profile.as_deref()).await?;
    Ok(ok(&json!({"environments": environments})))
}

/// `{"status": "ok", ...}` with the fields of `document`, the same JSON `eden -o json` prints.
fn ok(document: &impl serde::Serialize) -> Json<Value> {
    let mut answer = json!({"status": "ok"});
    if let (Some(answer), Ok(Value::Object(fields))) =
        (answer.as_object_mut(), serde_json::to_value(document))
    {
        answer.extend(fields);
    }
    Json(answer)
}

/// Only remote profiles, pushed with `eden config push`, are usable over the API.
async fn settings(app: &App, profile: &str) -> Result<Settings, ApiError> {
    let profile_values = remote::pull(&app.cloud, &app.table, profile).await?;
    Ok(profile_values.settings(profile)?)
}

/// The fields of gc, from the query string or a JSON body.
#[derive(Debug, Default, Deserialize)]
pub struct GcParams {
    profile: Option<String>,
    #[serde(default)]
    orphans: bool,
    #[serde(default)]
    dry_run: bool,
}

pub async fn gc_query(
    State(app): State<Arc<App>>,
    params: Result<Query<GcParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let params = query(params)?;
    to_the_end(app, |app| async move { gc(&app, params).await }).await
}

pub async fn gc_json(
    State(app): State<Arc<App>>,
    params: Result<Json<GcParams>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let params = body(params)?;
    to_the_end(app, |app| async move { gc(&app, params).await }).await
}

/// As `eden gc`, over the remote profiles: for a schedule (EventBridge, cron) to call.
async fn gc(app: &App, params: GcParams) -> Result<Json<Value>, ApiError> {
    let req = GcRequest {
        profile: params.profile.filter(|p| !p.is_empty()),
        orphans: params.orphans,
        dry_run: params.dry_run,
        table: app.table.clone(),
        wait: NO_WAIT,
    };
    let mut profiles = RemoteProfiles { app };
    let report = gc::collect(&app.cloud, &req, &mut profiles, &Stop::default()).await?;
    if let Some(first) = report.failures.into_iter().next() {
        return Err(first.into());
    }
    let mut answer = json!({"dry_run": req.dry_run, "environments": report.swept});
    if !report.skipped.is_empty() {
        answer["skipped"] = json!(report.skipped);
    }
    Ok(ok(&answer))
}

struct RemoteProfiles<'a> {
    app: &'a App,
}

#[async_trait::async_trait]
impl ProfileSource for RemoteProfiles<'_> {
    async fn settings(&mut self, profile: &str) -> Result<Settings, eden_core::Error> {
        remote::pull(&self.app.cloud, &self.app.table, profile)
            .await?
            .settings(profile)
    }

    async fn all(&mut self) -> Result<Vec<String>, eden_core::Error> {
        self.app.cloud.table.profiles(&self.app.table).await
    }
}
