//! `eden create`: make an environment, or deploy a new image to an existing one.
//!
//! Read, plan, apply:
//! 1. [`look`]: the environment's lease, and beside it every check and read (the image, the
//!    reference service and its templates, and [`Found`]: the shared ALB and its rules, the
//!    host's records, the environments file, the state item, whatever of the environment's names
//!    exists), read again under the lease when the previous holder left something else (see
//!    [`super::lease`]).
//!    A read that needs an earlier answer waits for it, unless the profile names the answer:
//!    then it goes beside, and is used only when the first answer confirms it. A service of the
//!    environment's name still being deleted is waited for, then all is read again
//!    ([`look_after_drain`]);
//! 2. [`decide`], without calls: the names are not the reference's, and every resource of them
//!    is this environment's (see [`crate::ownership`]); then [`Decision::plan`]: the steps,
//!    what each waits for and how each is undone. The dry run prints that plan;
//! 3. [`apply`]: the same plan. A new environment is 3 rounds of writes deep (target group,
//!    rule, service); a deploy 2 (task definition, service).

use std::time::Duration;

// tokio's clock: monotonic, and paused in the fast tests.
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::apply::apply;
use super::found::{Found, Part};
use super::lease::Leased;
use super::step::{Adopted, FileKey, Handover, Leaves, Op, Plan, Ref, StepId};
use super::{PlannedChange, Stop};
use crate::cloud::{
    AliasRecord, Cloud, EnvironmentItem, NewService, ServiceInfo, Tag, TargetGroupTemplate,
    TaskDefinitionCopy, Template,
};
use crate::error::Error;
use crate::expiry::{rfc3339, Ttl};
use crate::image::ImageUri;
use crate::names::{EnvName, Names};
use crate::overrides::EnvVar;
use crate::ownership::{self, Claim};
use crate::profile::Settings;

/// The tag that shows an environment's expiry on its resources; the state item is what gc reads.
pub const EXPIRY_TAG: &str = "eden:expires-at";

/// Every create plan registers its task definition first.
const TASK_DEFINITION: StepId = 0;
/// How often a create asks whether a service of its name is still being deleted.
const DRAIN_POLL: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub name: EnvName,
    pub image: ImageUri,
    /// The DynamoDB state table.
    pub table: String,
    /// How long to wait while another run changes the same environment.
    pub wait: std::time::Duration,
    /// `--set-env`: variables set in the target container of this environment only.
    pub environment: Vec<EnvVar>,
    /// `--ttl`: how long the environment lives after this run. A deploy without it keeps the
    /// environment's earlier TTL and starts it again.
    pub ttl: Option<Ttl>,
}

/// What create made or changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Created {
    pub profile: String,
    pub name: String,
    pub endpoint: String,
    pub image: String,
    pub task_definition: String,
    /// True when the environment existed and got a new image.
    pub deployed: bool,
    pub last_updated: i64,
    /// Epoch seconds after which `eden gc` deletes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// What the copy lacks of the reference, as the run's warning lines say it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Route 53's change that made the host's records, when this run made them: `--wait` waits
    /// for it to reach every name server.
    #[serde(skip)]
    pub records_change: Option<String>,
}

pub async fn create(
    cloud: &Cloud,
    s: &Settings,
    req: &CreateRequest,
    stop: &Stop,
) -> Result<Created, Error> {
    super::refuse_before_any_call(cloud, s, &req.name)?;
    let lease = &Leased::new(&cloud.table, &req.name, &req.table, req.wait);
    lease
        .run(
            s,
            stop,
            |names| look(cloud, s, req, names),
            |world| world.found.left(),
            |looked, left| async move {
                let (mut world, left) = match looked? {
                    // Read again once it is gone: what the lease vouched for is not reused.
                    w if w.found.draining => (
                        look_after_drain(cloud, s, req, w.found.names, stop).await?,
                        None,
                    ),
                    w => (w, left),
                };
                world.report(s, &req.image);
                world.found.claim_tags(cloud, s, left.as_ref()).await?;
                let plan = decide(s, req, &world)?.plan(s, req, &world);
                let applied = apply(cloud, s, &plan, lease, stop).await?;
                let resource = &world.found.names.resource;
                info!("Successfully finished creating environment {resource}");
                let item = state_item(s, req, &world);
                let records = plan.steps.iter().position(|step| step.op.is_records());
                Ok(Created {
                    profile: s.profile.clone(),
                    name: resource.clone(),
                    endpoint: world.found.fqdn.clone(),
                    image: req.image.uri.clone(),
                    task_definition: applied.made_by(TASK_DEFINITION).unwrap_or_default(),
                    deployed: world.found.service.is_some(),
                    last_updated: item.last_updated,
                    expires_at: item.expires_at,
                    warnings: world.warnings(),
                    records_change: records.and_then(|id| applied.made_by(id)),
                })
            },
        )
        .await
}

/// What create would make or change, changing nothing: what the same reads would decide.
pub async fn preview(
    cloud: &Cloud,
    s: &Settings,
    req: &CreateRequest,
) -> Result<Vec<PlannedChange>, Error> {
    super::refuse_before_any_call(cloud, s, &req.name)?;
    let names = s.names(&req.name);
    let (mut w, held) = futures::try_join!(
        look(cloud, s, req, names.clone()),
        super::another_run(cloud, s, &names, &req.table),
    )?;
    if w.found.draining && req.wait.is_zero() {
        return Err(still_being_deleted(&w.found.names.resource));
    }
    w.report(s, &req.image);
    w.found.claim_tags(cloud, s, None).await?;
    let mut plan = decide(s, req, &w)?.plan(s, req, &w);
    plan.waits_for.splice(0..0, held);
    Ok(plan.changes())
}

// 1. Read.

/// The reference service and what a copy of it needs.
struct Reference {
    service: ServiceInfo,
    container: String,
    container_port: i32,
    task_definition: Template,
    target_group_arn: String,
    target_group: TargetGroupTemplate,
}

/// Everything the first round read.
struct World {
    /// What of the environment's names is there.
    found: Found,
    /// When the reads were made, in epoch seconds by the state table's clock: the state item's
    /// and the tags' time.
    now: i64,
    reference: Reference,
}

impl World {
    /// The alias records the environment needs.
    fn wanted_records(&self) -> Vec<AliasRecord> {
        super::records_for(&self.found.fqdn, &self.found.shared.alb)
    }

    /// Says what the reads found, in the seed's lines: once, however often they were made.
    fn report(&self, s: &Settings, image: &ImageUri) {
        if image.ecr.is_some() {
            info!("Checking if image {} exists", image.uri);
            info!("Image exists");
        }
        let reference = &self.reference;
        info!("Retrieved reference service {}", s.reference.arn);
        info!(
            "Retrieved reference task definition from {}",
            reference.service.task_definition
        );
        info!(
            "Retrieved reference target group: {}",
            reference.target_group_arn
        );
        for warning in self.warnings() {
            warn!("{warning}");
        }
    }

    /// What the copy lacks of the reference, for the user to know: its settings a copy does
    /// not take over.
    fn warnings(&self) -> Vec<String> {
        let not_copied = self.reference.service.not_copied.iter();
        not_copied
            .map(|setting| format!("The reference service uses {setting}"))
            .collect()
    }

    /// Whether no environment of this name exists: whatever of it is there is this run's, or
    /// was left by a run that stopped.
    fn is_new(&self) -> bool {
        self.found.state.is_none() && self.found.service.is_none()
    }
}

/// Every check and read, at once.
async fn look(
    cloud: &Cloud,
    s: &Settings,
    req: &CreateRequest,
    names: Names,
) -> Result<World, Error> {
    // The templates are guessed alongside the service that names them: the task definition by
    // the family of the reference service's name, the target group from the profile. A guess
    // is used only when the service names it; else the right one is read, a round trip later.
    let guessed_target_group = async {
        match &s.reference_target_group {
            Some(arn) => Some(cloud.elb.target_group_template(arn).await),
            None => None,
        }
    };
    let services = async {
        let (services, guessed_task_definition, guessed_target_group) = futures::join!(
            super::services(cloud, s, &names.resource),
            cloud.ecs.task_definition_template(&s.reference.service),
            guessed_target_group,
        );
        let (reference, service) = services?;
        let (reference, used) = reference_service(s, reference)?;
        let task_definition = async {
            match guessed_task_definition {
                Ok(Some(guess)) if guess.arn == used.task_definition => Ok(Some(guess)),
                _ => {
                    let arn = &used.task_definition;
                    cloud.ecs.task_definition_template(arn).await
                }
            }
        };
        let target_group = async {
            match guessed_target_group {
                Some(Ok(guess))
                    if s.reference_target_group.as_ref() == Some(&used.target_group) =>
                {
                    Ok(guess)
                }
                _ => cloud.elb.target_group_template(&used.target_group).await,
            }
        };
        let (task_definition, target_group) = futures::try_join!(task_definition, target_group)?;
        let task_definition = task_definition.ok_or_else(|| {
            Error::missing(
                "task definition",
                &used.task_definition,
                "check the reference service",
            )
        })?;
        if !task_definition.containers.contains(&used.container) {
            return Err(Error::missing(
                "container",
                format!("{} in {}", used.container, used.task_definition),
                "set target_container_name to a container of the reference task definition",
            ));
        }
        let copied = Reference {
            service: reference.clone(),
            container: used.container,
            container_port: used.container_port,
            task_definition: task_definition.template,
            target_group_arn: used.target_group,
            target_group,
        };
        Ok((Some(reference), service, copied))
    };
    let found = Found::read(cloud, s, &names, &req.table, services);
    let ((found, reference), ()) = futures::try_join!(found, check_image(cloud, &req.image))?;
    Ok(World {
        found,
        // The state table has answered by now (the state item's read).
        now: cloud.table.now(),
        reference,
    })
}

/// ECS keeps a deleted service DRAINING while it stops its tasks, and refuses a new service of
/// its name until then: waits for the environment's to go, up to the request's wait, under the
/// lease, then reads everything again.
async fn look_after_drain(
    cloud: &Cloud,
    s: &Settings,
    req: &CreateRequest,
    names: Names,
    stop: &Stop,
) -> Result<World, Error> {
    let (service, started) = (&names.resource, Instant::now());
    if req.wait.is_zero() {
        return Err(still_being_deleted(service));
    }
    info!("Service {service} is still being deleted, waiting for it to go");
    while started.elapsed() < req.wait {
        stop.check()?;
        tokio::time::sleep(DRAIN_POLL).await;
        let found = cloud.ecs.service(&s.target_cluster, service).await?;
        if !found.is_some_and(|svc| svc.is_draining()) {
            let world = look(cloud, s, req, names.clone()).await?;
            if !world.found.draining {
                return Ok(world);
            }
        }
    }
    Err(still_being_deleted(service))
}

/// A service of the environment's name is draining, and the run does not wait (long enough).
fn still_being_deleted(service: &str) -> Error {
    Error::Busy {
        what: format!("service {service}"),
        why: "it is still being deleted".into(),
    }
}

async fn check_image(cloud: &Cloud, image: &ImageUri) -> Result<(), Error> {
    if image.ecr.is_none() {
        debug!("{} is not in ECR, not checked", image.uri);
        return Ok(());
    }
    if cloud.registry.image_exists(image).await? {
        Ok(())
    } else {
        Err(Error::ImageNotFound {
            uri: image.uri.clone(),
        })
    }
}

/// What the reference service runs and where its load balancer entry sends traffic.
struct Used {
    task_definition: String,
    target_group: String,
    container: String,
    container_port: i32,
}

/// The reference service, with the task definition, target group and container it uses.
fn reference_service(
    s: &Settings,
    service: Option<ServiceInfo>,
) -> Result<(ServiceInfo, Used), Error> {
    let arn = &s.reference.arn;
    let service = service.filter(ServiceInfo::is_active).ok_or_else(|| {
        Error::missing(
            "reference service",
            arn,
            "check reference_service_arn in the profile",
        )
    })?;
    let lb = service
        .load_balancers
        .iter()
        .find(|lb| lb.target_group_arn.is_some())
        .ok_or_else(|| {
            Error::missing(
                "target group of reference service",
                arn,
                "attach the reference service to an ALB target group",
            )
        })?;
    let used = Used {
        task_definition: service.task_definition.clone(),
        target_group: lb.target_group_arn.clone().unwrap_or_default(),
        container: s
            .container
            .clone()
            .or_else(|| lb.container_name.clone())
            .unwrap_or_default(),
        container_port: lb.container_port.unwrap_or(80),
    };
    Ok((service, used))
}

// 2. Decide, with no call.

/// Whether the run may go on: the names are not the reference's, and every resource of the
/// environment's names that is there is this environment's (or adopted); and which records it
/// makes.
fn decide(s: &Settings, req: &CreateRequest, w: &World) -> Result<Decision, Error> {
    let (f, reference) = (&w.found, &w.reference);
    super::refuse_reference(
        &req.name,
        &f.names,
        &reference.service.task_definition,
        &reference.target_group_arn,
    )?;
    let refuse = |what: String, why: String| Error::NotOurs {
        what,
        why,
        hint: "use another --name, or remove it if it is yours to remove and no longer needed"
            .to_string(),
    };
    let mut adopt = Vec::new();
    for whose in f.whose(s, f.host_rules()) {
        match whose.claim {
            Claim::Ours => {}
            Claim::Adopt => adopt.extend(whose.part.adopted()),
            Claim::NotOurs(why) => {
                let mut what = format!("{} {}", whose.part.kind(), whose.name);
                if let Part::Rule(_) = whose.part {
                    what = format!("{what} for host {}", f.fqdn);
                }
                return Err(refuse(what, why));
            }
        }
    }
    let target_group = f.target_group.as_ref().map(|tg| tg.arn.clone());
    if target_group.is_none() {
        f.shared.room_for_a_target_group()?;
    }
    let rule = match f.host_rules().next() {
        None => None,
        Some((rule, _))
            if target_group
                .as_ref()
                .is_some_and(|tg| rule.target_groups.contains(tg)) =>
        {
            Some(rule.arn.clone())
        }
        Some((rule, _)) => {
            return Err(Error::Busy {
                what: format!("host {}", f.fqdn),
                why: format!(
                    "listener rule {} sends it to another target group",
                    rule.arn
                ),
            })
        }
    };
    // A record eden did not make is never overwritten.
    let (ours, others) = f.records();
    if let Some((record, why)) = others.into_iter().next() {
        return Err(refuse(format!("record {record}"), why));
    }
    let records = w.wanted_records().into_iter();
    let missing = records.filter(|r| !ours.iter().any(|e| super::same_alias(e, r)));
    Ok(Decision {
        adopt,
        records: missing.collect(),
        target_group,
        rule,
    })
}

// 3. Plan: the steps the dry run prints and the run applies.

/// What the first round's reads decide, before anything is written: what the run makes,
/// reuses and changes. [`Decision::plan`] turns it into the steps the dry run prints and the
/// run applies.
struct Decision {
    /// Untagged resources of an environment the state table records, to tag as eden's.
    adopt: Vec<Adopted>,
    /// The alias records to create: none when the host has them all.
    records: Vec<AliasRecord>,
    /// The environment's target group to reuse; None: one is made.
    target_group: Option<String>,
    /// The host's rule to reuse (it forwards to that target group); None: one is made.
    rule: Option<String>,
}

impl Decision {
    /// The steps, each after what it needs: the rule after the target group (AWS wants the
    /// target group on the ALB before a service uses it), the records after the state item
    /// (no record of eden's is ever without the item that makes it eden's), and the service
    /// last, after everything else, with the lease given up alongside it: a failure then never
    /// leaves a service behind, whose name ECS keeps while it drains.
    fn plan(&self, s: &Settings, req: &CreateRequest, w: &World) -> Plan {
        let (f, names) = (&w.found, &w.found.names);
        let resource = &names.resource;
        let item = state_item(s, req, w);
        let tags = tags_for(s, req, item.expires_at);
        let mut plan = Plan {
            // The run waits for it to go, then reads again: what the plan shows if nothing
            // else changed meanwhile.
            waits_for: Vec::from_iter(f.draining.then(|| {
                PlannedChange::wait("service", format!("{resource} (it is being deleted)"))
            })),
            ..Plan::default()
        };

        let copy = TaskDefinitionCopy {
            template: w.reference.task_definition.clone(),
            family: resource.clone(),
            container: w.reference.container.clone(),
            image: req.image.uri.clone(),
            environment: req.environment.clone(),
            tags: tags.clone(),
        };
        let task_definition = plan.add_undoable(
            PlannedChange::create(
                "task definition",
                format!("{resource} (image {})", req.image.uri),
            ),
            Op::RegisterTaskDefinition(copy),
            &[],
            |id| Op::DeregisterTaskDefinition {
                arn: Ref::MadeBy(id),
            },
        );
        let template = &w.reference.target_group;
        let (target_group, made_target_group) = match &self.target_group {
            Some(arn) => (Ref::Known(arn.clone()), None),
            None => {
                let id = plan.add_undoable(
                    PlannedChange::create("target group", &names.target_group),
                    Op::CreateTargetGroup {
                        name: names.target_group.clone(),
                        settings: template.settings.clone(),
                        tags: tags.clone(),
                    },
                    &[],
                    |id| Op::DeleteTargetGroup {
                        arn: Ref::MadeBy(id),
                    },
                );
                (Ref::MadeBy(id), Some(id))
            }
        };
        // A new target group, or one a stopped run left, gets the reference's attributes; an
        // existing environment's keeps its own.
        let wants_attributes = made_target_group.is_some() || w.is_new();
        if wants_attributes && !template.attributes.is_empty() {
            plan.add(
                PlannedChange::update(
                    "target group",
                    format!("{} (the reference's attributes)", names.target_group),
                ),
                Op::SetTargetGroupAttributes {
                    target_group: target_group.clone(),
                    attributes: template.attributes.clone(),
                },
                &Vec::from_iter(made_target_group),
            );
        }
        let ours = ownership::tags(&s.profile, req.name.as_str());
        for adopted in &self.adopt {
            plan.add(
                PlannedChange::update(
                    "tags",
                    format!("of {} (adopted as eden's)", adopted.describe()),
                ),
                Op::Adopt {
                    resource: adopted.clone(),
                    tags: ours.clone(),
                },
                &[],
            );
        }
        let rule = match &self.rule {
            Some(arn) => Ref::Known(arn.clone()),
            None => Ref::MadeBy(plan.add_undoable(
                PlannedChange::create("listener rule", format!("host {}", f.fqdn)),
                Op::CreateRule {
                    listener: f.shared.listener.clone(),
                    host: f.fqdn.clone(),
                    target_group: target_group.clone(),
                    tags: tags.clone(),
                    rules: f.shared.rules.clone(),
                },
                &Vec::from_iter(made_target_group),
                |id| Op::DeleteRule {
                    arn: Ref::MadeBy(id),
                    host: f.fqdn.clone(),
                },
            )),
        };
        let entry = &names.file_entry;
        let (_, file) = &f.file;
        let endpoint = file.endpoint(entry, &s.update_key);
        if endpoint != Some(f.fqdn.as_str()) {
            let change = PlannedChange::update(
                "config key",
                format!("{} of {entry} in s3://{}/{}", s.update_key, s.bucket, s.key),
            );
            let at = FileKey::of(s, &f.names);
            let set = Op::SetEndpoint {
                at: at.clone(),
                env_type: s.env_type.clone(),
                endpoint: f.fqdn.clone(),
                file: f.file.clone(),
            };
            // An endpoint that was there before is this run's to change, not to take away.
            let remove = Op::RemoveEndpoint { at, file: None };
            match endpoint {
                Some(_) => plan.add(change, set, &[]),
                None => plan.add_undoable(change, set, &[], |_| remove),
            };
        }
        let item_change = format!("{resource} in table {}", req.table);
        let state = plan.add_undoable(
            match &f.state {
                Some(_) => PlannedChange::update("state item", item_change),
                None => PlannedChange::create("state item", item_change),
            },
            Op::PutStateItem {
                table: req.table.clone(),
                item: item.clone(),
            },
            &[],
            |_| match &f.state {
                Some(previous) => Op::PutStateItem {
                    table: req.table.clone(),
                    item: previous.clone(),
                },
                None => Op::DeleteStateItem {
                    table: req.table.clone(),
                    profile: item.profile.clone(),
                    name: item.name.clone(),
                },
            },
        );
        if !self.records.is_empty() {
            let records = Op::CreateRecords {
                zone_id: s.zone_id.clone(),
                records: self.records.clone(),
            };
            let change = format!("{} -> {}", f.fqdn, f.shared.alb.dns_name);
            plan.add_undoable(
                PlannedChange::create("record", change),
                records,
                &[state],
                |_| Op::DeleteRecords {
                    zone_id: s.zone_id.clone(),
                    records: self.records.clone(),
                },
            );
        }
        match &f.service {
            Some(existing) => {
                let expiry = tags.iter().filter(|(k, _)| k == EXPIRY_TAG).cloned();
                let expiry: Vec<Tag> = expiry.collect();
                let deploy = |task_definition, expiry| Op::Deploy {
                    cluster: s.target_cluster.clone(),
                    service: resource.clone(),
                    task_definition,
                    expiry,
                };
                plan.add_undoable(
                    PlannedChange::update("service", format!("{resource} (deploy)")),
                    deploy(
                        Ref::MadeBy(task_definition),
                        (!expiry.is_empty()).then(|| (existing.arn.clone(), expiry)),
                    ),
                    &[],
                    |_| deploy(Ref::Known(existing.task_definition.clone()), None),
                )
            }
            None => {
                let new = NewService {
                    cluster: s.target_cluster.clone(),
                    name: resource.clone(),
                    task_definition: String::new(),
                    target_group_arn: String::new(),
                    container_name: w.reference.container.clone(),
                    container_port: w.reference.container_port,
                    settings: w.reference.service.settings.clone(),
                    tags: tags.clone(),
                };
                plan.add_undoable(
                    PlannedChange::create("service", resource),
                    Op::CreateService {
                        service: new,
                        task_definition: Ref::MadeBy(task_definition),
                        target_group: target_group.clone(),
                    },
                    &[],
                    |_| Op::DeleteService {
                        cluster: s.target_cluster.clone(),
                        name: resource.clone(),
                    },
                )
            }
        };
        plan.make_last();
        plan.handover = Some(Handover::Stays(Leaves {
            state: item.last_updated,
            task_definition: Ref::MadeBy(task_definition),
            target_group,
            rule,
            records: w.wanted_records(),
            alb: f.shared.alb.dns_name.clone(),
            before: f.service.as_ref().map(|svc| svc.task_definition.clone()),
        }));
        plan
    }
}

/// The environment's state item after this run: its TTL, or the earlier one, started again.
fn state_item(s: &Settings, req: &CreateRequest, w: &World) -> EnvironmentItem {
    let f = &w.found;
    let ttl = req.ttl.or_else(|| {
        let previous = f.state.as_ref()?;
        Ttl::from_secs(previous.ttl_seconds?)
    });
    EnvironmentItem {
        profile: s.profile.clone(),
        name: f.names.resource.clone(),
        endpoint: f.fqdn.clone(),
        last_updated: w.now,
        expires_at: ttl.map(|t| t.expiry_from(w.now)),
        ttl_seconds: ttl.map(Ttl::as_secs),
    }
}

/// The tags of what create makes: whose it is, and its expiry.
fn tags_for(s: &Settings, req: &CreateRequest, expires_at: Option<i64>) -> Vec<Tag> {
    let mut tags = ownership::tags(&s.profile, req.name.as_str());
    if let Some(at) = expires_at {
        tags.push((EXPIRY_TAG.into(), rfc3339(at)));
    }
    tags
}

#[cfg(test)]
mod tests {
    //! The decision as a value: one world read from the fake cloud, changed as each case says,
    //! gives this plan or this refusal, with no call made.

    use super::super::on_fake_cloud::{bare, create_request, kinds, NEW_ENVIRONMENT};
    use super::*;
    use crate::cloud::ListenerRule;
    use crate::fake::FakeCloud;
    use crate::ownership;

    /// What a case expects: the plan's changes as `action resource`, or the refusal's kind.
    #[derive(Debug, PartialEq)]
    enum Outcome {
        Plan(Vec<String>),
        Refused(&'static str),
    }

    fn plan(changes: &[&str]) -> Outcome {
        Outcome::Plan(changes.iter().map(|c| c.to_string()).collect())
    }

    /// A service of the environment's name, tagged as `tags` say.
    fn service_tagged(w: &mut World, tags: Vec<Tag>) {
        let mut service = w.reference.service.clone();
        service.name = w.found.names.resource.clone();
        service.arn = format!("{}-env", service.arn);
        service.tags = tags;
        w.found.service = Some(service);
    }

    /// Rules of other hosts on the shared listener, up to `count` target groups forwarded to,
    /// the default rule's included.
    fn forward_to_target_groups(w: &mut World, count: usize) {
        let forwarded: std::collections::BTreeSet<String> = w
            .found
            .shared
            .rules
            .iter()
            .flat_map(|r| r.target_groups.clone())
            .collect();
        for i in forwarded.len()..count {
            w.found.shared.rules.push(ListenerRule {
                arn: format!("arn:aws:elasticloadbalancing:ap-northeast-1:1:listener-rule/app/shared/1/2/{i}"),
                priority: Some(1000 + i as u32),
                hosts: vec![format!("other-{i}.dev.example.com")],
                other_conditions: false,
                target_groups: vec![format!(
                    "arn:aws:elasticloadbalancing:ap-northeast-1:1:targetgroup/other-{i}/{i}"
                )],
            });
        }
    }

    fn state_item(w: &mut World) {
        w.found.state = Some(EnvironmentItem {
            profile: "api".into(),
            name: w.found.names.resource.clone(),
            endpoint: w.found.fqdn.clone(),
            last_updated: 1,
            expires_at: None,
            ttl_seconds: None,
        });
    }

    /// A new environment's writes are 3 rounds deep (target group, rule, service), a deploy's
    /// 2 (task definition, service), and each step waits for what it needs.
    #[tokio::test]
    async fn a_plan_is_as_deep_as_its_longest_chain_of_writes() {
        let s = bare();
        let fake = FakeCloud::seeded(&s);
        let cloud = fake.cloud();
        let planned = |req: CreateRequest| {
            let (cloud, s) = (&cloud, &s);
            async move {
                let mut w = look(cloud, s, &req, s.names(&req.name)).await?;
                w.found.claim_tags(cloud, s, None).await?;
                decide(s, &req, &w).map(|decision| decision.plan(s, &req, &w))
            }
        };
        let new = planned(create_request("api:v1")).await.expect("planned");
        new.assert_consistent();
        assert_eq!(new.depth(), 3, "{new:#?}");
        create(&cloud, &s, &create_request("api:v1"), &Stop::default())
            .await
            .expect("created");
        let deploy = planned(create_request("api:v2")).await.expect("planned");
        deploy.assert_consistent();
        assert_eq!(deploy.depth(), 2, "{deploy:#?}");
    }

    #[tokio::test]
    async fn these_reads_give_this_plan() {
        let s = bare();
        let fake = FakeCloud::seeded(&s);
        let req = create_request("api:v1");
        let cloud = fake.cloud();
        let read = || look(&cloud, &s, &req, s.names(&req.name));
        type Change = Box<dyn Fn(&mut World)>;
        let cases: Vec<(&str, Change, Outcome)> = vec![
            (
                "nothing of the name",
                Box::new(|_| {}),
                plan(&NEW_ENVIRONMENT),
            ),
            (
                "an environment eden made: a deploy",
                Box::new(|w| {
                    service_tagged(w, ownership::tags("api", "foo"));
                    state_item(w);
                }),
                plan(&[
                    "create task definition",
                    "create target group",
                    "update target group",
                    "create listener rule",
                    "update config key",
                    "update state item",
                    "create record",
                    "update service",
                ]),
            ),
            (
                "an untagged service the state table records: adopted",
                Box::new(|w| {
                    service_tagged(w, Vec::new());
                    state_item(w);
                }),
                plan(&[
                    "create task definition",
                    "create target group",
                    "update target group",
                    "update tags",
                    "create listener rule",
                    "update config key",
                    "update state item",
                    "create record",
                    "update service",
                ]),
            ),
            (
                "an untagged service no state item records",
                Box::new(|w| service_tagged(w, Vec::new())),
                Outcome::Refused("NotOurs"),
            ),
            (
                "another profile's service",
                Box::new(|w| service_tagged(w, ownership::tags("admin", "foo"))),
                Outcome::Refused("NotOurs"),
            ),
            (
                "an A record to an address at the host",
                Box::new(|w| w.found.records.others.push("A 10.0.0.1".into())),
                Outcome::Refused("NotOurs"),
            ),
            (
                "the host already in the environments file",
                Box::new(|w| {
                    let (entry, fqdn) = (w.found.names.file_entry.clone(), w.found.fqdn.clone());
                    w.found
                        .file
                        .1
                        .set_endpoint(&entry, "dev", "api_endpoint", &fqdn);
                }),
                plan(&[
                    "create task definition",
                    "create target group",
                    "update target group",
                    "create listener rule",
                    "create state item",
                    "create record",
                    "create service",
                ]),
            ),
            (
                "a shared ALB that forwards to 99 target groups",
                Box::new(|w| forward_to_target_groups(w, 99)),
                plan(&NEW_ENVIRONMENT),
            ),
            (
                "a shared ALB that forwards to 100 target groups, as many as AWS allows",
                Box::new(|w| forward_to_target_groups(w, 100)),
                Outcome::Refused("AlbFull"),
            ),
            (
                "the reference's task definition family",
                Box::new(|w| {
                    w.reference.service.task_definition = format!(
                        "arn:aws:ecs:ap-northeast-1:1:task-definition/{}:1",
                        w.found.names.resource
                    )
                }),
                Outcome::Refused("ReferenceName"),
            ),
        ];
        for (case, change, expected) in cases {
            let mut w = read().await.expect("read");
            change(&mut w);
            let calls = fake.calls.names().len();
            let outcome = match decide(&s, &req, &w) {
                Ok(decision) => Outcome::Plan(kinds(&decision.plan(&s, &req, &w).changes())),
                Err(Error::NotOurs { .. }) => Outcome::Refused("NotOurs"),
                Err(Error::ReferenceName { .. }) => Outcome::Refused("ReferenceName"),
                Err(Error::AlbFull { .. }) => Outcome::Refused("AlbFull"),
                Err(e) => panic!("{case}: {e}"),
            };
            assert_eq!(outcome, expected, "{case}");
            assert_eq!(
                fake.calls.names().len(),
                calls,
                "{case}: deciding made a call"
            );
        }
    }
}
