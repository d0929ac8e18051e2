//! `eden delete`: remove an environment in the reverse order of its creation. Every step skips
//! what is already gone, so a delete that failed part-way is finished by running it again.
//!
//! Order of calls (the longest chain is 3 calls):
//! 1. the environment's lease, and with it every read: the records, the shared ALB and its
//!    listener's rules, the service, the target group, the task definition revisions, the
//!    environments file (read again under the lease when another run just held it). The records
//!    need the zone's name and the rules the listener: with no hint of them (see
//!    [`crate::hints`]) those two reads come one round trip later;
//! 2. the environments file entry, the DNS records, the listener rule, the service (with force,
//!    so running tasks do not hold it up) and every task definition revision, at once. The
//!    records eden makes are deleted without waiting for their lookup when it is not back yet
//!    (Route 53, in us-east-1, is often the slowest to answer); the lookup then shows what else
//!    the host has;
//! 3. the target group, once everything else is gone (AWS keeps it while a rule uses it), and
//!    alongside it the lease released and the state item removed, in one write (see
//!    [`Leased::last_call_gone`]): until the rest is gone, `eden ls` lists the environment, and
//!    when the target group stays, the lease and the state item are put back.

use tracing::info;

use super::background::Background;
use super::environments;
use super::lease::{Afterwards, Leased};
use super::PlannedChange;
use super::Stop;
use crate::cloud::{AliasRecord, Cloud, EnvironmentItem, Object, ServiceInfo, TargetGroup};
use crate::envfile::Change;
use crate::envfile::EnvironmentsFile;
use crate::error::Error;
use crate::names::{EnvName, Names};
use crate::profile::Settings;

#[derive(Debug, Clone)]
pub struct DeleteRequest {
    pub name: EnvName,
    /// The DynamoDB state table.
    pub table: String,
    /// How long to wait while another run changes the same environment.
    pub wait: std::time::Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Deleted {
    pub profile: String,
    pub name: String,
    pub endpoint: String,
    /// What was there and is now gone.
    pub removed: Vec<String>,
}

pub async fn delete(
    cloud: &Cloud,
    s: &Settings,
    req: &DeleteRequest,
    stop: &Stop,
) -> Result<Deleted, Error> {
    let lease = &Leased::new(&req.name, &req.table, req.wait);
    lease
        .run(
            cloud,
            s,
            stop,
            |names| async move {
                let found = look(cloud, s, &names).await?;
                Ok((names, found))
            },
            // A delete that reads what another delete is removing removes what is left.
            |_| false,
            |found| async move {
                let (names, found) = found?;
                // The environment as `eden ls` shows it, should it have to be listed again:
                // expired at once, so that `eden gc` finishes what was asked to go.
                let now = super::now();
                let listed = EnvironmentItem {
                    profile: s.profile.clone(),
                    name: names.resource.clone(),
                    endpoint: found.fqdn.clone(),
                    last_updated: now,
                    expires_at: Some(now),
                    ttl_seconds: None,
                };
                remove(cloud, s, lease, names, found, Some(&listed), stop).await
            },
            // The state item goes last, with the lease: an environment that could not be
            // deleted whole stays listed, for the next delete or gc to finish.
            |result| match result {
                Ok(_) => Afterwards::Gone,
                Err(_) => Afterwards::Undone,
            },
        )
        .await
}

/// What of an environment is there.
pub(super) struct Found {
    file: (Option<Object>, EnvironmentsFile),
    fqdn: String,
    /// The records eden makes for the host, with the shared ALB as it is now.
    expected: Vec<AliasRecord>,
    /// The host's alias records as Route 53 lists them, still being read.
    records: Background<Vec<AliasRecord>>,
    /// The shared listener's rules for the host or the target group.
    rules: Vec<String>,
    service: Option<ServiceInfo>,
    target_group: Option<TargetGroup>,
    revisions: Vec<String>,
}

/// Step 1: every read, at once.
pub(super) async fn look(cloud: &Cloud, s: &Settings, names: &Names) -> Result<Found, Error> {
    let (file, (fqdn, records), shared, service, target_group, revisions) = futures::try_join!(
        environments::read(cloud, &s.bucket, &s.key),
        super::host_lookup(cloud, s, names),
        super::shared_alb(cloud, s),
        cloud.ecs.service(&s.target_cluster, &names.resource),
        cloud.elb.target_group(&names.target_group),
        cloud.ecs.task_definitions(&names.resource),
    )?;
    let rules = shared
        .rules
        .iter()
        .filter(|r| {
            r.serves_host(&fqdn)
                || target_group
                    .as_ref()
                    .is_some_and(|tg| r.target_groups.contains(&tg.arn))
        })
        .map(|r| r.arn.clone())
        .collect();
    Ok(Found {
        file,
        expected: super::records_for(&fqdn, &shared.alb),
        fqdn,
        records,
        rules,
        service: service.filter(ServiceInfo::is_active),
        target_group,
        revisions,
    })
}

/// What delete would remove, changing nothing.
pub async fn preview(
    cloud: &Cloud,
    s: &Settings,
    req: &DeleteRequest,
) -> Result<Vec<PlannedChange>, Error> {
    let names = s.names(&req.name);
    let found = look(cloud, s, &names).await?;
    let mut changes = Vec::new();
    let entry = &names.file_entry;
    if found.file.1.endpoint(entry, &s.update_key).is_some() {
        changes.push(PlannedChange::delete(
            "config key",
            format!("{} of {entry} in s3://{}/{}", s.update_key, s.bucket, s.key),
        ));
    }
    changes.push(PlannedChange::delete(
        "state item",
        format!("{} in table {}", names.resource, req.table),
    ));
    for record in &found.records.get().await? {
        changes.push(PlannedChange::delete(
            "record",
            format!("{} {:?}", record.name, record.record_type),
        ));
    }
    for rule in &found.rules {
        changes.push(PlannedChange::delete("listener rule", rule.clone()));
    }
    if let Some(service) = &found.service {
        changes.push(PlannedChange::delete("service", service.name.clone()));
    }
    for revision in &found.revisions {
        changes.push(PlannedChange::delete("task definition", revision.clone()));
    }
    if let Some(tg) = &found.target_group {
        changes.push(PlannedChange::delete("target group", tg.name.clone()));
    }
    Ok(changes)
}

/// Steps 2 and 3, under `lease`; `listed` is the state item put back should the target group
/// stay.
pub(super) async fn remove(
    cloud: &Cloud,
    s: &Settings,
    lease: &Leased<'_>,
    names: Names,
    found: Found,
    listed: Option<&EnvironmentItem>,
    stop: &Stop,
) -> Result<Deleted, Error> {
    let Found {
        file,
        fqdn,
        expected,
        records,
        rules,
        service,
        target_group,
        revisions,
    } = found;
    let mut removed = Vec::new();
    stop.check()?;

    // Step 2. `join`, not `try_join`: every removal runs to its end, so that one failure
    // leaves as little as possible for the next run.
    let entry = &names.file_entry;
    info!(
        "Updating config file s3://{}/{}, delete environment {entry}: {} -> {fqdn}",
        s.bucket, s.key, s.update_key
    );
    // The rules, on the chain to the target group, first: where calls queue (moto, or a
    // throttled API), they go ahead of calls with time to spare.
    let (rules_gone, file, records_gone, service_gone, tds_gone) = futures::join!(
        delete_rules(cloud, &fqdn, &rules),
        environments::update(cloud, &s.bucket, &s.key, Some(file), |f| f
            .remove_endpoint(entry, &s.update_key)),
        delete_records(cloud, s, &fqdn, &expected, records),
        delete_service(cloud, s, &names, service.as_ref()),
        delete_task_definitions(cloud, &names, &revisions),
    );
    match file? {
        Change::Unchanged => info!("Config file has no {} for {entry}, skipping", s.update_key),
        Change::Removed => {
            info!(
                "Existing environment found, and the only optional key is {}, deleting environment",
                s.update_key
            );
            removed.push(format!("config entry {entry}"));
        }
        _ => {
            info!(
                "Existing environment found, removing {} in-place",
                s.update_key
            );
            removed.push(format!("config key {} of {entry}", s.update_key));
        }
    }
    let rules_gone = rules_gone?;
    removed.extend(records_gone?);
    removed.extend(rules_gone);
    removed.extend(service_gone?);
    removed.extend(tds_gone?);
    stop.check()?;

    // Step 3.
    let delete_it = delete_target_group(cloud, &names, target_group.as_ref());
    let target_group_gone = lease.last_call_gone(cloud, s, listed, delete_it).await?;
    removed.extend(target_group_gone);

    info!(
        "Successfully finished deleting environment {}",
        names.resource
    );
    cloud
        .hints
        .learn_environment(&s.profile, &names.resource, false);
    Ok(Deleted {
        profile: s.profile.clone(),
        name: names.resource,
        endpoint: fqdn,
        removed,
    })
}

/// Removes the host's alias records. While their lookup is not back, the records eden makes
/// are deleted without it (Route 53 deletes a record only when given its exact values); the
/// lookup then shows what else the host has, such as an AAAA record the ALB no longer needs.
async fn delete_records(
    cloud: &Cloud,
    s: &Settings,
    fqdn: &str,
    expected: &[AliasRecord],
    listed: Background<Vec<AliasRecord>>,
) -> Result<Option<String>, Error> {
    info!("Checking if record {fqdn}. exists in zone {}", s.zone_id);
    let early = !listed.is_done() && cloud.dns.delete(&s.zone_id, expected).await?;
    let listed = listed.get().await?;
    if listed.is_empty() {
        // Also when moto took the early DELETE of what was gone already, as Route 53 would not.
        info!("Record for {fqdn} does not exist, skipping deletion");
        return Ok(None);
    }
    info!("Found existing record {fqdn}. in zone {}", s.zone_id);
    let left: Vec<AliasRecord> = if early {
        listed
            .into_iter()
            .filter(|r| !expected.iter().any(|e| super::same_alias(e, r)))
            .collect()
    } else {
        listed
    };
    if !left.is_empty() {
        cloud.dns.delete(&s.zone_id, &left).await?;
    }
    info!("Successfully removed ALIAS record {fqdn}");
    Ok(Some(format!("record {fqdn}")))
}

async fn delete_rules(cloud: &Cloud, fqdn: &str, rules: &[String]) -> Result<Vec<String>, Error> {
    if rules.is_empty() {
        info!("ELBv2 listener rule for host {fqdn} does not exist, skipping deletion");
    }
    let deletions = rules.iter().map(|arn| async move {
        info!("ELBv2 listener rule for host {fqdn} found, will delete");
        cloud.elb.delete_rule(arn).await?;
        Ok::<_, Error>(format!("listener rule {arn}"))
    });
    futures::future::join_all(deletions)
        .await
        .into_iter()
        .collect()
}

async fn delete_service(
    cloud: &Cloud,
    s: &Settings,
    names: &Names,
    service: Option<&ServiceInfo>,
) -> Result<Option<String>, Error> {
    let name = &names.resource;
    match service {
        Some(svc) if svc.is_active() => {
            info!("ECS Service {name} exists, will delete");
            cloud.ecs.delete_service(&s.target_cluster, name).await?;
            info!(
                "Successfully deleted service {name} from cluster {}",
                s.target_cluster
            );
            Ok(Some(format!("service {name}")))
        }
        _ => {
            info!("ECS Service {name} not found, skipping deletion");
            Ok(None)
        }
    }
}

async fn delete_target_group(
    cloud: &Cloud,
    names: &Names,
    target_group: Option<&TargetGroup>,
) -> Result<Option<String>, Error> {
    let Some(tg) = target_group else {
        info!(
            "Target group {} not found, skipping deletion",
            names.target_group
        );
        return Ok(None);
    };
    cloud.elb.delete_target_group(&tg.arn).await?;
    info!("Deleted target group {}", tg.arn);
    Ok(Some(format!("target group {}", tg.name)))
}

async fn delete_task_definitions(
    cloud: &Cloud,
    names: &Names,
    revisions: &[String],
) -> Result<Vec<String>, Error> {
    let deletions = revisions.iter().map(|arn| async move {
        cloud.ecs.deregister_task_definition(arn).await?;
        Ok::<_, Error>(format!("task definition {arn}"))
    });
    let gone: Vec<String> = futures::future::join_all(deletions)
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    info!(
        "Deleted all task definitions for family: {}, {} tasks deleted total",
        names.resource,
        gone.len()
    );
    Ok(gone)
}
