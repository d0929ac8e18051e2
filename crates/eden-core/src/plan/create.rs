//! `eden create`: make an environment, or deploy a new image to an existing one.
//!
//! A run reads everything first, decides from what it read, and only then writes: nothing is
//! made or changed before the run knows that every resource of the environment's names is
//! eden's (see [`crate::ownership`]) and that the names are not the reference's.
//!
//! Order of calls, each line waiting only for what it needs:
//! 1. the environment's lease, and with it every check and read: the image, the reference
//!    service and its task definition and target group, the shared ALB and its rules (and the
//!    tags of a rule for the host), the host's records, the environments file, the state item,
//!    an existing service, target group and task definition family with their tags (all read
//!    again under the lease when another run just held it). Reads that need an earlier answer
//!    (the reference's templates, the listener's rules, the records' zone name) use what an
//!    earlier run learned, checked against that answer; without hints they come one round trip
//!    later (see [`crate::hints`]);
//! 2. the environment's target group, task definition, state item and environments file entry,
//!    at once, and the tags of what is adopted; the DNS records once the state item records
//!    them (so that no record of eden's is ever without the item that makes it eden's);
//! 3. the listener rule, once the target group is there (AWS wants the target group on the ALB
//!    before a service uses it), and the target group's attributes;
//! 4. the service, created or deployed to, once everything else is in place: a failure then
//!    never leaves a service behind, whose name ECS keeps while it drains. The lease is given
//!    up alongside it, marked with the task definition the service then runs (see
//!    [`Leased::last_call`]), rather than one round trip after it.
//!
//! A deploy makes no target group and no rule: its chain is the task definition, then the
//! service.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::{debug, info};

use super::journal::{Journal, Undo};
use super::lease::{Afterwards, Leased, Left};
use super::{environments, priority, PlannedChange, SharedAlb, Stop};
use crate::cloud::{
    AliasRecord, Cloud, EnvironmentItem, HostRecords, ListenerRule, NewRule, NewService, Object,
    RuleCreation, ServiceInfo, Tag, TargetGroup, TargetGroupCreation, TargetGroupTemplate,
    TaskDefinitionCopy, Template,
};
use crate::envfile::{Change, EnvironmentsFile};
use crate::error::Error;
use crate::expiry::{rfc3339, Ttl};
use crate::image::ImageUri;
use crate::names::{dns_name, EnvName, Names};
use crate::overrides::EnvVar;
use crate::ownership::{self, Claim};
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
    target_group: TargetGroupTemplate,
}

/// Everything the first round read.
struct World {
    names: Names,
    fqdn: String,
    /// When the run started, in epoch seconds: its state item's and tags' time.
    now: i64,
    reference: Reference,
    shared: SharedAlb,
    /// The shared listener's rules for the host, with their tags once claimed.
    host_rules: Vec<(ListenerRule, Vec<Tag>)>,
    records: HostRecords,
    file: (Option<Object>, EnvironmentsFile),
    state: Option<EnvironmentItem>,
    service: Option<ServiceInfo>,
    /// With its tags once claimed.
    target_group: Option<TargetGroup>,
    /// The tags of the task definition family's latest revision, when the family has one.
    family: Option<Vec<Tag>>,
}

impl World {
    /// The alias records the environment needs.
    fn wanted_records(&self) -> Vec<AliasRecord> {
        super::records_for(&self.fqdn, &self.shared.alb)
    }

    /// What the reads show, to compare with what the lease's previous holder left.
    fn left(&self) -> Left {
        Left::new(
            self.state.as_ref().map(|item| item.last_updated),
            self.service
                .as_ref()
                .map(|svc| svc.task_definition.as_str()),
            self.target_group.as_ref().map(|tg| tg.arn.as_str()),
            self.host_rules.iter().map(|(rule, _)| rule.arn.clone()),
            &self.records.aliases,
            &self.shared.alb.dns_name,
        )
    }

    /// Reads the tags of the target group and host rules found, but of those `left` vouches
    /// for (see [`super::claim_tags`]).
    async fn claim_tags(
        &mut self,
        cloud: &Cloud,
        s: &Settings,
        req: &CreateRequest,
        left: Option<&Left>,
    ) -> Result<(), Error> {
        let (tg, rules) = (&mut self.target_group, &mut self.host_rules);
        super::claim_tags(cloud, s, &req.name, tg, rules, left).await
    }

    /// Whether no environment of this name exists: whatever of it is there is this run's, or
    /// was left by a run that stopped.
    fn is_new(&self) -> bool {
        self.state.is_none() && self.service.is_none()
    }
}

/// What the first round's reads decide, before anything is written: what the run makes,
/// reuses and changes. The dry run prints it ([`Decision::changes`]); the run follows it.
struct Decision {
    /// Untagged resources of an environment the state table records, to tag as eden's.
    adopt: Vec<Adoption>,
    /// The alias records to create: none when the host has them all.
    records: Vec<AliasRecord>,
    /// The environment's target group to reuse; None: one is made.
    target_group: Option<String>,
    /// The host's rule to reuse (it forwards to that target group); None: one is made.
    rule: Option<String>,
}

impl Decision {
    /// What the run will make or change, in the order it reports them.
    fn changes(&self, s: &Settings, req: &CreateRequest, w: &World) -> Vec<PlannedChange> {
        let resource = &w.names.resource;
        let mut changes = vec![PlannedChange::create(
            "task definition",
            format!("{resource} (image {})", req.image.uri),
        )];
        if self.target_group.is_none() {
            changes.push(PlannedChange::create("target group", &w.names.target_group));
        }
        for adoption in &self.adopt {
            changes.push(PlannedChange::update(
                "tags",
                format!("of {} (adopted as eden's)", adoption.describe()),
            ));
        }
        if !self.records.is_empty() {
            changes.push(PlannedChange::create(
                "record",
                format!("{} -> {}", w.fqdn, w.shared.alb.dns_name),
            ));
        }
        if self.rule.is_none() {
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
        if w.file.1.endpoint(entry, &s.update_key) != Some(w.fqdn.as_str()) {
            changes.push(PlannedChange::update(
                "config key",
                format!("{} of {entry} in s3://{}/{}", s.update_key, s.bucket, s.key),
            ));
        }
        let item = format!("{resource} in table {}", req.table);
        changes.push(match &w.state {
            Some(_) => PlannedChange::update("state item", item),
            None => PlannedChange::create("state item", item),
        });
        changes
    }
}

/// An untagged resource of a recorded environment: made before eden tagged what it makes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Adoption {
    Service(String),
    TargetGroup(String),
    Rule(String),
}

impl Adoption {
    fn describe(&self) -> String {
        match self {
            Adoption::Service(arn) => format!("service {arn}"),
            Adoption::TargetGroup(arn) => format!("target group {arn}"),
            Adoption::Rule(arn) => format!("listener rule {arn}"),
        }
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

pub async fn create(
    cloud: &Cloud,
    s: &Settings,
    req: &CreateRequest,
    stop: &Stop,
) -> Result<Created, Error> {
    let resource = s.names(&req.name).resource;
    super::refuse_reference_service(s, &req.name, &resource)?;
    let lease = &Leased::new(&cloud.table, &req.name, &req.table, req.wait);
    // A failed deploy is undone back to the environment as it was, which stays: its lease item
    // stays. A failed first create leaves nothing, so its lease item goes; so does that of a
    // run whose reads failed, which leaves no junk, and costs an environment that is there
    // one read more on its next run (no lease item, but a state item).
    let existed = &AtomicBool::new(false);
    let now = super::now();
    lease
        .run(
            s,
            stop,
            |names| look(cloud, s, req, names, now),
            World::left,
            |looked, left| async move {
                let mut world = looked?;
                world.claim_tags(cloud, s, req, left.as_ref()).await?;
                let decision = decide(s, req, &world);
                // A run refused before its first write leaves the environment as it was.
                let exists = match &decision {
                    Ok(_) => world.service.is_some(),
                    Err(_) => world.state.is_some(),
                };
                existed.store(exists, Ordering::SeqCst);
                make_and_record(cloud, s, req, lease, world, decision?, stop).await
            },
            |result| match result {
                Ok(_) => Afterwards::Stays,
                Err(_) if existed.load(Ordering::SeqCst) => Afterwards::Stays,
                // The service may be there, made by this run or finished by another.
                Err(Error::Unfinished { .. }) => Afterwards::Stays,
                Err(_) => Afterwards::Undone,
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
    let names = s.names(&req.name);
    super::refuse_reference_service(s, &req.name, &names.resource)?;
    let mut w = look(cloud, s, req, names, super::now()).await?;
    w.claim_tags(cloud, s, req, None).await?;
    Ok(decide(s, req, &w)?.changes(s, req, &w))
}

/// Whether the run may go on: the names are not the reference's, and every resource of the
/// environment's names that is there is this environment's (or adopted); and which records it
/// makes.
fn decide(s: &Settings, req: &CreateRequest, w: &World) -> Result<Decision, Error> {
    let reference = &w.reference;
    super::refuse_reference(
        &req.name,
        &w.names,
        &reference.service.task_definition,
        &reference.target_group_arn,
    )?;
    let recorded = w.state.is_some();
    let name = req.name.as_str();
    let claim = |tags: &[Tag]| Claim::of(tags, &s.profile, name, recorded);
    let refuse = |what: String, why: String| Error::NotOurs {
        what,
        why,
        hint: "use another --name, or remove it if it is yours to remove and no longer needed"
            .to_string(),
    };
    let mut adopt = Vec::new();
    if let Some(service) = &w.service {
        match claim(&service.tags) {
            Claim::Ours => {}
            Claim::Adopt => adopt.push(Adoption::Service(service.arn.clone())),
            Claim::NotOurs(why) => return Err(refuse(format!("service {}", service.name), why)),
        }
    }
    if let Some(tg) = &w.target_group {
        match claim(&tg.tags) {
            Claim::Ours => {}
            Claim::Adopt => adopt.push(Adoption::TargetGroup(tg.arn.clone())),
            Claim::NotOurs(why) => return Err(refuse(format!("target group {}", tg.name), why)),
        }
    }
    if let Some(family) = &w.family {
        // A new revision carries the tags: an untagged family of a recorded environment is
        // adopted by it.
        if let Claim::NotOurs(why) = claim(family) {
            let what = format!("task definition family {}", w.names.resource);
            return Err(refuse(what, why));
        }
    }
    for (rule, tags) in &w.host_rules {
        let what = format!("listener rule {} for host {}", rule.arn, w.fqdn);
        if !rule.is_exactly_for(&w.fqdn) {
            let why = "it matches other hosts or conditions too, as eden's rules never do";
            return Err(refuse(what, why.into()));
        }
        match claim(tags) {
            Claim::Ours => {}
            Claim::Adopt => adopt.push(Adoption::Rule(rule.arn.clone())),
            Claim::NotOurs(why) => return Err(refuse(what, why)),
        }
    }
    let target_group = w.target_group.as_ref().map(|tg| tg.arn.clone());
    let rule = match w.host_rules.first() {
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
                what: format!("host {}", w.fqdn),
                why: format!(
                    "listener rule {} sends it to another target group",
                    rule.arn
                ),
            })
        }
    };
    Ok(Decision {
        adopt,
        records: records_to_create(w).map_err(|why| refuse(format!("record {}", w.fqdn), why))?,
        target_group,
        rule,
    })
}

/// The alias records the host still needs. A record eden did not make is never overwritten:
/// eden's are the aliases to the shared ALB at a host the state item records.
fn records_to_create(w: &World) -> Result<Vec<AliasRecord>, String> {
    let alb = dns_name(&w.shared.alb.dns_name);
    if let Some(other) = w.records.others.first() {
        return Err(format!("it is {other}, which eden never makes"));
    }
    if let Some(alias) = w
        .records
        .aliases
        .iter()
        .find(|r| dns_name(&r.target_dns) != alb)
    {
        return Err(format!(
            "it is an alias to {}, not to the shared ALB",
            alias.target_dns
        ));
    }
    let recorded = w
        .state
        .as_ref()
        .is_some_and(|item| dns_name(&item.endpoint) == dns_name(&w.fqdn));
    if !w.records.aliases.is_empty() && !recorded {
        return Err(
            "it points at the shared ALB, but no state item records an environment at this host"
                .into(),
        );
    }
    Ok(w.wanted_records()
        .into_iter()
        .filter(|r| !w.records.aliases.iter().any(|e| super::same_alias(e, r)))
        .collect())
}

/// Steps 2 to 4, undone when one fails, unless the lease could not be taken back.
async fn make_and_record(
    cloud: &Cloud,
    s: &Settings,
    req: &CreateRequest,
    lease: &Leased<'_>,
    world: World,
    decision: Decision,
    stop: &Stop,
) -> Result<Created, Error> {
    let journal = Journal::default();
    match make(cloud, s, req, lease, &world, &decision, &journal, stop).await {
        Ok(created) => {
            info!(
                "Successfully finished creating environment {}",
                world.names.resource
            );
            Ok(created)
        }
        Err(unfinished @ Error::Unfinished { .. }) => Err(unfinished),
        // Another run holds the environment now: what this run made is for it to reuse.
        Err(_) if lease.is_lost() => Err(lease.lost_error(s)),
        Err(cause) => Err(journal
            .roll_back(cloud, cause, super::cleanup_command(s, req.name.as_str()))
            .await),
    }
}

/// Step 1: every check and read, at once.
async fn look(
    cloud: &Cloud,
    s: &Settings,
    req: &CreateRequest,
    names: Names,
    now: i64,
) -> Result<World, Error> {
    let image = check_image(cloud, &req.image);
    // The templates are guessed alongside the service that names them: the task definition by
    // the family of the reference service's name, the target group from the profile. A guess
    // is used only when the service names it; else the right one is read, a round trip later.
    let reference = async {
        let guessed_target_group = async {
            match &s.reference_target_group {
                Some(arn) => Some(cloud.elb.target_group_template(arn).await),
                None => None,
            }
        };
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
        info!(
            "Retrieved reference task definition from {}",
            used.task_definition
        );
        info!("Retrieved reference target group: {}", used.target_group);
        let reference = Reference {
            service: reference,
            container: used.container,
            container_port: used.container_port,
            task_definition: task_definition.template,
            target_group_arn: used.target_group,
            target_group,
        };
        Ok::<_, Error>((reference, service))
    };
    let shared = super::shared_alb(cloud, s);
    let host = super::host_records(cloud, s, &names);
    let file = environments::read(cloud, &s.bucket, &s.key);
    let state = cloud
        .table
        .environment(&req.table, &s.profile, &names.resource);
    let target_group = cloud.elb.find_target_group(&names.target_group);
    let family = cloud.ecs.family_tags(&names.resource);
    let ((reference, service), (), shared, (fqdn, records), file, state, target_group, family) = futures::try_join!(
        reference,
        image,
        shared,
        host,
        file,
        state,
        target_group,
        family
    )?;
    if let Some(service) = service.as_ref().filter(|svc| svc.status == "DRAINING") {
        return Err(Error::Busy {
            what: format!("service {}", service.name),
            why: "it is still being deleted".into(),
        });
    }
    // Their tags are claimed once the run knows what the lease vouches for.
    let host_rules = shared
        .rules
        .iter()
        .filter(|r| r.serves_host(&fqdn))
        .map(|r| (r.clone(), Vec::new()))
        .collect();
    Ok(World {
        names,
        fqdn,
        now,
        reference,
        shared,
        host_rules,
        records,
        file,
        state,
        service: service.filter(ServiceInfo::is_active),
        target_group,
        family,
    })
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
    info!("Retrieved reference service {arn}");
    Ok((service, used))
}

/// Steps 2 to 4, recording each change in the journal as soon as it is made.
#[allow(clippy::too_many_arguments)]
async fn make(
    cloud: &Cloud,
    s: &Settings,
    req: &CreateRequest,
    lease: &Leased<'_>,
    w: &World,
    decision: &Decision,
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
        let (target_group, attributes) = target_group(cloud, w, decision, &tags, journal).await?;
        stop.check()?;
        let (rule, attributes) = futures::join!(
            rule(cloud, w, decision, &target_group, &tags, journal),
            cloud
                .elb
                .set_target_group_attributes(&target_group, &attributes),
        );
        let rule = rule?;
        attributes?;
        Ok::<_, Error>((target_group, rule))
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
    // The records only once the state item records the host: eden's records are the ones a
    // state item names.
    let state_then_records = async {
        state_item(cloud, &req.table, &item, w.state.as_ref(), journal).await?;
        records(cloud, s, w, &decision.records, journal).await
    };
    let others = async {
        let (records, file, adopted) = futures::join!(
            state_then_records,
            file_entry(cloud, s, w, journal),
            adopt(cloud, s, req, &decision.adopt),
        );
        records.and(file).and(adopted)
    };
    // Step 4, after every other write: a failure then never leaves a new service behind,
    // whose name ECS keeps while it drains, and the lease can go alongside it.
    let (made, others) = futures::join!(made, others);
    let (task_definition, (target_group, rule)) = made?;
    others?;
    stop.check()?;
    let left = Left::new(
        Some(item.last_updated),
        Some(&task_definition),
        Some(&target_group),
        [rule],
        &w.wanted_records(),
        &w.shared.alb.dns_name,
    );
    let service = service(cloud, s, w, &task_definition, &target_group, &tags, journal);
    lease.last_call(s, &left, service).await?;

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
    tags: &[Tag],
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

/// The environment's target group: the one there already (eden's, as decided), or one made
/// now. Returns its ARN, and the attributes it still needs: a new target group, or one a
/// stopped run left, gets the reference's; an existing environment's keeps its own.
async fn target_group(
    cloud: &Cloud,
    w: &World,
    decision: &Decision,
    tags: &[Tag],
    journal: &Journal,
) -> Result<(String, Vec<(String, String)>), Error> {
    let template = &w.reference.target_group;
    let name = &w.names.target_group;
    if let Some(arn) = &decision.target_group {
        info!("Target group {name} already exists, reusing it");
        let attributes = match w.is_new() {
            true => template.attributes.clone(),
            false => Vec::new(),
        };
        return Ok((arn.clone(), attributes));
    }
    match cloud
        .elb
        .copy_target_group(&template.settings, name, tags)
        .await?
    {
        TargetGroupCreation::Created(arn) => {
            journal.record(Undo::TargetGroup(arn.clone()));
            info!("Created target group {arn}");
            Ok((arn, template.attributes.clone()))
        }
        TargetGroupCreation::NameTaken => Err(Error::Busy {
            what: format!("target group {name}"),
            why: "another writer made it while this run read".into(),
        }),
    }
}

/// Points the host name at the shared ALB with the records it still needs. Route 53 refuses a
/// CREATE over an existing record, so a record made meanwhile is never overwritten.
async fn records(
    cloud: &Cloud,
    s: &Settings,
    w: &World,
    missing: &[AliasRecord],
    journal: &Journal,
) -> Result<(), Error> {
    let alb = &w.shared.alb.dns_name;
    if missing.is_empty() {
        info!("Record {} already points at {alb}", w.fqdn);
        return Ok(());
    }
    if !cloud.dns.create(&s.zone_id, missing).await? {
        return Err(Error::Busy {
            what: format!("record {}", w.fqdn),
            why: "a record was made at this host while this run read".into(),
        });
    }
    journal.record(Undo::Records {
        zone_id: s.zone_id.clone(),
        records: missing.to_vec(),
    });
    info!("Successfully created ALIAS: {} -> {alb}", w.fqdn);
    Ok(())
}

/// Tags what the decision adopted as eden's, with one line each.
async fn adopt(
    cloud: &Cloud,
    s: &Settings,
    req: &CreateRequest,
    adoptions: &[Adoption],
) -> Result<(), Error> {
    let tags = ownership::tags(&s.profile, req.name.as_str());
    let tagged = adoptions.iter().map(|adoption| {
        let tags = &tags;
        async move {
            match adoption {
                Adoption::Service(arn) => cloud.ecs.tag(arn, tags).await?,
                Adoption::TargetGroup(arn) | Adoption::Rule(arn) => {
                    cloud.elb.add_tags(arn, tags).await?
                }
            }
            info!(
                "Adopted {}: it has no eden tags, but the state table records this environment (made by an earlier eden); tagged it as eden's",
                adoption.describe()
            );
            Ok::<_, Error>(())
        }
    });
    futures::future::try_join_all(tagged).await.map(drop)
}

/// The host's listener rule, made unless it is there; returns its ARN.
async fn rule(
    cloud: &Cloud,
    w: &World,
    decision: &Decision,
    target_group: &str,
    tags: &[Tag],
    journal: &Journal,
) -> Result<String, Error> {
    if let Some(existing) = &decision.rule {
        info!(
            "ELBv2 listener rule for host {} already exists, reusing it",
            w.fqdn
        );
        return Ok(existing.clone());
    }
    let host_rule = |rules: &[ListenerRule]| rules.iter().any(|r| r.serves_host(&w.fqdn));
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
                return Ok(arn);
            }
            RuleCreation::PriorityInUse => {
                debug!("priority {priority} was taken first (attempt {attempt}), trying another");
                tried.insert(priority);
                tokio::time::sleep(super::backoff(attempt)).await;
                rules = cloud.elb.rules(&w.shared.listener).await?;
                if host_rule(&rules) {
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
    tags: &[Tag],
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
    journal: &Journal,
) -> Result<(), Error> {
    let entry = &w.names.file_entry;
    info!(
        "Updating config file s3://{}/{}, environment {entry}: {} -> {}",
        s.bucket, s.key, s.update_key, w.fqdn
    );
    let had_endpoint = w.file.1.endpoint(entry, &s.update_key).is_some();
    let change = environments::update(cloud, &s.bucket, &s.key, Some(w.file.clone()), |file| {
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

#[cfg(test)]
mod tests {
    //! The decision as a value: one world read from the fake cloud, changed as each case says,
    //! gives this plan or this refusal, with no call made.

    use super::super::on_fake_cloud::{bare, create_request, kinds, NEW_ENVIRONMENT};
    use super::*;
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
        service.name = w.names.resource.clone();
        service.arn = format!("{}-env", service.arn);
        service.tags = tags;
        w.service = Some(service);
    }

    fn state_item(w: &mut World) {
        w.state = Some(EnvironmentItem {
            profile: "api".into(),
            name: w.names.resource.clone(),
            endpoint: w.fqdn.clone(),
            last_updated: 1,
            expires_at: None,
            ttl_seconds: None,
        });
    }

    #[tokio::test]
    async fn these_reads_give_this_plan() {
        let s = bare();
        let fake = FakeCloud::seeded(&s);
        let req = create_request("api:v1");
        let cloud = fake.cloud();
        let read = || look(&cloud, &s, &req, s.names(&req.name), 1);
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
                    "create record",
                    "create listener rule",
                    "update service",
                    "update config key",
                    "update state item",
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
                    "update tags",
                    "create record",
                    "create listener rule",
                    "update service",
                    "update config key",
                    "update state item",
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
                Box::new(|w| w.records.others.push("A 10.0.0.1".into())),
                Outcome::Refused("NotOurs"),
            ),
            (
                "the host already in the environments file",
                Box::new(|w| {
                    let (entry, fqdn) = (w.names.file_entry.clone(), w.fqdn.clone());
                    w.file.1.set_endpoint(&entry, "dev", "api_endpoint", &fqdn);
                }),
                plan(&[
                    "create task definition",
                    "create target group",
                    "create record",
                    "create listener rule",
                    "create service",
                    "create state item",
                ]),
            ),
            (
                "the reference's task definition family",
                Box::new(|w| {
                    w.reference.service.task_definition = format!(
                        "arn:aws:ecs:ap-northeast-1:1:task-definition/{}:1",
                        w.names.resource
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
                Ok(decision) => Outcome::Plan(kinds(&decision.changes(&s, &req, &w))),
                Err(Error::NotOurs { .. }) => Outcome::Refused("NotOurs"),
                Err(Error::ReferenceName { .. }) => Outcome::Refused("ReferenceName"),
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
