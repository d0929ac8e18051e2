//! `eden delete`: remove an environment in the reverse order of its creation. A delete that
//! failed part-way is finished by running it again: each run removes what is still there.
//!
//! Read, plan, apply, as create does:
//! 1. [`look`]: the environment's lease, and beside it every read: the records, the shared ALB
//!    and its listener's rules, the service, the target group, the task definition revisions and
//!    their family's tags, the environments file and the state item;
//! 2. [`decide`] what of it is eden's (see [`crate::ownership`]): a resource of the
//!    environment's names that eden did not make for this profile and name is left, and said
//!    so; [`Removal::plan`] gives the steps, which the dry run prints;
//! 3. [`apply`]: the file entry, records, rules, service and task definitions at once, then the
//!    target group with the lease and the state item in one write: 2 rounds of writes.

use tracing::info;

use super::apply::apply;
use super::environments;
use super::lease::{Leased, Left};
use super::step::{FileKey, Handover, Op, Plan, Ref};
use super::PlannedChange;
use super::Stop;
use crate::cloud::{
    AliasRecord, Cloud, EnvironmentItem, HostRecords, ListenerRule, Object, ServiceInfo, Tag,
    TargetGroup,
};
use crate::envfile::EnvironmentsFile;
use crate::error::Error;
use crate::names::{dns_name, EnvName, Names};
use crate::ownership::Claim;
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
    /// What has one of the environment's names but is not eden's, and was left: each with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<String>,
}

pub async fn delete(
    cloud: &Cloud,
    s: &Settings,
    req: &DeleteRequest,
    stop: &Stop,
) -> Result<Deleted, Error> {
    let resource = s.names(&req.name).resource;
    super::refuse_reference_service(s, &req.name, &resource)?;
    let lease = &Leased::new(&cloud.table, &req.name, &req.table, req.wait);
    lease
        .run(
            s,
            stop,
            |names| look(cloud, s, names, &req.table),
            Found::left,
            |found, left| async move {
                let mut found = found?;
                found.claim_tags(cloud, s, left.as_ref()).await?;
                let removal = decide(s, &req.name, found)?;
                // The environment as `eden ls` shows it, should it have to be listed again:
                // expired at once, so that `eden gc` finishes what was asked to go.
                let now = super::now();
                let listed = EnvironmentItem {
                    profile: s.profile.clone(),
                    name: removal.names.resource.clone(),
                    endpoint: removal.fqdn.clone(),
                    last_updated: now,
                    expires_at: Some(now),
                    ttl_seconds: None,
                };
                remove(cloud, s, lease, removal, Some(&listed), stop).await
            },
        )
        .await
}

/// What of an environment's names is there.
pub(super) struct Found {
    names: Names,
    file: (Option<Object>, EnvironmentsFile),
    fqdn: String,
    /// The shared ALB's DNS name, which eden's records point at.
    alb: String,
    records: HostRecords,
    /// The shared listener's rules for the host or the target group, with their tags once
    /// claimed.
    rules: Vec<(ListenerRule, Vec<Tag>)>,
    /// The reference service, when it is there: its names are never an environment's.
    reference: Option<ServiceInfo>,
    service: Option<ServiceInfo>,
    /// With its tags once claimed.
    target_group: Option<TargetGroup>,
    /// The tags of the task definition family's latest revision, when it has one.
    family: Option<Vec<Tag>>,
    revisions: Vec<String>,
    state: Option<EnvironmentItem>,
}

impl Found {
    /// Reads the tags of the target group and rules found, but of those `left` vouches for
    /// (see [`super::claim_tags`]).
    pub(super) async fn claim_tags(
        &mut self,
        cloud: &Cloud,
        s: &Settings,
        left: Option<&Left>,
    ) -> Result<(), Error> {
        let env = &self.names.env;
        super::claim_tags(cloud, s, env, &mut self.target_group, &mut self.rules, left).await
    }

    /// What the reads show, to compare with what the lease's previous holder left.
    pub(super) fn left(&self) -> Left {
        Left::new(
            self.state.as_ref().map(|item| item.last_updated),
            self.service
                .as_ref()
                .map(|svc| svc.task_definition.as_str()),
            self.target_group.as_ref().map(|tg| tg.arn.as_str()),
            self.rules
                .iter()
                .filter(|(rule, _)| rule.serves_host(&self.fqdn))
                .map(|(rule, _)| rule.arn.clone()),
            &self.records.aliases,
            &self.alb,
        )
    }
}

/// Every read, at once.
pub(super) async fn look(
    cloud: &Cloud,
    s: &Settings,
    names: Names,
    table: &str,
) -> Result<Found, Error> {
    let (
        file,
        (fqdn, records),
        shared,
        (reference, service),
        target_group,
        family,
        revisions,
        state,
    ) = futures::try_join!(
        environments::read(cloud, &s.bucket, &s.key),
        super::host_records(cloud, s, &names),
        super::shared_alb(cloud, s),
        super::services(cloud, s, &names.resource),
        cloud.elb.find_target_group(&names.target_group),
        cloud.ecs.family_tags(&names.resource),
        cloud.ecs.task_definitions(&names.resource),
        cloud.table.environment(table, &s.profile, &names.resource),
    )?;
    // The rules for the host or the target group (a rule forwards to it by an ARN that names
    // it); their tags are claimed once the run knows what the lease vouches for.
    let rules = shared
        .rules
        .into_iter()
        .filter(|r| {
            r.serves_host(&fqdn)
                || r.target_groups
                    .iter()
                    .any(|tg| super::target_group_name(tg) == Some(names.target_group.as_str()))
        })
        .map(|rule| (rule, Vec::new()))
        .collect();
    Ok(Found {
        names,
        file,
        alb: shared.alb.dns_name,
        fqdn,
        records,
        rules,
        reference: reference.filter(ServiceInfo::is_active),
        service: service.filter(ServiceInfo::is_active),
        target_group,
        family,
        revisions,
        state,
    })
}

/// What a delete removes of what it found, and what it leaves.
pub(super) struct Removal {
    names: Names,
    fqdn: String,
    file: (Option<Object>, EnvironmentsFile),
    /// Whether the file's endpoint for the environment is this host, to remove.
    file_entry: bool,
    records: Vec<AliasRecord>,
    rules: Vec<String>,
    service: Option<String>,
    task_definitions: Vec<String>,
    target_group: Option<TargetGroup>,
    /// A rule eden did not make that still forwards to the target group, which AWS then keeps.
    target_group_used_by: Option<String>,
    /// What is not eden's, each named with why.
    kept: Vec<PlannedChange>,
}

impl Removal {
    /// The steps: the file entry, records, rules, service and task definitions at once; then
    /// the target group (AWS keeps it while a rule uses it) with the lease and the state item
    /// in one write, so that until the rest is gone `eden ls` lists the environment. `listed`
    /// is the state item put back should the target group stay; `recorded_in` names the state
    /// table when a state item records the environment.
    pub(super) fn plan(
        &self,
        s: &Settings,
        recorded_in: Option<&str>,
        listed: Option<EnvironmentItem>,
    ) -> Plan {
        let names = &self.names;
        let mut plan = Plan {
            kept: self.kept.clone(),
            ..Plan::default()
        };
        if self.file_entry {
            let entry = &names.file_entry;
            plan.add(
                PlannedChange::delete("config key", format!("{} of {entry}", s.update_key)),
                Op::RemoveEndpoint {
                    at: FileKey::of(s, names),
                    file: Some(self.file.clone()),
                },
                &[],
            );
        }
        if !self.records.is_empty() {
            plan.add(
                PlannedChange::delete("record", &self.fqdn),
                Op::DeleteRecords {
                    zone_id: s.zone_id.clone(),
                    records: self.records.clone(),
                },
                &[],
            );
        }
        for rule in &self.rules {
            let op = Op::DeleteRule {
                arn: Ref::Known(rule.clone()),
                host: self.fqdn.clone(),
            };
            plan.add(PlannedChange::delete("listener rule", rule), op, &[]);
        }
        if let Some(service) = &self.service {
            let op = Op::DeleteService {
                cluster: s.target_cluster.clone(),
                name: service.clone(),
            };
            plan.add(PlannedChange::delete("service", service), op, &[]);
        }
        for revision in &self.task_definitions {
            let op = Op::DeregisterTaskDefinition {
                arn: Ref::Known(revision.clone()),
            };
            plan.add(PlannedChange::delete("task definition", revision), op, &[]);
        }
        if let Some(rule) = &self.target_group_used_by {
            // The delete stops before the target group, and the environment stays listed.
            let name = self.target_group.as_ref().map(|tg| tg.name.as_str());
            let why = format!("listener rule {rule}, which is not eden's, forwards to it");
            let kept = PlannedChange::keep(
                "target group",
                format!("{}: {why}", name.unwrap_or_default()),
            );
            plan.kept.push(kept);
            return plan;
        }
        if let Some(tg) = &self.target_group {
            let op = Op::DeleteTargetGroup {
                arn: Ref::Known(tg.arn.clone()),
            };
            plan.add(PlannedChange::delete("target group", &tg.name), op, &[]);
            plan.make_last();
        }
        let state_item = recorded_in.map(|table| {
            PlannedChange::delete("state item", format!("{} in table {table}", names.resource))
        });
        plan.handover = Some(Handover::Gone { listed, state_item });
        plan
    }

    /// One line per removal, as the run reports them.
    pub(super) fn describe(&self, s: &Settings) -> Vec<String> {
        let plan = self.plan(s, None, None);
        plan.steps.iter().map(|step| step.change.line()).collect()
    }
}

/// Decides, from what was read, what of it is this environment's to remove.
pub(super) fn decide(s: &Settings, env: &EnvName, found: Found) -> Result<Removal, Error> {
    let names = found.names;
    if let Some(reference) = &found.reference {
        let reference_tg = reference
            .load_balancers
            .iter()
            .find_map(|lb| lb.target_group_arn.as_deref())
            .unwrap_or_default();
        super::refuse_reference(env, &names, &reference.task_definition, reference_tg)?;
    }
    let recorded = found.state.is_some();
    let claim = |tags: &[Tag]| Claim::of(tags, &s.profile, env.as_str(), recorded);
    let mut kept = Vec::new();
    let service = found
        .service
        .filter(|svc| ours(claim(&svc.tags), "service", &svc.name, &mut kept))
        .map(|svc| svc.name);
    let family_ours = found.family.as_deref().is_some_and(|tags| {
        let family = format!("family {}", names.resource);
        ours(claim(tags), "task definition", &family, &mut kept)
    });
    let task_definitions = match family_ours {
        true => found.revisions,
        false => Vec::new(),
    };
    let target_group = found
        .target_group
        .filter(|tg| ours(claim(&tg.tags), "target group", &tg.name, &mut kept));
    let mut keep = |resource, name: String, why: String| {
        kept.push(PlannedChange::keep(resource, format!("{name}: {why}")));
    };
    let mut rules = Vec::new();
    let mut target_group_used_by = None;
    for (rule, tags) in found.rules {
        let why = match claim(&tags) {
            _ if !rule.is_exactly_for(&found.fqdn) => {
                "it is not for this host alone, as eden's rules are".to_string()
            }
            Claim::NotOurs(why) => why,
            Claim::Ours | Claim::Adopt => {
                rules.push(rule.arn);
                continue;
            }
        };
        let uses_ours = target_group
            .as_ref()
            .is_some_and(|tg| rule.target_groups.contains(&tg.arn));
        if uses_ours {
            target_group_used_by = Some(rule.arn.clone());
        }
        keep("listener rule", rule.arn, why);
    }
    let at_host = found
        .state
        .as_ref()
        .is_some_and(|item| dns_name(&item.endpoint) == dns_name(&found.fqdn));
    let alb = dns_name(&found.alb);
    let (records, foreign): (Vec<AliasRecord>, Vec<AliasRecord>) = found
        .records
        .aliases
        .into_iter()
        .partition(|r| at_host && dns_name(&r.target_dns) == alb);
    for alias in foreign {
        let why = match dns_name(&alias.target_dns) == alb {
            true => "no state item records an environment at this host".to_string(),
            false => format!(
                "it is an alias to {}, not to the shared ALB",
                alias.target_dns
            ),
        };
        keep(
            "record",
            format!("{} {:?}", found.fqdn, alias.record_type),
            why,
        );
    }
    for other in found.records.others {
        let name = format!("{} ({other})", found.fqdn);
        keep("record", name, "eden never makes such a record".into());
    }
    let endpoint = found.file.1.endpoint(&names.file_entry, &s.update_key);
    let file_entry = endpoint.is_some_and(|e| dns_name(e) == dns_name(&found.fqdn));
    if let (Some(endpoint), false) = (endpoint, file_entry) {
        let key = format!("{} of {}", s.update_key, names.file_entry);
        let why = format!("it names {endpoint}, not this environment's host");
        keep("config key", key, why);
    }
    Ok(Removal {
        names,
        fqdn: found.fqdn,
        file: found.file,
        file_entry,
        records,
        rules,
        service,
        task_definitions,
        target_group,
        target_group_used_by,
        kept,
    })
}

/// Whether a resource is eden's to remove; when it is not, `kept` says so, with why.
fn ours(claim: Claim, resource: &'static str, name: &str, kept: &mut Vec<PlannedChange>) -> bool {
    match claim {
        Claim::NotOurs(why) => {
            kept.push(PlannedChange::keep(resource, format!("{name}: {why}")));
            false
        }
        Claim::Ours | Claim::Adopt => true,
    }
}

/// What delete would remove, changing nothing: what the same reads would decide.
pub async fn preview(
    cloud: &Cloud,
    s: &Settings,
    req: &DeleteRequest,
) -> Result<Vec<PlannedChange>, Error> {
    let names = s.names(&req.name);
    super::refuse_reference_service(s, &req.name, &names.resource)?;
    let mut found = look(cloud, s, names, &req.table).await?;
    found.claim_tags(cloud, s, None).await?;
    let recorded = found.state.is_some().then_some(req.table.as_str());
    let removal = decide(s, &req.name, found)?;
    Ok(removal.plan(s, recorded, None).changes())
}

/// Applies the removal's plan under `lease`; `listed` is the state item put back should the
/// target group stay.
pub(super) async fn remove(
    cloud: &Cloud,
    s: &Settings,
    lease: &Leased<'_>,
    removal: Removal,
    listed: Option<&EnvironmentItem>,
    stop: &Stop,
) -> Result<Deleted, Error> {
    for kept in &removal.kept {
        info!("Left {}", kept.line());
    }
    let names = &removal.names;
    let plan = removal.plan(s, None, listed.cloned());
    log_skipped(s, &removal);
    let applied = apply(cloud, s, &plan, lease, stop).await?;
    if !removal.task_definitions.is_empty() {
        info!(
            "Deleted all task definitions for family: {}, {} tasks deleted total",
            names.resource,
            removal.task_definitions.len()
        );
    }
    if let (Some(tg), Some(rule)) = (&removal.target_group, &removal.target_group_used_by) {
        return Err(Error::InUse {
            what: format!("target group {}", tg.name),
            by: format!("listener rule {rule}"),
            cleanup: super::cleanup_command(s, names.env.as_str()),
        });
    }
    info!(
        "Successfully finished deleting environment {}",
        names.resource
    );
    let removed = applied.changed(&plan);
    Ok(Deleted {
        profile: s.profile.clone(),
        name: names.resource.clone(),
        endpoint: removal.fqdn.clone(),
        removed: removed.iter().map(PlannedChange::line).collect(),
        kept: removal.kept.iter().map(PlannedChange::line).collect(),
    })
}

/// Says what of the environment is not there to remove.
fn log_skipped(s: &Settings, removal: &Removal) {
    let (names, fqdn) = (&removal.names, &removal.fqdn);
    if !removal.file_entry {
        let entry = &names.file_entry;
        info!("Config file has no {} for {entry}, skipping", s.update_key);
    }
    if removal.records.is_empty() {
        info!("Record for {fqdn} does not exist, skipping deletion");
    }
    if removal.rules.is_empty() {
        info!("ELBv2 listener rule for host {fqdn} does not exist, skipping deletion");
    }
    if removal.service.is_none() {
        let service = &names.resource;
        info!("ECS Service {service} not found, skipping deletion");
    }
    if removal.target_group.is_none() {
        let target_group = &names.target_group;
        info!("Target group {target_group} not found, skipping deletion");
    }
}

#[cfg(test)]
mod tests {
    //! The removal as a value: one environment made on the fake cloud and read back, changed as
    //! each case says, gives this plan: what goes and what stays, with no call made.

    use super::super::on_fake_cloud::{bare, create_request, kinds};
    use super::super::{create, Stop};
    use super::*;
    use crate::fake::FakeCloud;
    use crate::ownership;

    #[tokio::test]
    async fn these_reads_give_this_removal() {
        let s = bare();
        let fake = FakeCloud::seeded(&s);
        let cloud = fake.cloud();
        let req = create_request("api:v1");
        create(&cloud, &s, &req, &Stop::default())
            .await
            .expect("created");
        let read = || async {
            let mut found = look(&cloud, &s, s.names(&req.name), "eden").await?;
            found.claim_tags(&cloud, &s, None).await?;
            Ok::<_, Error>(found)
        };
        let everything = [
            "delete config key",
            "delete record",
            "delete listener rule",
            "delete service",
            "delete task definition",
            "delete target group",
            "delete state item",
        ];
        let without = |gone: &[&str], kept: &[&str]| -> Vec<String> {
            let left = everything.iter().filter(|c| !gone.contains(c));
            left.chain(kept).map(|c| c.to_string()).collect()
        };
        type Change = Box<dyn Fn(&mut Found)>;
        let cases: Vec<(&str, Change, Vec<String>)> = vec![
            (
                "an environment eden made",
                Box::new(|_| {}),
                without(&[], &[]),
            ),
            (
                "another profile's service",
                Box::new(|f| {
                    let service = f.service.as_mut().expect("the service");
                    service.tags = ownership::tags("admin", "foo");
                }),
                without(&["delete service"], &["keep service"]),
            ),
            (
                "an untagged service the state table records: adopted, so removed",
                Box::new(|f| f.service.as_mut().expect("the service").tags.clear()),
                without(&[], &[]),
            ),
            (
                "nothing recorded: the records are nobody's, the tagged rest is eden's",
                Box::new(|f| f.state = None),
                without(&["delete record", "delete state item"], &["keep record"]),
            ),
            (
                "another profile's rule forwards to the target group",
                Box::new(|f| {
                    let (_, tags) = f.rules.first_mut().expect("the rule");
                    *tags = ownership::tags("admin", "foo");
                }),
                // The delete stops before the target group, and the environment stays listed.
                without(
                    &[
                        "delete listener rule",
                        "delete target group",
                        "delete state item",
                    ],
                    &["keep listener rule", "keep target group"],
                ),
            ),
            (
                "an A record to an address at the host",
                Box::new(|f| f.records.others.push("A 10.0.0.1".into())),
                without(&[], &["keep record"]),
            ),
        ];
        for (case, change, expected) in cases {
            let mut found = read().await.expect("read");
            change(&mut found);
            let recorded = found.state.is_some().then_some("eden");
            let calls = fake.calls.names().len();
            let removal = decide(&s, &req.name, found).expect("decided");
            let plan = removal.plan(&s, recorded, None);
            plan.assert_consistent();
            assert_eq!(kinds(&plan.changes()), expected, "{case}");
            assert_eq!(
                fake.calls.names().len(),
                calls,
                "{case}: planning made a call"
            );
        }
    }
}
