//! `eden create`: make an environment, or deploy a new image to an existing one.
//!
//! Order of calls, each line waiting only for what it needs (the longest chain is 3 calls):
//! 1. the environment's lease, and with it every check and read: the image, the reference
//!    service and its task definition and target group, the shared ALB and its rules, existing
//!    records, the environments file, the state item, and an existing service, in the
//!    reference's call when they share a cluster (all read again under the lease when another
//!    run just held it). Reads that need an earlier answer (the reference's templates, the
//!    listener's rules, the records' zone name) use what an earlier run learned, checked
//!    against that answer; without hints they come one round trip later (see
//!    [`crate::hints`]). With the reference target group's settings learned, the environment's
//!    target group is made in this round too, instead of being looked up (see [`MadeAtOnce`]);
//! 2. task definition and state item, at once; the DNS records and the environments file each
//!    as soon as its own read is back, and a new environment's records without waiting for it
//!    (Route 53, in us-east-1, is often the slowest to answer); as soon as the target group is
//!    there: the listener rule (AWS wants the target group on the ALB before a service uses
//!    it), and the target group's attributes. Without the settings learned, the target group
//!    is made here and the rule follows it, one round trip later;
//! 3. the service, created or deployed to, once everything else is in place: a failure then
//!    never leaves a service behind, whose name ECS keeps while it drains. The lease is given
//!    up alongside it, marked with the task definition the service then runs (see
//!    [`Leased::last_call`]), rather than one round trip after it.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use tracing::{debug, info};

use super::background::Background;
use super::journal::{Journal, Undo};
use super::lease::{Afterwards, FinishedWhen, Leased};
use super::{environments, priority, PlannedChange, SharedAlb, Stop};
use crate::cloud::{
    ownership_tags, AliasRecord, Cloud, EnvironmentItem, ListenerRule, NewRule, NewService, Object,
    RuleCreation, ServiceInfo, Tag, TargetGroup, TargetGroupCreation, TargetGroupSettings,
    TargetGroupTemplate, TaskDefinitionCopy, Template,
};
use crate::envfile::{Change, EnvironmentsFile};
use crate::error::Error;
use crate::expiry::{rfc3339, Ttl};
use crate::hints::ReferenceHint;
use crate::image::ImageUri;
use crate::names::{EnvName, Names};
use crate::overrides::EnvVar;
use crate::profile::Settings;

/// The tag that shows an environment's expiry on its resources; the state item is what gc reads.
pub const EXPIRY_TAG: &str = "eden:expires-at";

/// How many times a listener rule is tried on other priorities after losing one to a race.
const RULE_ATTEMPTS: u32 = 20;

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
}

/// The reference service and what a copy of it needs.
struct Reference {
    service: ServiceInfo,
    container: String,
    container_port: i32,
    task_definition: Template,
    target_group_arn: String,
    /// None when not read: the environment's target group is there, or was thought to be.
    target_group: Option<TargetGroupTemplate>,
}

/// The environment's target group as the first round left it.
enum EnvTargetGroup {
    /// Looked up by name (no settings learned to make it from): there or not.
    Found(Option<TargetGroup>),
    /// Made from the settings learned of the reference's target group. AWS hands back a target
    /// group of that name made before with the same settings, so it may be older than the run.
    Made {
        arn: String,
        settings: Box<TargetGroupSettings>,
    },
    /// One of that name was there already, with other settings (moto: with any), or is thought
    /// to be: this machine made the environment. Its ARN is not read yet.
    Taken,
}

/// The environment's target group made in the first round, before the run knows whether the
/// environment exists, which makes the chain to the service a round trip shorter. Remembered
/// across the reads made again under the lease: a run that fails undoes it when no environment
/// turns out to have it. Made before the lease is held, it can also be another run's gain: a
/// create of the same name that holds the lease finds it and uses it, which is why a run that
/// stops waiting for that lease leaves it.
#[derive(Default)]
struct MadeAtOnce(Mutex<Option<String>>);

impl MadeAtOnce {
    fn record(&self, arn: &str) {
        *self.lock() = Some(arn.to_string());
    }

    /// The target group, for the one step that decides what becomes of it.
    fn take(&self) -> Option<String> {
        self.lock().take()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Everything the first round read, but what [`Listing`] reads, and the target group it made.
struct World {
    names: Names,
    fqdn: String,
    /// When the run started, in epoch seconds: its state item's and tags' time.
    now: i64,
    reference: Reference,
    shared: SharedAlb,
    state: Option<EnvironmentItem>,
    service: Option<ServiceInfo>,
    target_group: EnvTargetGroup,
}

/// What only the records' and the file's own writes need, read beside the rest and awaited by
/// those writes alone: Route 53 answers from us-east-1, often the furthest call of a run.
struct Listing {
    records: Background<Vec<AliasRecord>>,
    file: Background<(Option<Object>, EnvironmentsFile)>,
}

impl World {
    /// The alias records the environment needs.
    fn wanted_records(&self) -> Vec<AliasRecord> {
        super::records_for(&self.fqdn, &self.shared.alb)
    }

    /// Whether no environment of this name exists: whatever of it is there is this run's, or
    /// was left by a run that stopped.
    fn is_new(&self) -> bool {
        self.state.is_none() && self.service.is_none()
    }
}

/// The tags of what create makes: whose it is, and its expiry.
fn tags_for(s: &Settings, req: &CreateRequest, expires_at: Option<i64>) -> Vec<Tag> {
    let mut tags = ownership_tags(&s.profile, req.name.as_str());
    if let Some(at) = expires_at {
        tags.push((EXPIRY_TAG.into(), rfc3339(at)));
    }
    tags
}

/// Whether the zone has every wanted record already.
fn in_place(existing: &[AliasRecord], wanted: &[AliasRecord]) -> bool {
    wanted
        .iter()
        .all(|r| existing.iter().any(|e| super::same_alias(e, r)))
}

pub async fn create(
    cloud: &Cloud,
    s: &Settings,
    req: &CreateRequest,
    stop: &Stop,
) -> Result<Created, Error> {
    let lease = Leased::new(&req.name, &req.table, req.wait);
    // A failed deploy is undone back to the environment as it was, which stays: its lease item
    // stays stamped. A failed first create leaves nothing, so its lease item goes. Until the
    // first round tells, a run whose reads failed goes by what this machine learned: a lease item
    // dropped from an environment that stays costs its next run a round trip, one kept for
    // nothing is swept by `eden gc --orphans`.
    let resource = s.names(&req.name).resource;
    let existed = AtomicBool::new(cloud.hints.environment_exists(&s.profile, &resource));
    let made_at_once = MadeAtOnce::default();
    let now = super::now();
    let result = lease
        .run(
            cloud,
            s,
            stop,
            |names| look(cloud, s, req, names, now, Some(&made_at_once)),
            |(world, _)| world.state.is_some(),
            |looked| async {
                let (world, listing) = match looked {
                    Ok(looked) => looked,
                    Err(failed) => {
                        return Err(match made_at_once.take() {
                            Some(arn) => undo_made_at_once(cloud, s, req, arn, failed).await,
                            None => failed,
                        });
                    }
                };
                existed.store(world.service.is_some(), Ordering::SeqCst);
                make_and_record(cloud, s, req, &lease, world, listing, &made_at_once, stop).await
            },
            |result| {
                let after = match result {
                    Ok(_) => Afterwards::Stays,
                    Err(_) if existed.load(Ordering::SeqCst) => Afterwards::Stays,
                    // The service may be there, made by this run or finished by another.
                    Err(Error::Unfinished { .. }) => Afterwards::Stays,
                    Err(_) => Afterwards::Undone,
                };
                let stays = after == Afterwards::Stays;
                cloud.hints.learn_environment(&s.profile, &resource, stays);
                after
            },
        )
        .await;
    // Still there when the lease could not be taken, as no work ran. Another run that holds the
    // lease may be using it; else it goes (`eden gc --orphans` finds one left by a stop).
    match (result, made_at_once.take()) {
        (Err(e @ (Error::Busy { .. } | Error::Interrupted)), Some(_)) => Err(e),
        (Err(e), Some(arn)) => Err(undo_made_at_once(cloud, s, req, arn, e).await),
        (result, _) => result,
    }
}

/// What create would make or change, changing nothing.
pub async fn preview(
    cloud: &Cloud,
    s: &Settings,
    req: &CreateRequest,
) -> Result<Vec<PlannedChange>, Error> {
    let names = s.names(&req.name);
    let (w, listing) = look(cloud, s, req, names, super::now(), None).await?;
    let (records, file) = futures::try_join!(listing.records.get(), listing.file.get())?;
    let resource = &w.names.resource;
    let mut changes = vec![PlannedChange::create(
        "task definition",
        format!("{resource} (image {})", req.image.uri),
    )];
    if matches!(w.target_group, EnvTargetGroup::Found(None)) {
        changes.push(PlannedChange::create("target group", &w.names.target_group));
    }
    let alb = &w.shared.alb.dns_name;
    if records.is_empty() {
        changes.push(PlannedChange::create(
            "record",
            format!("{} -> {alb}", w.fqdn),
        ));
    } else if !in_place(&records, &w.wanted_records()) {
        changes.push(PlannedChange::update(
            "record",
            format!("{} -> {alb}", w.fqdn),
        ));
    }
    if !w.shared.rules.iter().any(|r| r.serves_host(&w.fqdn)) {
        changes.push(PlannedChange::create(
            "listener rule",
            format!("host {}", w.fqdn),
        ));
    }
    changes.push(match &w.service {
        Some(_) => PlannedChange::update("service", format!("{resource} (deploy)")),
        None => PlannedChange::create("service", resource),
    });
    let entry = &w.names.file_entry;
    if file.1.endpoint(entry, &s.update_key) != Some(w.fqdn.as_str()) {
        changes.push(PlannedChange::update(
            "config key",
            format!("{} of {entry} in s3://{}/{}", s.update_key, s.bucket, s.key),
        ));
    }
    changes.push(match &w.state {
        Some(_) => {
            PlannedChange::update("state item", format!("{resource} in table {}", req.table))
        }
        None => PlannedChange::create("state item", format!("{resource} in table {}", req.table)),
    });
    Ok(changes)
}

/// Steps 2 and 3, undone when one fails, unless the lease could not be taken back.
#[allow(clippy::too_many_arguments)]
async fn make_and_record(
    cloud: &Cloud,
    s: &Settings,
    req: &CreateRequest,
    lease: &Leased<'_>,
    world: World,
    listing: Listing,
    made_at_once: &MadeAtOnce,
    stop: &Stop,
) -> Result<Created, Error> {
    let journal = Journal::default();
    if let Some(arn) = made_at_once.take().filter(|_| world.is_new()) {
        journal.record(Undo::TargetGroup(arn));
    }
    match make(cloud, s, req, lease, &world, listing, &journal, stop).await {
        Ok(created) => {
            info!(
                "Successfully finished creating environment {}",
                world.names.resource
            );
            Ok(created)
        }
        Err(unfinished @ Error::Unfinished { .. }) => Err(unfinished),
        Err(cause) => Err(journal
            .roll_back(cloud, cause, super::cleanup_command(s, req.name.as_str()))
            .await),
    }
}

/// A run that failed before its work (its first round, or the lease's take), after the first
/// round made the environment's target group: the target group is undone when the state table
/// has no environment of this name.
async fn undo_made_at_once(
    cloud: &Cloud,
    s: &Settings,
    req: &CreateRequest,
    arn: String,
    cause: Error,
) -> Error {
    let resource = s.names(&req.name).resource;
    // An environment that has it keeps it; a table that cannot tell leaves it for `eden delete`.
    let Ok(None) = cloud
        .table
        .environment(&req.table, &s.profile, &resource)
        .await
    else {
        return cause;
    };
    let journal = Journal::default();
    journal.record(Undo::TargetGroup(arn));
    journal
        .roll_back(cloud, cause, super::cleanup_command(s, req.name.as_str()))
        .await
}

/// Step 1: every check and read, at once. With `made_at_once` and the reference target
/// group's settings learned, the environment's target group is made rather than looked up;
/// without it (a dry run) nothing is made, and nothing is taken as known that is not read.
async fn look(
    cloud: &Cloud,
    s: &Settings,
    req: &CreateRequest,
    names: Names,
    now: i64,
    made_at_once: Option<&MadeAtOnce>,
) -> Result<(World, Listing), Error> {
    let image = check_image(cloud, &req.image);
    // With a hint, the templates are read alongside the service that names them.
    let hint = cloud.hints.reference(&s.reference.arn);
    // An environment this machine made has its target group, most likely: a deploy needs
    // neither it nor the reference's read, and makes it from that read when it is gone.
    let known =
        made_at_once.is_some() && cloud.hints.environment_exists(&s.profile, &names.resource);
    let settings = made_at_once
        .filter(|_| !known)
        .zip(hint.as_ref())
        .and_then(|(made, hint)| Some((made, cloud.hints.target_group(&hint.target_group)?)));
    let target_group = async {
        if known {
            return Ok(EnvTargetGroup::Taken);
        }
        let Some((made, settings)) = settings else {
            let found = cloud.elb.target_group(&names.target_group).await?;
            return Ok(EnvTargetGroup::Found(found));
        };
        let tags = tags_for(s, req, req.ttl.map(|t| t.expiry_from(now)));
        let created = cloud
            .elb
            .copy_target_group(&settings, &names.target_group, &tags)
            .await?;
        Ok::<_, Error>(match created {
            TargetGroupCreation::Created(arn) => {
                made.record(&arn);
                EnvTargetGroup::Made {
                    arn,
                    settings: Box::new(settings),
                }
            }
            TargetGroupCreation::NameTaken => EnvTargetGroup::Taken,
        })
    };
    let reference = async {
        let guessed = async {
            match &hint {
                Some(hint) => Some(templates(cloud, hint, !known).await),
                None => None,
            }
        };
        // `join`: the target group's answer is awaited whatever the others say, so that one
        // made here is known.
        let (services, target_group, guessed) =
            futures::join!(services(cloud, s, &names.resource), target_group, guessed);
        let ((reference, service), target_group) = (services?, target_group?);
        let (reference, used) = reference_service(s, reference)?;
        let copied = matches!(
            target_group,
            EnvTargetGroup::Found(None) | EnvTargetGroup::Made { .. }
        );
        let templates = match guessed {
            Some(Ok(templates)) if hint.as_ref() == Some(&used) => templates,
            _ => {
                cloud.hints.learn_reference(&s.reference.arn, &used);
                self::templates(cloud, &used, copied).await?
            }
        };
        info!(
            "Retrieved reference task definition from {}",
            used.task_definition
        );
        if let Some(template) = &templates.1 {
            info!("Retrieved reference target group: {}", used.target_group);
            cloud
                .hints
                .learn_target_group(&used.target_group, &template.settings);
        }
        let reference = Reference {
            service: reference,
            container: used.container,
            container_port: used.container_port,
            task_definition: templates.0,
            target_group_arn: used.target_group,
            target_group: templates.1,
        };
        Ok::<_, Error>((reference, target_group, service))
    };
    let shared = super::shared_alb(cloud, s);
    let host = super::host_lookup(cloud, s, &names);
    let file = {
        let (cloud, bucket, key) = (cloud.clone(), s.bucket.clone(), s.key.clone());
        Background::start(async move { environments::read(&cloud, &bucket, &key).await })
    };
    let state = cloud
        .table
        .environment(&req.table, &s.profile, &names.resource);
    let (reference, others) = futures::join!(reference, async {
        futures::try_join!(image, shared, host, state)
    });
    let ((reference, target_group, service), ((), shared, (fqdn, records), state)) =
        (reference?, others?);
    if let Some(service) = service.as_ref().filter(|svc| svc.status == "DRAINING") {
        return Err(Error::Busy {
            what: format!("service {}", service.name),
            why: "it is still being deleted".into(),
        });
    }
    let world = World {
        names,
        fqdn,
        now,
        reference,
        shared,
        state,
        service: service.filter(ServiceInfo::is_active),
        target_group,
    };
    Ok((world, Listing { records, file }))
}

async fn check_image(cloud: &Cloud, image: &ImageUri) -> Result<(), Error> {
    if image.ecr.is_none() {
        debug!("{} is not in ECR, not checked", image.uri);
        return Ok(());
    }
    info!("Checking if image {} exists", image.uri);
    if cloud.registry.image_exists(image).await? {
        info!("Image exists");
        Ok(())
    } else {
        Err(Error::ImageNotFound {
            uri: image.uri.clone(),
        })
    }
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

/// The reference service, with the task definition, target group and container it uses.
fn reference_service(
    s: &Settings,
    service: Option<ServiceInfo>,
) -> Result<(ServiceInfo, ReferenceHint), Error> {
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
    let used = ReferenceHint {
        task_definition: service.task_definition.clone(),
        target_group: lb.target_group_arn.clone().unwrap_or_default(),
        container: s
            .container
            .clone()
            .or_else(|| lb.container_name.clone())
            .unwrap_or_default(),
        container_port: lb.container_port.unwrap_or(80),
    };
    info!("Retrieved reference service {arn}");
    Ok((service, used))
}

/// Reads the reference task definition and, when `with_target_group`, the reference target
/// group.
async fn templates(
    cloud: &Cloud,
    used: &ReferenceHint,
    with_target_group: bool,
) -> Result<(Template, Option<TargetGroupTemplate>), Error> {
    let task_definition = cloud
        .ecs
        .task_definition_template(&used.task_definition, &used.container);
    let target_group = async {
        if !with_target_group {
            return Ok(None);
        }
        Ok(Some(
            cloud.elb.target_group_template(&used.target_group).await?,
        ))
    };
    futures::try_join!(task_definition, target_group)
}

/// Steps 2 and 3, recording each change in the journal as soon as it is made.
#[allow(clippy::too_many_arguments)]
async fn make(
    cloud: &Cloud,
    s: &Settings,
    req: &CreateRequest,
    lease: &Leased<'_>,
    w: &World,
    listing: Listing,
    journal: &Journal,
    stop: &Stop,
) -> Result<Created, Error> {
    let deploy = w.service.is_some();
    let now = w.now;
    let ttl = req.ttl.or_else(|| {
        let previous = w.state.as_ref()?;
        Ttl::from_secs(previous.ttl_seconds?)
    });
    let item = EnvironmentItem {
        profile: s.profile.clone(),
        name: w.names.resource.clone(),
        endpoint: w.fqdn.clone(),
        last_updated: now,
        expires_at: ttl.map(|t| t.expiry_from(now)),
        ttl_seconds: ttl.map(Ttl::as_secs),
    };
    let tags = tags_for(s, req, item.expires_at);
    stop.check()?;

    // The rule and the target group's attributes follow the target group alone.
    let target_group_then_rule = async {
        let (target_group, attributes) = target_group(cloud, w, &tags, journal).await?;
        stop.check()?;
        let (rule, attributes) = futures::join!(
            rule(cloud, w, &target_group, &tags, journal),
            cloud
                .elb
                .set_target_group_attributes(&target_group, &attributes),
        );
        rule?;
        attributes?;
        Ok::<_, Error>(target_group)
    };
    // Step 2. `join`, not `try_join`: a failure must not drop a call that may still succeed,
    // or what it made would be missing from the journal. The chain to the service goes first:
    // where calls queue (moto, or a throttled API), it goes ahead of calls with time to spare.
    let made = async {
        let (target_group, task_definition) = futures::join!(
            target_group_then_rule,
            task_definition(cloud, w, req, &tags, journal),
        );
        Ok::<_, Error>((task_definition?, target_group?))
    };
    let others = async {
        let (records, file, state) = futures::join!(
            records(cloud, s, w, listing.records, journal),
            file_entry(cloud, s, w, listing.file, journal),
            state_item(cloud, &req.table, &item, w.state.as_ref(), journal),
        );
        records.and(file).and(state)
    };
    // Step 3, after every other write: a failure then never leaves a new service behind,
    // whose name ECS keeps while it drains, and the lease can go alongside it.
    let (made, others) = futures::join!(made, others);
    let (task_definition, target_group) = made?;
    others?;
    stop.check()?;
    let landed = FinishedWhen::ServiceRuns {
        task_definition: task_definition.clone(),
    };
    let service = service(cloud, s, w, &task_definition, &target_group, &tags, journal);
    lease.last_call(cloud, s, &landed, service).await?;

    Ok(Created {
        profile: s.profile.clone(),
        name: w.names.resource.clone(),
        endpoint: w.fqdn.clone(),
        image: req.image.uri.clone(),
        task_definition,
        deployed: deploy,
        last_updated: item.last_updated,
        expires_at: item.expires_at,
    })
}

async fn task_definition(
    cloud: &Cloud,
    w: &World,
    req: &CreateRequest,
    tags: &[(String, String)],
    journal: &Journal,
) -> Result<String, Error> {
    let copy = TaskDefinitionCopy {
        template: w.reference.task_definition.clone(),
        family: w.names.resource.clone(),
        container: w.reference.container.clone(),
        image: req.image.uri.clone(),
        environment: req.environment.clone(),
        tags: tags.to_vec(),
    };
    let arn = cloud.ecs.copy_task_definition(&copy).await?;
    journal.record(Undo::TaskDefinition(arn.clone()));
    info!("Registered new task definition: {arn}");
    Ok(arn)
}

/// The environment's target group: the one the first round made, one there already, or one
/// made now. A target group made from settings the reference no longer has is made again.
/// Returns its ARN, and the attributes it still needs: a new environment's target group gets
/// the reference's, an existing one keeps its own.
async fn target_group(
    cloud: &Cloud,
    w: &World,
    tags: &[(String, String)],
    journal: &Journal,
) -> Result<(String, Vec<(String, String)>), Error> {
    let name = &w.names.target_group;
    let template = w.reference.target_group.as_ref();
    let attributes = |template: Option<&TargetGroupTemplate>| match template {
        Some(template) if w.is_new() => template.attributes.clone(),
        _ => Vec::new(),
    };
    let existing = match &w.target_group {
        EnvTargetGroup::Found(found) => found.as_ref().map(|tg| tg.arn.clone()),
        // AWS handed back an existing environment's own.
        EnvTargetGroup::Made { arn, .. } if !w.is_new() => Some(arn.clone()),
        EnvTargetGroup::Made { arn, settings }
            if template.is_some_and(|t| t.settings == **settings) =>
        {
            info!("Created target group {arn}");
            return Ok((arn.clone(), attributes(template)));
        }
        EnvTargetGroup::Made { arn, .. } => {
            info!("Target group {arn} has settings the reference's no longer has, making it again");
            cloud.elb.delete_target_group(arn).await?;
            None
        }
        // The host's rule names it, or one more read.
        EnvTargetGroup::Taken => match rule_target_group(w) {
            Some(arn) => Some(arn),
            None => cloud.elb.target_group(name).await?.map(|tg| tg.arn),
        },
    };
    if let Some(arn) = existing {
        info!("Target group {name} already exists, reusing it");
        return Ok((arn, attributes(template)));
    }
    // Not read when the environment was thought to have its target group.
    let template = match template {
        Some(template) => template.clone(),
        None => {
            let arn = &w.reference.target_group_arn;
            info!("Retrieved reference target group: {arn}");
            cloud.elb.target_group_template(arn).await?
        }
    };
    match cloud
        .elb
        .copy_target_group(&template.settings, name, tags)
        .await?
    {
        TargetGroupCreation::Created(arn) => {
            journal.record(Undo::TargetGroup(arn.clone()));
            info!("Created target group {arn}");
            Ok((arn, attributes(Some(&template))))
        }
        TargetGroupCreation::NameTaken => Err(Error::Busy {
            what: format!("target group {name}"),
            why: "another writer made it while this run read".into(),
        }),
    }
}

/// The environment's target group as its host's listener rule names it.
fn rule_target_group(w: &World) -> Option<String> {
    let rule = w.shared.rules.iter().find(|r| r.serves_host(&w.fqdn))?;
    rule.target_groups
        .iter()
        .find(|arn| target_group_name(arn) == Some(w.names.target_group.as_str()))
        .cloned()
}

/// The name in `arn:...:targetgroup/NAME/ID`.
fn target_group_name(arn: &str) -> Option<&str> {
    arn.rsplit_once(":targetgroup/")?.1.split('/').next()
}

/// Points the host name at the shared ALB. A new environment whose records' lookup is not back
/// yet creates them without waiting for it (Route 53 refuses a CREATE over an existing record);
/// the lookup then tells whether they are this run's to undo, since moto does take such a CREATE.
async fn records(
    cloud: &Cloud,
    s: &Settings,
    w: &World,
    listed: Background<Vec<AliasRecord>>,
    journal: &Journal,
) -> Result<(), Error> {
    let alb = &w.shared.alb;
    let wanted = w.wanted_records();
    let early = !listed.is_done() && w.service.is_none();
    let made_early = early && cloud.dns.create(&s.zone_id, &wanted).await?;
    let undo = |records| Undo::Records {
        zone_id: s.zone_id.clone(),
        records,
    };
    let existing = match listed.get().await {
        Ok(existing) => existing,
        Err(lookup) => {
            if made_early {
                // Route 53 took the CREATE, so nothing was there: the records are this run's.
                journal.record(undo(wanted));
            }
            return Err(lookup);
        }
    };
    let ours = if made_early {
        existing.is_empty()
    } else if in_place(&existing, &wanted) {
        info!("Record {} already points at {}", w.fqdn, alb.dns_name);
        return Ok(());
    } else if existing.is_empty() && cloud.dns.create(&s.zone_id, &wanted).await? {
        true
    } else {
        // A record that existed before this run, pointing elsewhere, is not ours to remove.
        cloud.dns.upsert(&s.zone_id, &wanted).await?;
        false
    };
    if ours {
        journal.record(undo(wanted));
    }
    info!("Successfully created ALIAS: {} -> {}", w.fqdn, alb.dns_name);
    Ok(())
}

async fn rule(
    cloud: &Cloud,
    w: &World,
    target_group: &str,
    tags: &[(String, String)],
    journal: &Journal,
) -> Result<(), Error> {
    let host_rule = |rules: &[ListenerRule]| rules.iter().find(|r| r.serves_host(&w.fqdn)).cloned();
    if let Some(existing) = host_rule(&w.shared.rules) {
        if existing.target_groups.iter().any(|tg| tg == target_group) {
            info!(
                "ELBv2 listener rule for host {} already exists, reusing it",
                w.fqdn
            );
            return Ok(());
        }
        return Err(Error::Busy {
            what: format!("host {}", w.fqdn),
            why: format!(
                "listener rule {} sends it to another target group",
                existing.arn
            ),
        });
    }
    let mut rules = w.shared.rules.clone();
    let mut tried = BTreeSet::new();
    for attempt in 1..=RULE_ATTEMPTS {
        let Some(priority) = priority::free_priority(&w.fqdn, &rules, &tried) else {
            return Err(Error::Busy {
                what: format!("listener {}", w.shared.listener),
                why: "every rule priority is taken".into(),
            });
        };
        let new = NewRule {
            listener: w.shared.listener.clone(),
            priority,
            host: w.fqdn.clone(),
            target_group_arn: target_group.to_string(),
            tags: tags.to_vec(),
        };
        match cloud.elb.create_rule(&new).await? {
            RuleCreation::Created(arn) => {
                journal.record(Undo::Rule(arn.clone()));
                info!("Created ELBv2 listener rule {arn}: host {} -> {target_group} (priority {priority})", w.fqdn);
                return Ok(());
            }
            RuleCreation::PriorityInUse => {
                debug!("priority {priority} was taken first (attempt {attempt}), trying another");
                tried.insert(priority);
                tokio::time::sleep(super::backoff(attempt)).await;
                rules = cloud.elb.rules(&w.shared.listener).await?;
                if host_rule(&rules).is_some() {
                    return Err(Error::Busy {
                        what: format!("host {}", w.fqdn),
                        why: "another eden run is creating this environment".into(),
                    });
                }
            }
        }
    }
    Err(Error::Busy {
        what: format!("listener {}", w.shared.listener),
        why: format!("{RULE_ATTEMPTS} rule priorities in a row were taken by other writers"),
    })
}

/// Creates the service, or deploys to it when it exists.
async fn service(
    cloud: &Cloud,
    s: &Settings,
    w: &World,
    task_definition: &str,
    target_group: &str,
    tags: &[(String, String)],
    journal: &Journal,
) -> Result<(), Error> {
    let name = &w.names.resource;
    if let Some(existing) = &w.service {
        info!("ECS Service {name} already exists, will deploy {task_definition}");
        let expiry: Vec<_> = tags
            .iter()
            .filter(|(k, _)| k == EXPIRY_TAG)
            .cloned()
            .collect();
        let retag = async {
            if expiry.is_empty() {
                return Ok(());
            }
            cloud.ecs.tag(&existing.arn, &expiry).await
        };
        futures::try_join!(
            cloud.ecs.deploy(&s.target_cluster, name, task_definition),
            retag
        )?;
        journal.record(Undo::Redeploy {
            cluster: s.target_cluster.clone(),
            name: name.clone(),
            task_definition: existing.task_definition.clone(),
        });
        info!("Successfully deployed task definition {task_definition} to service {name} in cluster {}", s.target_cluster);
        return Ok(());
    }
    info!("ECS Service {name} does not exist, will create new service");
    let new = NewService {
        cluster: s.target_cluster.clone(),
        name: name.clone(),
        task_definition: task_definition.to_string(),
        target_group_arn: target_group.to_string(),
        container_name: w.reference.container.clone(),
        container_port: w.reference.container_port,
        settings: w.reference.service.settings.clone(),
        tags: tags.to_vec(),
    };
    let arn = cloud.ecs.create_service(&new).await?;
    journal.record(Undo::Service {
        cluster: s.target_cluster.clone(),
        name: name.clone(),
    });
    info!("Created service {arn}");
    Ok(())
}

async fn file_entry(
    cloud: &Cloud,
    s: &Settings,
    w: &World,
    read: Background<(Option<Object>, EnvironmentsFile)>,
    journal: &Journal,
) -> Result<(), Error> {
    let file = read.get().await?;
    let entry = &w.names.file_entry;
    info!(
        "Updating config file s3://{}/{}, environment {entry}: {} -> {}",
        s.bucket, s.key, s.update_key, w.fqdn
    );
    let had_endpoint = file.1.endpoint(entry, &s.update_key).is_some();
    let change = environments::update(cloud, &s.bucket, &s.key, Some(file), |file| {
        file.set_endpoint(entry, &s.env_type, &s.update_key, &w.fqdn)
    })
    .await?;
    match change {
        Change::Unchanged => info!("Config file already lists {}", w.fqdn),
        Change::Added => info!("Existing environment not found, adding new"),
        _ => info!("Existing environment found, updating in-place"),
    }
    if !had_endpoint && change != Change::Unchanged {
        journal.record(Undo::FileEntry {
            bucket: s.bucket.clone(),
            key: s.key.clone(),
            entry: entry.clone(),
            update_key: s.update_key.clone(),
        });
    }
    if change != Change::Unchanged {
        info!("Successfully updated config file");
    }
    Ok(())
}

async fn state_item(
    cloud: &Cloud,
    table: &str,
    item: &EnvironmentItem,
    previous: Option<&EnvironmentItem>,
    journal: &Journal,
) -> Result<(), Error> {
    cloud.table.put_environment(table, item).await?;
    journal.record(Undo::StateItem {
        table: table.to_string(),
        item: item.clone(),
        previous: previous.cloned(),
    });
    debug!("state item {} written to table {table}", item.name);
    Ok(())
}
