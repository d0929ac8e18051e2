//! SDK errors turned into the core's one-line errors.

use aws_sdk_ecs::config::http::HttpResponse;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use eden_core::error::{AwsFailure, Error};

/// Maps any SDK error of `action` on `resource`.
pub fn aws<E>(action: &str, resource: &str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (message, failure) = match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let message = e.message().map(one_line).unwrap_or_default();
            match e.code() {
                Some(code) => (format!("{code}: {message}"), classify(code)),
                // An answer the SDK could not parse: say what its status means, and what its
                // body says, as Route 53 answers in a shape of its own at times.
                None => {
                    let (status, failure) = status_only(service.raw().status().as_u16());
                    match service.raw().body().bytes().and_then(body_message) {
                        Some(said) => (format!("{status}: {said}"), failure),
                        None => (status, failure),
                    }
                }
            }
        }
        SdkError::TimeoutError(_) => ("no answer in time".to_string(), AwsFailure::Unreachable),
        _ => {
            let text = causes(&err);
            if text.contains("credential") {
                (
                    "no AWS credentials were found".to_string(),
                    AwsFailure::Credentials,
                )
            } else {
                (text, AwsFailure::Unreachable)
            }
        }
    };
    Error::aws(action, resource, message, failure)
}

/// The error code of a service error, for the cases a caller handles itself.
pub fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

/// The failure of an answer without an error code, from its HTTP status.
fn status_only(status: u16) -> (String, AwsFailure) {
    match status {
        403 => ("HTTP 403, access denied".into(), AwsFailure::Denied),
        429 => ("HTTP 429, too many requests".into(), AwsFailure::Throttled),
        500..=599 => (
            format!("HTTP {status}, a server error"),
            AwsFailure::Unreachable,
        ),
        _ => (
            format!("HTTP {status} without an error code"),
            AwsFailure::Other,
        ),
    }
}

fn classify(code: &str) -> AwsFailure {
    match code {
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "UnauthorizedAccess"
        | "Forbidden" => AwsFailure::Denied,
        "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch" => AwsFailure::Credentials,
        c if c.contains("Throttl") || c.contains("TooManyRequests") || c == "SlowDown" => {
            AwsFailure::Throttled
        }
        // ELB's TooManyRules, TooManyUniqueTargetGroupsPerLoadBalancer...; ECS's and DynamoDB's
        // LimitExceededException.
        c if c.starts_with("TooMany") || c.contains("LimitExceeded") => AwsFailure::Quota,
        _ => AwsFailure::Other,
    }
}

/// The error and its causes, by their messages only (never a Debug dump), without repeats.
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = one_line(&e.to_string());
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The first `<Message>` of an XML error body.
fn body_message(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let (_, rest) = text.split_once("<Message>")?;
    let (message, _) = rest.split_once("</Message>")?;
    Some(one_line(message))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_advice() {
        assert_eq!(classify("AccessDeniedException"), AwsFailure::Denied);
        assert_eq!(classify("ThrottlingException"), AwsFailure::Throttled);
        assert_eq!(classify("Throttling"), AwsFailure::Throttled);
        assert_eq!(classify("ExpiredToken"), AwsFailure::Credentials);
        assert_eq!(classify("TooManyRules"), AwsFailure::Quota);
        assert_eq!(classify("TooManyRequestsException"), AwsFailure::Throttled);
        assert_eq!(classify("ValidationError"), AwsFailure::Other);
        assert_eq!(one_line("a\n  b\tc"), "a b c");
        assert_eq!(status_only(403).1, AwsFailure::Denied);
        assert_eq!(status_only(503).1, AwsFailure::Unreachable);
    }

    #[test]
    fn an_error_body_the_sdk_cannot_read_still_says_why() {
        let legacy = b"<?xml version=\"1.0\"?>\n<InvalidChangeBatch xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Messages><Message>Tried to create resource record set [name='a.example.com.', type='A'] but it already exists</Message></Messages><RequestId>r</RequestId></InvalidChangeBatch>";
        assert_eq!(
            body_message(legacy).as_deref(),
            Some("Tried to create resource record set [name='a.example.com.', type='A'] but it already exists")
        );
        assert_eq!(body_message(b"<html>busy</html>"), None);
    }
}
