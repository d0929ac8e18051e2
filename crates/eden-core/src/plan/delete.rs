//! `eden delete`: remove an environment in the reverse order of its creation. A delete that
//! failed part-way is finished by running it again: each run removes what is still there.
//!
//! Read, plan, apply, as create does:
//! 1. [`look`]: the environment's lease, and beside it every read: [`Found`] (the records, the
//!    shared ALB and its listener's rules, the service, the target group, its task definition
//!    family's tags, the environments file and the state item) and the family's revisions;
//! 2. [`decide`] what of it is eden's (see [`crate::ownership`]): a resource of the
//!    environment's names that eden did not make for this profile and name is left, and said
//!    so; [`Removal::plan`] gives the steps, which the dry run prints;
//! 3. [`apply`]: the file entry, records, rules, service and task definitions at once, then the
//!    target group with the lease and the state item in one write: 2 rounds of writes (3 with
//!    no service).

use tracing::info;

use super::apply::apply;
use super::environments::FileRead;
use super::found::{Found, Part};
use super::lease::Leased;
use super::step::{FileKey, Handover, Op, Plan, Ref};
use super::PlannedChange;
use super::Stop;
use crate::cloud::{AliasRecord, Cloud, EnvironmentItem, ListenerRule, TargetGroup};
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
    super::refuse_before_any_call(cloud, s, &req.name)?;
    let lease = &Leased::new(&cloud.table, &req.name, &req.table, req.wait);
    lease
        .run(
            s,
            stop,
            |names| look(cloud, s, names, &req.table),
            |(found, _)| found.left(),
            |looked, left| async move {
                let (mut found, revisions) = looked?;
                found.claim_tags(cloud, s, left.as_ref()).await?;
                let removal = decide(s, &req.name, found, revisions)?;
                // The environment as `eden ls` shows it, should it have to be listed again:
                // expired at once, so that `eden gc` finishes what was asked to go.
                let now = cloud.table.now();
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

/// Every read, at once: what of the environment's names is there, and the task definition
/// revisions of its family.
pub(super) async fn look(
    cloud: &Cloud,
    s: &Settings,
    names: Names,
    table: &str,
) -> Result<(Found, Vec<String>), Error> {
    let services = async {
        let (reference, service) = super::services(cloud, s, &names.resource).await?;
        Ok((reference, service, ()))
    };
    let ((found, ()), revisions) = futures::try_join!(
        Found::read(cloud, s, &names, table, services),
        cloud.ecs.task_definitions(&names.resource),
    )?;
    Ok((found, revisions))
}

/// What a delete removes of what it found, and what it leaves.
pub(super) struct Removal {
    names: Names,
    fqdn: String,
    file: FileRead,
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
    /// Whether a state item records the environment.
    recorded: bool,
}

impl Removal {
    /// The steps: the file entry, records, rules, service and task definitions at once; then
    /// the target group (AWS keeps it while a rule uses it) with the lease and the state item
    /// in one write (after it when there is no service), so that until the rest is gone
    /// `eden ls` lists the environment. `listed` is the state item put back should the target
    /// group stay; `recorded_in` names the state table when a state item records the
    /// environment.
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
            // A create that takes the lease while the deletion is in flight would reuse the
            // target group as it goes. Where a service went, ECS drains it, and the create
            // waits for that; where none did, the lease goes after the deletion, a round later.
            if self.service.is_none() {
                plan.last = None;
            }
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
pub(super) fn decide(
    s: &Settings,
    env: &EnvName,
    found: Found,
    revisions: Vec<String>,
) -> Result<Removal, Error> {
    let names = &found.names;
    if let Some(reference) = &found.reference {
        let reference_tg = reference
            .load_balancers
            .iter()
            .find_map(|lb| lb.target_group_arn.as_deref())
            .unwrap_or_default();
        super::refuse_reference(env, names, &reference.task_definition, reference_tg)?;
    }
    let mut kept = Vec::new();
    let mut keep = |resource, name: String, why: String| {
        kept.push(PlannedChange::keep(resource, format!("{name}: {why}")));
    };
    let mut ours = Vec::new();
    for whose in found.whose(s, &found.rules) {
        match whose.claim {
            Claim::NotOurs(why) => keep(whose.part.kind(), whose.name, why),
            Claim::Ours | Claim::Adopt => ours.push(whose.part),
        }
    }
    let service = found.service.as_ref();
    let service = service.filter(|svc| ours.contains(&Part::Service(svc.arn.clone())));
    let target_group = found.target_group.clone();
    let target_group = target_group.filter(|tg| ours.contains(&Part::TargetGroup(tg.arn.clone())));
    let task_definitions = match ours.contains(&Part::Family) {
        true => revisions,
        false => Vec::new(),
    };
    let rules = found.rules.iter().map(|(rule, _)| rule);
    let (rules, others): (Vec<&ListenerRule>, _) =
        rules.partition(|rule| ours.contains(&Part::Rule(rule.arn.clone())));
    // AWS keeps a target group while a rule forwards to it.
    let target_group_used_by = others.into_iter().find(|rule| {
        let tg = target_group.as_ref();
        tg.is_some_and(|tg| rule.target_groups.contains(&tg.arn))
    });
    let (records, others) = found.records();
    for (record, why) in others {
        keep("record", record, why);
    }
    let endpoint = found.file.1.endpoint(&names.file_entry, &s.update_key);
    let file_entry = endpoint.is_some_and(|e| dns_name(e) == dns_name(&found.fqdn));
    if let (Some(endpoint), false) = (endpoint, file_entry) {
        let key = format!("{} of {}", s.update_key, names.file_entry);
        let why = format!("it names {endpoint}, not this environment's host");
        keep("config key", key, why);
    }
    Ok(Removal {
        rules: rules.into_iter().map(|rule| rule.arn.clone()).collect(),
        target_group_used_by: target_group_used_by.map(|rule| rule.arn.clone()),
        recorded: found.state.is_some(),
        names: found.names,
        fqdn: found.fqdn,
        file: found.file,
        file_entry,
        records,
        service: service.map(|svc| svc.name.clone()),
        task_definitions,
        target_group,
        kept,
    })
}

/// What delete would remove, changing nothing: what the same reads would decide.
pub async fn preview(
    cloud: &Cloud,
    s: &Settings,
    req: &DeleteRequest,
) -> Result<Vec<PlannedChange>, Error> {
    super::refuse_before_any_call(cloud, s, &req.name)?;
    let names = s.names(&req.name);
    let (removal, held) = futures::try_join!(
        removal(cloud, s, &req.name, &req.table),
        super::another_run(cloud, s, &names, &req.table),
    )?;
    let recorded_in = removal.recorded.then_some(req.table.as_str());
    let mut plan = removal.plan(s, recorded_in, None);
    plan.waits_for.splice(0..0, held);
    Ok(plan.changes())
}

/// What a delete of `env` would remove, from reads that no lease vouches for (a dry run, gc).
pub(super) async fn removal(
    cloud: &Cloud,
    s: &Settings,
    env: &EnvName,
    table: &str,
) -> Result<Removal, Error> {
    let (mut found, revisions) = look(cloud, s, s.names(env), table).await?;
    found.claim_tags(cloud, s, None).await?;
    decide(s, env, found, revisions)
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
            let (mut found, revisions) = look(&cloud, &s, s.names(&req.name), "eden").await?;
            found.claim_tags(&cloud, &s, None).await?;
            Ok::<_, Error>((found, revisions))
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
            let (mut found, revisions) = read().await.expect("read");
            change(&mut found);
            let recorded = found.state.is_some().then_some("eden");
            let calls = fake.calls.names().len();
            let removal = decide(&s, &req.name, found, revisions).expect("decided");
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
