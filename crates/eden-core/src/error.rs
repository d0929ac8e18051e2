//! Every way eden can fail, each rendered as one line that says what failed and what to do.

/// What kind of AWS failure it was, which decides the advice a user gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsFailure {
    /// The credentials may not make this call.
    Denied,
    /// No credentials were found, or they expired.
    Credentials,
    /// The endpoint did not answer or the connection failed.
    Unreachable,
    /// AWS kept throttling after the SDK's retries.
    Throttled,
    /// An account or resource quota is reached (rules per ALB, say).
    Quota,
    /// Anything else AWS answered.
    Other,
}

impl AwsFailure {
    fn hint(self) -> &'static str {
        match self {
            AwsFailure::Denied => "check the IAM permissions of your AWS credentials",
            AwsFailure::Credentials => {
                "set AWS credentials (AWS_PROFILE, `aws sso login`, or AWS_ACCESS_KEY_ID)"
            }
            AwsFailure::Unreachable => "check your network and AWS_ENDPOINT_URL, then retry",
            AwsFailure::Throttled => "AWS is throttling this account; retry in a minute",
            AwsFailure::Quota => {
                "an AWS quota is reached: delete environments no longer needed (`eden ls`, `eden gc`), or raise the quota in Service Quotas"
            }
            AwsFailure::Other => "fix the cause above and run the command again",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid --name {name:?}: nothing is left after making it DNS-safe; use letters, digits and '-'")]
    InvalidName { name: String },

    #[error("invalid --name {name:?}: it is {len} characters once DNS-safe, at most {max} fit in AWS's names; use a shorter name")]
    NameTooLong {
        name: String,
        len: usize,
        max: usize,
    },

    #[error("host name {host} is {len} characters, and an ALB host condition takes at most {max}: use a shorter --name, domain_name_prefix or zone")]
    HostTooLong {
        host: String,
        len: usize,
        max: usize,
    },

    #[error(
        "invalid --image-uri {uri:?}: {why}; expected [REGISTRY/]REPOSITORY[:TAG|@sha256:DIGEST]"
    )]
    InvalidImageUri { uri: String, why: String },

    #[error("invalid --set-env {arg:?}: {why}; expected KEY=VALUE")]
    InvalidEnvVar { arg: String, why: String },

    #[error("invalid {flag} {value:?}: {why}; expected a duration such as 30s, 90m, 12h or 3d")]
    InvalidDuration {
        flag: &'static str,
        value: String,
        why: String,
    },

    #[error("image {uri} not found in ECR: push it first or fix --image-uri")]
    ImageNotFound { uri: String },

    #[error("config file {path} cannot be used: {why}")]
    ConfigFile { path: String, why: String },

    #[error("found {failed} error(s) in AWS: a prerequisite of the profile is missing or wrong; fix it as each FAIL line says")]
    Unprepared { failed: usize },

    #[error("profile {profile} not found in {path}: create it with `eden config setup -p {profile} ...` or pass its keys as flags")]
    UnknownProfile { profile: String, path: String },

    #[error("remote profile {profile} not found in DynamoDB table {table}: push it with `eden config push -p {profile}`")]
    UnknownRemoteProfile { profile: String, table: String },

    #[error("invalid profile name {profile:?}: {why}")]
    InvalidProfileName { profile: String, why: &'static str },

    #[error(
        "profile {profile}: {problem}; fix it with `eden config setup -p {profile}` or a flag"
    )]
    InvalidProfile { profile: String, problem: String },

    #[error("{key} {value:?} is malformed, expected {expected}")]
    InvalidProfileValue {
        key: String,
        value: String,
        expected: &'static str,
    },

    #[error("remote profile {profile} is corrupt ({why}): push it again with `eden config push -p {profile}`")]
    CorruptRemoteProfile { profile: String, why: String },

    #[error("gc skipped profile {profile}: {why}")]
    ProfileSkipped { profile: String, why: String },

    #[error("no AWS region is set: set AWS_REGION, or a region in your AWS config profile")]
    NoRegion,

    #[error("profile {profile} has its resources in {resources} (its reference_service_arn), but AWS calls go to {calls}: set AWS_REGION={resources}")]
    OtherRegion {
        profile: String,
        resources: String,
        calls: String,
    },

    #[error("{what} {id} not found: {hint}")]
    Missing {
        what: &'static str,
        id: String,
        hint: String,
    },

    #[error("environments file s3://{bucket}/{key} is not usable ({why}); eden will not overwrite it: fix or restore the file")]
    CorruptEnvironmentsFile {
        bucket: String,
        key: String,
        why: String,
    },

    #[error("DynamoDB table {table} {why}")]
    StateTable { table: String, why: String },

    #[error("{what} is not eden's: {why}; eden changes and deletes only what it made for this profile and name: {hint}")]
    NotOurs {
        what: String,
        why: String,
        hint: String,
    },

    #[error("--name {name} would make {what}, the reference's own: eden never changes the reference; use another --name")]
    ReferenceName { name: String, what: String },

    #[error("{what} stays: {by}, which eden did not make, still forwards to it; point that rule elsewhere or remove it, then run `{cleanup}` again")]
    InUse {
        what: String,
        by: String,
        cleanup: String,
    },

    #[error("{what} is busy: {why}; retry in a moment")]
    Busy { what: String, why: String },

    #[error("the shared ALB {alb} forwards to {target_groups} target groups, as many as AWS allows one ALB; delete environments no longer needed (`eden ls`, `eden gc`), or give this profile another shared ALB (master_alb_arn)")]
    AlbFull { alb: String, target_groups: usize },

    #[error("environment {name} is not ready: {why}; see `{status}` for its state")]
    NotReady {
        name: String,
        why: String,
        /// The command that shows the environment.
        status: String,
    },

    #[error("interrupted before the next step")]
    Interrupted,

    #[error("lost the lease of environment {name}: another eden run took it over, so this run stopped and undid nothing; `eden ls` shows the environment, `{cleanup}` removes it")]
    LeaseLost {
        name: String,
        /// The command that removes the environment.
        cleanup: String,
    },

    #[error("{action} {resource} failed: {message}; {}", .failure.hint())]
    Aws {
        action: String,
        resource: String,
        message: String,
        failure: AwsFailure,
    },

    #[error("eden's plan is inconsistent: {why}; this is a bug in eden, please report it")]
    PlanBroken { why: String },

    #[error("{cause}{}", undo_note(.leftovers, .cleanup))]
    RolledBack {
        cause: Box<Error>,
        /// What could not be undone.
        leftovers: Vec<String>,
        /// The command that removes the leftovers.
        cleanup: String,
    },

    #[error("{cause}; not undone, as this run could not make sure it still holds the environment's lease ({why}): another eden run may be finishing the environment; `eden ls` shows it, `{cleanup}` removes it")]
    Unfinished {
        cause: Box<Error>,
        why: String,
        /// The command that removes what is left.
        cleanup: String,
    },

    #[error("{cause}; the environment is no longer listed, as its state item could not be put back ({why}); `{cleanup}` removes what is left")]
    Unlisted {
        cause: Box<Error>,
        why: String,
        /// The command that removes what is left.
        cleanup: String,
    },
}

fn undo_note(leftovers: &[String], cleanup: &str) -> String {
    if leftovers.is_empty() {
        String::new()
    } else {
        format!(
            " (and could not undo: {}; run `{cleanup}` to remove them)",
            leftovers.join(", ")
        )
    }
}

impl Error {
    pub fn aws(
        action: impl Into<String>,
        resource: impl Into<String>,
        message: impl Into<String>,
        failure: AwsFailure,
    ) -> Self {
        Error::Aws {
            action: action.into(),
            resource: resource.into(),
            message: message.into(),
            failure,
        }
    }

    pub fn missing(what: &'static str, id: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Missing {
            what,
            id: id.into(),
            hint: hint.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_one_line_with_advice() {
        let e = Error::aws(
            "create target group",
            "dev-dynamic-foo",
            "AccessDenied: not authorized",
            AwsFailure::Denied,
        );
        assert_eq!(
            e.to_string(),
            "create target group dev-dynamic-foo failed: AccessDenied: not authorized; check the IAM permissions of your AWS credentials"
        );
        let rolled = Error::RolledBack {
            cause: Box::new(e),
            leftovers: vec!["target group x".into()],
            cleanup: "eden delete -p api --name foo".into(),
        };
        let line = rolled.to_string();
        assert!(
            line.contains("could not undo: target group x; run `eden delete -p api --name foo`")
        );
        assert!(!line.contains('\n'));
    }
}
