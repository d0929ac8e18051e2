//! The plans that create and delete an environment: what is read first, which calls can run at
//! once, and what is undone when a step fails.

mod background;
mod create;
mod delete;
mod environments;
pub mod gc;
mod journal;
mod lease;
mod priority;
pub mod status;
pub mod wait;

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use create::{create, preview as preview_create, CreateRequest, Created};
pub use delete::{delete, preview as preview_delete, DeleteRequest, Deleted};
pub use lease::{DEFAULT_WAIT, LEASE_SECONDS};

/// One change a plan would make, for `--dry-run`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlannedChange {
    /// create, update or delete.
    pub action: &'static str,
    /// What kind of resource: service, target group, record...
    pub resource: &'static str,
    pub name: String,
}

impl PlannedChange {
    fn new(action: &'static str, resource: &'static str, name: impl Into<String>) -> Self {
        Self {
            action,
            resource,
            name: name.into(),
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
}

impl std::fmt::Display for PlannedChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "would {} {} {}", self.action, self.resource, self.name)
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

use crate::cloud::{AliasRecord, Cloud, ListenerRule, LoadBalancer, RecordType};
use crate::error::Error;
use crate::names::{dns_name, Names};
use crate::profile::Settings;
use background::Background;

/// The shared ALB as create and delete need it.
struct SharedAlb {
    alb: LoadBalancer,
    listener: String,
    rules: Vec<ListenerRule>,
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
/// when an earlier run learned which listener it is. A missing ALB has no listener either.
async fn listener_rules(cloud: &Cloud, s: &Settings) -> Result<(String, Vec<ListenerRule>), Error> {
    let alb_arn = &s.master_alb_arn;
    let hint = cloud.hints.listener(alb_arn);
    let hinted_rules = async {
        match &hint {
            Some(listener) => Some(cloud.elb.rules(listener).await),
            None => None,
        }
    };
    let (listener, hinted_rules) = futures::join!(cloud.elb.https_listener(alb_arn), hinted_rules);
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
    let rules = match hinted_rules {
        Some(Ok(rules)) if hint.as_deref() == Some(listener.as_str()) => rules,
        _ => {
            cloud.hints.learn_listener(alb_arn, &listener);
            cloud.elb.rules(&listener).await?
        }
    };
    Ok((listener, rules))
}

/// The dynamic zone's name as Route 53 has it, which also proves the zone exists.
async fn zone_name(cloud: &Cloud, s: &Settings) -> Result<String, Error> {
    let name = cloud.dns.zone_name(&s.zone_id).await?.ok_or_else(|| {
        Error::missing(
            "Route 53 hosted zone",
            &s.zone_id,
            "check dynamic_zone_id in the profile",
        )
    })?;
    cloud.hints.learn_zone_name(&s.zone_id, &name);
    Ok(name)
}

/// The environment's host name in the zone, and the alias records it has there.
async fn host_records(
    cloud: &Cloud,
    s: &Settings,
    names: &Names,
) -> Result<(String, Vec<AliasRecord>), Error> {
    let fqdn = host_name(cloud, s, names).await?;
    let records = alias_records(cloud, s, &fqdn).await?;
    Ok((fqdn, records))
}

/// Looks up the host's alias records on its own, for the one step that needs them.
fn lookup_records(cloud: &Cloud, s: &Settings, fqdn: &str) -> Background<Vec<AliasRecord>> {
    let (cloud, s, fqdn) = (cloud.clone(), s.clone(), fqdn.to_string());
    Background::start(async move { alias_records(&cloud, &s, &fqdn).await })
}

/// The alias records eden makes for a host: A, and AAAA when the shared ALB is dual-stack.
fn records_for(fqdn: &str, alb: &LoadBalancer) -> Vec<AliasRecord> {
    let mut types = vec![RecordType::A];
    if alb.dualstack {
        types.push(RecordType::Aaaa);
    }
    types
        .into_iter()
        .map(|record_type| AliasRecord {
            name: fqdn.to_string(),
            record_type,
            target_dns: alb.dns_name.clone(),
            target_zone: alb.canonical_zone_id.clone(),
        })
        .collect()
}

/// Whether two alias records are the same record pointing at the same target.
fn same_alias(a: &AliasRecord, b: &AliasRecord) -> bool {
    a.record_type == b.record_type
        && dns_name(&a.name) == dns_name(&b.name)
        && dns_name(&a.target_dns) == dns_name(&b.target_dns)
}

/// The environment's host name in the zone. The zone's name comes from the profile or an
/// earlier run when known (it never changes), without a call; else from Route 53.
async fn host_name(cloud: &Cloud, s: &Settings, names: &Names) -> Result<String, Error> {
    let known = s
        .zone_name
        .clone()
        .or_else(|| cloud.hints.zone_name(&s.zone_id));
    let zone = match known {
        Some(zone) => zone,
        None => zone_name(cloud, s).await?,
    };
    Ok(names.fqdn(&zone))
}

/// The alias records of a host name. A lookup that fails asks Route 53 for the zone, to say
/// when it is the zone that is missing.
async fn alias_records(cloud: &Cloud, s: &Settings, fqdn: &str) -> Result<Vec<AliasRecord>, Error> {
    match cloud.dns.alias_records(&s.zone_id, fqdn).await {
        Ok(records) => Ok(records),
        Err(lookup) => {
            zone_name(cloud, s).await?;
            Err(lookup)
        }
    }
}

/// The command that cleans up after a failure eden could not undo.
fn cleanup_command(s: &Settings, name: &str) -> String {
    format!("eden delete -p {} --name {name}", s.profile)
}

/// A short, jittered wait before retrying a lost race, so that racing writers spread out.
fn backoff(attempt: u32) -> Duration {
    let base = 20u64 << attempt.min(5);
    let mut random = std::collections::hash_map::RandomState::new().build_hasher();
    random.write_u32(attempt);
    Duration::from_millis(base / 2 + random.finish() % base)
}

/// Epoch seconds now.
fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Epoch milliseconds now.
fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}
