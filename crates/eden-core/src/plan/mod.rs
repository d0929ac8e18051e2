//! The plans that create and delete an environment: what is read first, which calls can run at
//! once, and what is undone when a step fails.

mod apply;
mod calls;
mod create;
mod delete;
mod environments;
mod found;
pub mod gc;
mod lease;
#[cfg(test)]
mod on_fake_cloud;
mod priority;
mod records;
pub mod status;
mod step;
pub mod wait;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use create::{create, preview as preview_create, CreateRequest, Created};
pub use delete::{delete, preview as preview_delete, DeleteRequest, Deleted};
pub use lease::{DEFAULT_WAIT, LEASE_SECONDS};

/// One change a plan would make, for `--dry-run`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlannedChange {
    /// create, update, delete, keep or wait.
    pub action: &'static str,
    /// What kind of resource: service, target group, record...
    pub resource: &'static str,
    pub name: String,
    /// The changes it waits for, by their place in the plan's list: a dry run shows the order
    /// the run will follow.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<usize>,
}

impl PlannedChange {
    fn new(action: &'static str, resource: &'static str, name: impl Into<String>) -> Self {
        Self {
            action,
            resource,
            name: name.into(),
            after: Vec::new(),
        }
    }

    fn create(resource: &'static str, name: impl Into<String>) -> Self {
        Self::new("create", resource, name)
    }

    fn update(resource: &'static str, name: impl Into<String>) -> Self {
        Self::new("update", resource, name)
    }

    fn delete(resource: &'static str, name: impl Into<String>) -> Self {
        Self::new("delete", resource, name)
    }

    /// Something the run waits for before its first step.
    fn wait(resource: &'static str, name: impl Into<String>) -> Self {
        Self::new("wait", resource, name)
    }

    /// A resource of the environment's names that is not eden's, with why it stays.
    fn keep(resource: &'static str, name: impl Into<String>) -> Self {
        Self::new("keep", resource, name)
    }

    /// The resource and its name, as a run reports what it removed or left: `service NAME`.
    fn line(&self) -> String {
        format!("{} {}", self.resource, self.name)
    }
}

impl std::fmt::Display for PlannedChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.action {
            "keep" => write!(f, "would leave {} {}", self.resource, self.name),
            "wait" => write!(f, "would wait for {} {}", self.resource, self.name),
            action => write!(f, "would {action} {} {}", self.resource, self.name),
        }
    }
}

/// Set when the user interrupts a run: it makes no new call after the ones in flight, and a
/// create undoes what it made.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Between two steps: an error once a stop was requested.
    pub fn check(&self) -> Result<(), Error> {
        if self.is_requested() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }
}

use crate::cloud::{Cloud, ListenerRule, LoadBalancer, ServiceInfo};
use crate::error::Error;
use crate::names::{EnvName, Names};
use crate::profile::Settings;
use records::{host_records, records_for, same_alias};

/// The shared ALB as create and delete need it.
struct SharedAlb {
    alb: LoadBalancer,
    listener: String,
    rules: Vec<ListenerRule>,
}

/// How many target groups AWS lets one ALB forward to; a quota that cannot be raised.
const TARGET_GROUPS_PER_ALB: usize = 100;

impl SharedAlb {
    /// Refuses one more target group on an ALB whose listener forwards to as many as AWS allows
    /// (its other listeners' are not read: AWS refuses the rule then, and the run is undone).
    fn room_for_a_target_group(&self) -> Result<(), Error> {
        let forwarded: std::collections::BTreeSet<&String> =
            self.rules.iter().flat_map(|r| &r.target_groups).collect();
        if forwarded.len() < TARGET_GROUPS_PER_ALB {
            return Ok(());
        }
        Err(Error::AlbFull {
            alb: self.alb.arn.clone(),
            target_groups: forwarded.len(),
        })
    }
}

/// Reads the shared ALB, its HTTPS:443 listener and that listener's rules.
async fn shared_alb(cloud: &Cloud, s: &Settings) -> Result<SharedAlb, Error> {
    let alb_arn = &s.master_alb_arn;
    let (alb, listener) =
        futures::join!(cloud.elb.load_balancer(alb_arn), listener_rules(cloud, s));
    let alb = alb?.ok_or_else(|| {
        Error::missing("shared ALB", alb_arn, "check master_alb_arn in the profile")
    })?;
    let (listener, rules) = listener?;
    Ok(SharedAlb {
        alb,
        listener,
        rules,
    })
}

/// The shared ALB's HTTPS:443 listener and its rules: the rules at the same time as the listener
/// when the profile names the listener, and used only when the ALB has that listener; else one
/// round trip later. A missing ALB has no listener either.
async fn listener_rules(cloud: &Cloud, s: &Settings) -> Result<(String, Vec<ListenerRule>), Error> {
    let alb_arn = &s.master_alb_arn;
    let guess = s.listener_arn.as_deref();
    let guessed_rules = async {
        match guess {
            Some(listener) => Some(cloud.elb.rules(listener).await),
            None => None,
        }
    };
    let (listener, guessed_rules) =
        futures::join!(cloud.elb.https_listener(alb_arn), guessed_rules);
    let listener = listener?
        .ok_or_else(|| {
            Error::missing(
                "HTTPS:443 listener on shared ALB",
                alb_arn,
                "check master_alb_arn in the profile; the ALB needs an HTTPS listener on port 443 \
                 with a wildcard certificate for the dynamic zone",
            )
        })?
        .arn;
    let rules = match guessed_rules {
        Some(Ok(rules)) if guess == Some(listener.as_str()) => rules,
        _ => cloud.elb.rules(&listener).await?,
    };
    Ok((listener, rules))
}

/// The reference service and the environment's service, in one call when they share a cluster.
async fn services(
    cloud: &Cloud,
    s: &Settings,
    name: &str,
) -> Result<(Option<ServiceInfo>, Option<ServiceInfo>), Error> {
    let (reference, cluster) = (&s.reference.service, &s.target_cluster);
    if s.reference_cluster() != cluster {
        return futures::try_join!(
            cloud.ecs.service(s.reference_cluster(), reference),
            cloud.ecs.service(cluster, name)
        );
    }
    let found = cloud.ecs.services(cluster, &[reference, name]).await?;
    let named = |wanted: &str| found.iter().find(|svc| svc.name == wanted).cloned();
    Ok((named(reference), named(name)))
}

/// For a dry run, which takes no lease: a wait when another run holds the environment's. The
/// real run waits for that run and then reads again, so its plan may differ from the printed one.
async fn another_run(
    cloud: &Cloud,
    s: &Settings,
    names: &Names,
    table: &str,
) -> Result<Option<PlannedChange>, Error> {
    let held = cloud.table.lease_held(table, &lease::key(s, names)).await?;
    Ok(held.then(|| {
        let why = "another eden run is changing it; the plan is as things stand now";
        PlannedChange::wait("environment", format!("{} ({why})", names.resource))
    }))
}

/// Refuses, before any call, an environment whose service would be the reference service, and
/// a profile whose resources are in another region than the calls go to.
fn refuse_before_any_call(cloud: &Cloud, s: &Settings, env: &EnvName) -> Result<(), Error> {
    let resource = s.names(env).resource;
    if resource == s.reference.service {
        return Err(Error::ReferenceName {
            name: env.to_string(),
            what: format!("service {resource}"),
        });
    }
    s.check_region(&cloud.region)
}

/// Refuses an environment whose task definition family or target group would be the
/// reference's, once the reference service was read: eden never changes the reference.
fn refuse_reference(
    env: &EnvName,
    names: &Names,
    reference_task_definition: &str,
    reference_target_group: &str,
) -> Result<(), Error> {
    let what = if family_of(reference_task_definition) == Some(names.resource.as_str()) {
        format!("task definition family {}", names.resource)
    } else if target_group_name(reference_target_group) == Some(names.target_group.as_str()) {
        format!("target group {}", names.target_group)
    } else {
        return Ok(());
    };
    Err(Error::ReferenceName {
        name: env.to_string(),
        what,
    })
}

/// The family in `arn:...:task-definition/FAMILY:REVISION`.
fn family_of(arn: &str) -> Option<&str> {
    arn.rsplit_once(":task-definition/")?.1.split(':').next()
}

/// The name in `arn:...:targetgroup/NAME/ID`.
fn target_group_name(arn: &str) -> Option<&str> {
    arn.rsplit_once(":targetgroup/")?.1.split('/').next()
}

/// The command that cleans up after a failure eden could not undo.
fn cleanup_command(s: &Settings, name: &str) -> String {
    format!("eden delete -p {} --name {name}", s.profile)
}

/// A short, jittered wait before retrying a lost race, so that racing writers spread out.
fn backoff(attempt: u32) -> Duration {
    let base = 20u64 << attempt.min(5);
    Duration::from_millis(base / 2 + crate::cloud::random_u64() % base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_environment_may_not_have_the_references_family_or_target_group() {
        let names = |prefix: &str, env: &str| {
            let env = EnvName::parse(env).unwrap();
            (Names::new(env.clone(), prefix, "api", "c"), env)
        };
        let td = "arn:aws:ecs:us-east-1:1:task-definition/app-family:7";
        let tg = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/app-tg/0123";
        let (n, env) = names("app", "family");
        let e = refuse_reference(&env, &n, td, tg).unwrap_err().to_string();
        assert!(e.contains("task definition family app-family"), "{e}");
        let (n, env) = names("app", "tg");
        let e = refuse_reference(&env, &n, td, tg).unwrap_err().to_string();
        assert!(e.contains("target group app-tg"), "{e}");
        let (n, env) = names("app", "foo");
        assert!(refuse_reference(&env, &n, td, tg).is_ok());
    }
}
