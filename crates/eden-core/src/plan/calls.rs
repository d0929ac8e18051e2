//! How each step of a plan is carried out: its AWS calls and its log lines.

use std::collections::BTreeSet;

use tracing::{debug, info};

use super::environments;
use super::lease::Leased;
use super::priority;
use super::step::{Adopted, FileKey, Op};
use crate::cloud::{AliasRecord, Cloud, ListenerRule, NewRule, RuleCreation, TargetGroupCreation};
use crate::envfile::Change;
use crate::error::Error;

/// How many times a listener rule is tried on other priorities after losing one to a race.
const RULE_ATTEMPTS: u32 = 20;

/// What a step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    /// It made the resource with this ARN (records: Route 53's change that made them).
    Made(String),
    Changed,
    /// It found the change made already: there is nothing of its to undo.
    Unchanged,
}

impl Done {
    pub fn arn(&self) -> Option<String> {
        match self {
            Done::Made(arn) => Some(arn.clone()),
            _ => None,
        }
    }
}

impl Op {
    /// Makes the call; `made` holds the ARNs the plan's earlier steps made. The state item is
    /// written only while `lease` is held.
    pub async fn run(
        &self,
        cloud: &Cloud,
        made: &[Option<String>],
        lease: &Leased<'_>,
    ) -> Result<Done, Error> {
        match self {
            Op::RegisterTaskDefinition(copy) => {
                let arn = cloud.ecs.copy_task_definition(copy).await?;
                info!("Registered new task definition: {arn}");
                Ok(Done::Made(arn))
            }
            Op::DeregisterTaskDefinition { arn } => {
                cloud.ecs.deregister_task_definition(arn.get(made)?).await?;
                Ok(Done::Changed)
            }
            Op::CreateTargetGroup {
                name,
                settings,
                tags,
            } => match cloud.elb.copy_target_group(settings, name, tags).await? {
                TargetGroupCreation::Created(arn) => {
                    info!("Created target group {arn}");
                    Ok(Done::Made(arn))
                }
                TargetGroupCreation::NameTaken => Err(Error::Busy {
                    what: format!("target group {name}"),
                    why: "another writer made it while this run read".into(),
                }),
            },
            Op::SetTargetGroupAttributes {
                target_group,
                attributes,
            } => {
                let arn = target_group.get(made)?;
                cloud
                    .elb
                    .set_target_group_attributes(arn, attributes)
                    .await?;
                Ok(Done::Changed)
            }
            Op::DeleteTargetGroup { arn } => {
                let arn = arn.get(made)?;
                cloud.elb.delete_target_group(arn).await?;
                info!("Deleted target group {arn}");
                Ok(Done::Changed)
            }
            Op::CreateRule {
                listener,
                host,
                target_group,
                tags,
                rules,
            } => {
                let new = NewRule {
                    listener: listener.clone(),
                    priority: 0,
                    host: host.clone(),
                    target_group_arn: target_group.get(made)?.to_string(),
                    tags: tags.clone(),
                };
                create_rule(cloud, new, rules.clone()).await.map(Done::Made)
            }
            Op::DeleteRule { arn, host } => {
                info!("ELBv2 listener rule for host {host} found, will delete");
                cloud.elb.delete_rule(arn.get(made)?).await?;
                Ok(Done::Changed)
            }
            Op::CreateRecords { zone_id, records } => {
                let host = records.first().map(|r| r.name.as_str()).unwrap_or_default();
                let done = match cloud.dns.create(zone_id, records).await? {
                    Some(change) => Done::Made(change),
                    None if already_there(cloud, zone_id, records).await? => Done::Changed,
                    None => {
                        return Err(Error::Busy {
                            what: format!("record {host}"),
                            why: "a record was made at this host while this run read".into(),
                        })
                    }
                };
                let alb = records.first().map(|r| r.target_dns.as_str());
                info!(
                    "Successfully created ALIAS: {host} -> {}",
                    alb.unwrap_or_default()
                );
                Ok(done)
            }
            Op::DeleteRecords { zone_id, records } => {
                let host = records.first().map(|r| r.name.as_str()).unwrap_or_default();
                info!("Found existing record {host}. in zone {zone_id}");
                cloud.dns.delete(zone_id, records).await?;
                info!("Successfully removed ALIAS record {host}");
                Ok(Done::Changed)
            }
            Op::SetEndpoint {
                at,
                env_type,
                endpoint,
                file,
            } => {
                let FileKey {
                    bucket,
                    key,
                    entry,
                    update_key,
                } = at;
                info!(
                    "Updating config file s3://{bucket}/{key}, environment {entry}: {update_key} -> {endpoint}"
                );
                let change = environments::update(cloud, bucket, key, Some(file.clone()), |f| {
                    f.set_endpoint(entry, env_type, update_key, endpoint)
                })
                .await?;
                match change {
                    Change::Unchanged => info!("Config file already lists {endpoint}"),
                    Change::Added => info!("Existing environment not found, adding new"),
                    _ => info!("Existing environment found, updating in-place"),
                }
                Ok(changed(change))
            }
            Op::RemoveEndpoint { at, file } => {
                let FileKey {
                    bucket,
                    key,
                    entry,
                    update_key,
                } = at;
                info!(
                    "Updating config file s3://{bucket}/{key}, delete environment {entry}: {update_key}"
                );
                let change = environments::update(cloud, bucket, key, file.clone(), |f| {
                    f.remove_endpoint(entry, update_key)
                })
                .await?;
                match change {
                    Change::Unchanged => {}
                    Change::Removed => info!(
                        "Existing environment found, and the only optional key is {update_key}, deleting environment"
                    ),
                    _ => info!("Existing environment found, removing {update_key} in-place"),
                }
                Ok(changed(change))
            }
            Op::PutStateItem { table, item } => {
                let fence = lease.fence()?;
                if !cloud.table.put_environment(table, item, &fence).await? {
                    return Err(lease.taken_by_another_run());
                }
                debug!("state item {} written to table {table}", item.name);
                Ok(Done::Changed)
            }
            Op::DeleteStateItem {
                table,
                profile,
                name,
            } => {
                let fence = lease.fence()?;
                if !cloud
                    .table
                    .delete_environment(table, profile, name, &fence)
                    .await?
                {
                    return Err(lease.taken_by_another_run());
                }
                Ok(Done::Changed)
            }
            Op::Adopt { resource, tags } => {
                match resource {
                    Adopted::Service(arn) => cloud.ecs.tag(arn, tags).await?,
                    Adopted::TargetGroup(arn) | Adopted::Rule(arn) => {
                        cloud.elb.add_tags(arn, tags).await?
                    }
                }
                info!(
                    "Adopted {}: it has no eden tags, but the state table records this environment (made by an earlier eden); tagged it as eden's",
                    resource.describe()
                );
                Ok(Done::Changed)
            }
            Op::CreateService {
                service,
                task_definition,
                target_group,
            } => {
                info!(
                    "ECS Service {} does not exist, will create new service",
                    service.name
                );
                let mut service = service.clone();
                service.task_definition = task_definition.get(made)?.to_string();
                service.target_group_arn = target_group.get(made)?.to_string();
                let arn = cloud.ecs.create_service(&service).await?;
                info!("Created service {arn}");
                Ok(Done::Made(arn))
            }
            Op::Deploy {
                cluster,
                service,
                task_definition,
                expiry,
            } => {
                let task_definition = task_definition.get(made)?;
                info!("ECS Service {service} already exists, will deploy {task_definition}");
                let retag = async {
                    match expiry {
                        Some((arn, tags)) => cloud.ecs.tag(arn, tags).await,
                        None => Ok(()),
                    }
                };
                futures::try_join!(cloud.ecs.deploy(cluster, service, task_definition), retag)?;
                info!("Successfully deployed task definition {task_definition} to service {service} in cluster {cluster}");
                Ok(Done::Changed)
            }
            Op::DeleteService { cluster, name } => {
                info!("ECS Service {name} exists, will delete");
                cloud.ecs.delete_service(cluster, name).await?;
                info!("Successfully deleted service {name} from cluster {cluster}");
                Ok(Done::Changed)
            }
        }
    }

    /// Whether it creates records: what it made is Route 53's change.
    pub fn is_records(&self) -> bool {
        matches!(self, Op::CreateRecords { .. })
    }

    /// Whether it is the state item's: undone last, as it is what makes the environment's
    /// records eden's.
    pub fn is_state_item(&self) -> bool {
        matches!(self, Op::PutStateItem { .. } | Op::DeleteStateItem { .. })
    }
}

/// Whether the host has exactly these records, which Route 53 refused to create: this step's
/// own call made them, its answer lost (a cut connection), and the SDK sent it again. They point
/// at the shared ALB, and the state item records the host: eden's, as any delete would see them.
async fn already_there(
    cloud: &Cloud,
    zone_id: &str,
    records: &[AliasRecord],
) -> Result<bool, Error> {
    let Some(host) = records.first().map(|r| r.name.as_str()) else {
        return Ok(false);
    };
    let found = cloud.dns.records(zone_id, host).await?;
    let there = |r: &AliasRecord| found.aliases.iter().any(|f| super::same_alias(f, r));
    Ok(records.iter().all(there))
}

fn changed(change: Change) -> Done {
    match change {
        Change::Unchanged => Done::Unchanged,
        _ => Done::Changed,
    }
}

/// Makes the host's rule on the first free priority, moving on when another writer takes it
/// first; gives up when a rule for the host appears meanwhile. Returns its ARN.
async fn create_rule(
    cloud: &Cloud,
    mut new: NewRule,
    mut rules: Vec<ListenerRule>,
) -> Result<String, Error> {
    let mut tried = BTreeSet::new();
    for attempt in 1..=RULE_ATTEMPTS {
        let Some(priority) = priority::free_priority(&new.host, &rules, &tried) else {
            return Err(Error::Busy {
                what: format!("listener {}", new.listener),
                why: "every rule priority is taken".into(),
            });
        };
        new.priority = priority;
        match cloud.elb.create_rule(&new).await? {
            RuleCreation::Created(arn) => {
                info!(
                    "Created ELBv2 listener rule {arn}: host {} -> {} (priority {priority})",
                    new.host, new.target_group_arn
                );
                return Ok(arn);
            }
            RuleCreation::PriorityInUse => {
                debug!("priority {priority} was taken first (attempt {attempt}), trying another");
                tried.insert(priority);
                tokio::time::sleep(super::backoff(attempt)).await;
                rules = cloud.elb.rules(&new.listener).await?;
                if let Some(rule) = rules.iter().find(|r| r.serves_host(&new.host)) {
                    if made_by_this_call(cloud, &new, rule).await? {
                        info!(
                            "Created ELBv2 listener rule {}: host {} -> {} (priority {priority}; the answer was lost, the rule is there)",
                            rule.arn, new.host, new.target_group_arn
                        );
                        return Ok(rule.arn.clone());
                    }
                    return Err(Error::Busy {
                        what: format!("host {}", new.host),
                        why: "another eden run is creating this environment".into(),
                    });
                }
            }
        }
    }
    Err(Error::Busy {
        what: format!("listener {}", new.listener),
        why: format!("{RULE_ATTEMPTS} rule priorities in a row were taken by other writers"),
    })
}

/// Whether the host's rule that took the priority is this call's own: its answer lost (a cut
/// connection), the SDK sent it again, and found the priority taken by it. The rule is exactly
/// the one asked for, with the tags it was sent with; under the environment's lease no other
/// run makes it.
async fn made_by_this_call(
    cloud: &Cloud,
    new: &NewRule,
    rule: &ListenerRule,
) -> Result<bool, Error> {
    let same = rule.priority == Some(new.priority)
        && rule.is_exactly_for(&new.host)
        && rule.target_groups == std::slice::from_ref(&new.target_group_arn);
    if !same {
        return Ok(false);
    }
    let tagged = cloud.elb.tags(std::slice::from_ref(&rule.arn)).await?;
    let tags = tagged
        .into_iter()
        .flat_map(|(_, tags)| tags)
        .collect::<Vec<_>>();
    Ok(new.tags.iter().all(|tag| tags.contains(tag)))
}
