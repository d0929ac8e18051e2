//! Every failure as a status and `{"status": "error", "message": ...}`, never a stack trace.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use eden_core::Error;
use serde_json::json;

#[derive(Debug)]
pub enum ApiError {
    MissingKey,
    WrongKey,
    /// A parameter is missing or invalid; names it.
    BadRequest(String),
    /// No such endpoint.
    NotFound,
    /// The endpoint takes only GET and POST.
    MethodNotAllowed,
    /// The run's task ended without an answer (it panicked): a bug in eden.
    RunStopped(String),
    Core(Error),
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Core(e)
    }
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::MissingKey => StatusCode::UNAUTHORIZED,
            ApiError::WrongKey => StatusCode::FORBIDDEN,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RunStopped(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Core(e) => core_status(e),
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::MissingKey => "missing x-api-key header".into(),
            ApiError::WrongKey => "invalid API key".into(),
            ApiError::BadRequest(why) => why.clone(),
            ApiError::NotFound => {
                "no such endpoint: use /api/v1/create, /api/v1/delete or /api/v1/environments"
                    .into()
            }
            ApiError::MethodNotAllowed => "this endpoint takes GET or POST only".into(),
            ApiError::RunStopped(why) => format!(
                "the run stopped before its end ({why}); this is a bug in eden, please report it; \
                 call delete for the environment to remove what it may have left"
            ),
            ApiError::Core(e) => e.to_string(),
        }
    }
}

fn core_status(e: &Error) -> StatusCode {
    match e {
        Error::InvalidName { .. }
        | Error::NameTooLong { .. }
        | Error::HostTooLong { .. }
        | Error::InvalidImageUri { .. }
        | Error::ImageNotFound { .. }
        | Error::InvalidEnvVar { .. }
        | Error::InvalidDuration { .. }
        | Error::InvalidProfileName { .. }
        | Error::ReferenceName { .. } => StatusCode::BAD_REQUEST,
        Error::UnknownRemoteProfile { .. } => StatusCode::NOT_FOUND,
        Error::Busy { .. }
        | Error::AlbFull { .. }
        | Error::NotOurs { .. }
        | Error::InUse { .. }
        | Error::LeaseLost { .. } => StatusCode::CONFLICT,
        Error::NotReady { .. } => StatusCode::GATEWAY_TIMEOUT,
        Error::Interrupted => StatusCode::SERVICE_UNAVAILABLE,
        Error::RolledBack { cause, .. }
        | Error::Unfinished { cause, .. }
        | Error::Unlisted { cause, .. } => core_status(cause),
        // A pushed profile that does not work is the server's configuration to fix.
        Error::CorruptRemoteProfile { .. }
        | Error::ProfileSkipped { .. }
        | Error::InvalidProfile { .. }
        | Error::InvalidProfileValue { .. }
        | Error::ConfigFile { .. }
        | Error::Unprepared { .. }
        | Error::UnknownProfile { .. }
        | Error::NoRegion
        | Error::OtherRegion { .. }
        | Error::PlanBroken { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        Error::Aws { .. }
        | Error::Missing { .. }
        | Error::CorruptEnvironmentsFile { .. }
        | Error::StateTable { .. } => StatusCode::BAD_GATEWAY,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"status": "error", "message": self.message()});
        let mut response = (self.status(), Json(body)).into_response();
        if matches!(self, ApiError::MethodNotAllowed) {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        }
        response
    }
}
