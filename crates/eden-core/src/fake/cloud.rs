//! The fake's world of ECS, ELB, Route 53, S3, ECR and the tagging API, with the rules AWS
//! enforces where eden relies on them: a rule priority is taken once, a target group a rule
//! forwards to cannot be deleted, a Route 53 CREATE over a record and a DELETE of a missing one
//! fail, an S3 write is conditional on the ETag read.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
// tokio's clock: paused in the fast tests.
use tokio::time::Instant;

use super::{lock, Calls, FakeTable};
use crate::cloud::{
    AliasRecord, Certificates, Cloud, Dns, Ecs, Elb, HostRecords, Listener, ListenerRule,
    LoadBalancer, NewRule, NewService, Object, ObjectStore, Registry, ResourceTags, Result,
    RuleCreation, ServiceInfo, ServiceLoadBalancer, Tag, TaggedResource, TargetGroup,
    TargetGroupCreation, TargetGroupTemplate, TargetHealth, TaskDefinitionCopy, TaskTemplate,
    Template, WriteCondition, WriteOutcome,
};
use crate::error::{AwsFailure, Error};
use crate::image::ImageUri;
use crate::profile::Settings;

const ARN: &str = "arn:aws:ecs:ap-northeast-1:123456789012";
const ELB_ARN: &str = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012";

/// One task definition revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub arn: String,
    pub family: String,
    pub containers: Vec<String>,
    pub image: String,
    pub tags: Vec<Tag>,
    pub active: bool,
}

/// Everything the fake cloud holds; tests read it to check what a run left.
#[derive(Debug, Default)]
pub struct World {
    /// (cluster, service).
    pub services: Vec<(String, ServiceInfo)>,
    pub revisions: Vec<Revision>,
    pub alb: Option<LoadBalancer>,
    pub listener: Option<Listener>,
    pub rules: Vec<(ListenerRule, Vec<Tag>)>,
    pub target_groups: Vec<(TargetGroup, Template)>,
    /// (id, name).
    pub zone: (String, String),
    pub records: Vec<AliasRecord>,
    pub objects: BTreeMap<(String, String), Object>,
    /// How long a deleted service stays DRAINING, as ECS stops its tasks; none by default.
    pub drain: Duration,
    /// The services still DRAINING, by ARN, and until when.
    draining: Vec<(String, Instant)>,
    next_id: u64,
}

impl World {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Services whose drain is over are INACTIVE.
    fn drained(&mut self) {
        let now = Instant::now();
        let (over, draining) = self
            .draining
            .drain(..)
            .partition(|(_, until)| *until <= now);
        self.draining = draining;
        for (arn, _) in over {
            let over = self.services.iter_mut().filter(|(_, svc)| svc.arn == arn);
            over.for_each(|(_, svc)| svc.status = "INACTIVE".into());
        }
    }

    /// What eden made that is still there: a summary to compare before and after a run.
    pub fn summary(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .services
            .iter()
            .filter(|(_, s)| s.is_active())
            .map(|(_, s)| format!("service {} {}", s.name, s.task_definition))
            .collect();
        out.extend(
            self.revisions
                .iter()
                .filter(|r| r.active)
                .map(|r| format!("task definition {}", r.arn)),
        );
        out.extend(
            self.rules
                .iter()
                .map(|(r, _)| format!("rule {:?}", r.hosts)),
        );
        out.extend(
            self.target_groups
                .iter()
                .map(|(tg, _)| format!("target group {}", tg.name)),
        );
        out.extend(
            self.records
                .iter()
                .map(|r| format!("record {} {:?}", r.name, r.record_type)),
        );
        out.extend(
            self.objects
                .iter()
                .map(|((_, key), o)| format!("object {key} {}", String::from_utf8_lossy(&o.body))),
        );
        out.sort();
        out
    }
}

/// An in-memory AWS account with a reference service and a shared ALB, as the seed's world has
/// them for the profile `s`.
pub struct FakeCloud {
    pub world: Mutex<World>,
    pub table: Arc<FakeTable>,
    pub calls: Arc<Calls>,
}

impl FakeCloud {
    pub fn seeded(s: &Settings) -> Arc<Self> {
        let calls = Arc::new(Calls::default());
        let table = Arc::new(FakeTable::logging_to(calls.clone()));
        let reference_tg = format!("{ELB_ARN}:targetgroup/dev01-api/0001");
        let reference_td = format!("{ARN}:task-definition/{}:1", s.reference.service);
        let mut world = World {
            zone: (s.zone_id.clone(), "dev.example.com".into()),
            alb: Some(LoadBalancer {
                arn: s.master_alb_arn.clone(),
                dns_name: "dev-shared-1.ap-northeast-1.elb.amazonaws.com".into(),
                canonical_zone_id: "Z14GRHDCWA56QT".into(),
                dualstack: false,
            }),
            listener: Some(Listener {
                arn: format!("{ELB_ARN}:listener/app/dev-shared/1/443"),
                certificates: vec![],
            }),
            rules: vec![(
                ListenerRule {
                    arn: format!("{ELB_ARN}:listener-rule/app/dev-shared/1/443/default"),
                    priority: None,
                    hosts: vec![],
                    other_conditions: false,
                    target_groups: vec![],
                },
                vec![],
            )],
            revisions: vec![Revision {
                arn: reference_td.clone(),
                family: s.reference.service.clone(),
                containers: vec!["api".into()],
                image: "api:v0".into(),
                tags: vec![],
                active: true,
            }],
            target_groups: vec![(
                TargetGroup {
                    arn: reference_tg.clone(),
                    name: "dev01-api".into(),
                    load_balancers: vec![],
                    tags: vec![],
                },
                Template::new(()),
            )],
            ..World::default()
        };
        world.services.push((
            s.reference_cluster().to_string(),
            ServiceInfo {
                arn: s.reference.arn.clone(),
                name: s.reference.service.clone(),
                status: "ACTIVE".into(),
                task_definition: reference_td,
                load_balancers: vec![ServiceLoadBalancer {
                    target_group_arn: Some(reference_tg),
                    container_name: Some("api".into()),
                    container_port: Some(80),
                }],
                desired_count: 1,
                settings: Template::new(()),
                running_count: 0,
                pending_count: 0,
                deployments: vec![],
                events: vec![],
                tags: vec![],
                not_copied: vec![],
            },
        ));
        Arc::new(Self {
            world: Mutex::new(world),
            table,
            calls,
        })
    }

    pub fn cloud(self: &Arc<Self>) -> Cloud {
        Cloud {
            // The region of the fake's ARNs, as the seed's profile has it.
            region: "ap-northeast-1".into(),
            ecs: self.clone(),
            elb: self.clone(),
            dns: self.clone(),
            store: self.clone(),
            table: self.table.clone(),
            registry: self.clone(),
            tags: self.clone(),
            certificates: self.clone(),
        }
    }

    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        lock(&self.world)
    }

    async fn call(&self, name: &'static str) -> Result<()> {
        self.calls.call(name).await
    }
}

fn invalid(action: &str, resource: &str, why: &str) -> Error {
    Error::aws(action, resource, why, AwsFailure::Other)
}

#[async_trait]
impl Ecs for FakeCloud {
    async fn cluster_exists(&self, _cluster: &str) -> Result<bool> {
        self.call("DescribeClusters").await?;
        Ok(true)
    }

    async fn stopped_tasks(&self, _: &str, _: &str, _: &str) -> Result<Vec<String>> {
        self.call("ListTasks").await?;
        Ok(Vec::new())
    }

    async fn container_image(&self, task_definition: &str, _: &str) -> Result<Option<String>> {
        self.call("DescribeTaskDefinition").await?;
        let world = self.world();
        let revision = world.revisions.iter().find(|r| r.arn == task_definition);
        Ok(revision.map(|r| r.image.clone()))
    }

    async fn services(&self, cluster: &str, names: &[&str]) -> Result<Vec<ServiceInfo>> {
        self.call("DescribeServices").await?;
        let mut world = self.world();
        world.drained();
        // The newest of a name, as ECS answers for a name made again after a delete.
        let found = names.iter().filter_map(|name| {
            world
                .services
                .iter()
                .rev()
                .find(|(c, s)| c == cluster && s.name == *name)
                .map(|(_, s)| s.clone())
        });
        Ok(found.collect())
    }

    async fn task_definition_template(&self, td: &str) -> Result<Option<TaskTemplate>> {
        self.call("DescribeTaskDefinition").await?;
        let world = self.world();
        let revision = world
            .revisions
            .iter()
            .rev()
            .find(|r| r.active && (r.arn == td || r.family == td));
        Ok(revision.map(|r| TaskTemplate {
            arn: r.arn.clone(),
            containers: r.containers.clone(),
            template: Template::new(r.clone()),
        }))
    }

    async fn copy_task_definition(&self, copy: &TaskDefinitionCopy) -> Result<String> {
        self.call("RegisterTaskDefinition").await?;
        let template = copy
            .template
            .get::<Revision>()
            .ok_or_else(|| invalid("register task definition", &copy.family, "no template"))?;
        let mut world = self.world();
        let revision = world
            .revisions
            .iter()
            .filter(|r| r.family == copy.family)
            .count()
            + 1;
        let arn = format!("{ARN}:task-definition/{}:{revision}", copy.family);
        world.revisions.push(Revision {
            arn: arn.clone(),
            family: copy.family.clone(),
            containers: template.containers.clone(),
            image: copy.image.clone(),
            tags: copy.tags.clone(),
            active: true,
        });
        Ok(arn)
    }

    async fn create_service(&self, new: &NewService) -> Result<String> {
        self.call("CreateService").await?;
        let mut world = self.world();
        world.drained();
        let taken = world
            .services
            .iter()
            .find(|(c, s)| *c == new.cluster && s.name == new.name && s.status != "INACTIVE");
        match taken.map(|(_, s)| s.status.as_str()) {
            Some("DRAINING") => {
                let why = "Unable to Start a service that is still Draining.";
                return Err(invalid("create service", &new.name, why));
            }
            Some(_) => return Err(invalid("create service", &new.name, "already exists")),
            None => {}
        }
        // As ECS: the target group must be there, and on a load balancer (a rule forwards to it).
        let tg = &new.target_group_arn;
        let attached = world
            .rules
            .iter()
            .any(|(r, _)| r.target_groups.contains(tg));
        if !world.target_groups.iter().any(|(t, _)| t.arn == *tg) || !attached {
            let why = format!("target group {tg} does not have an associated load balancer");
            return Err(invalid("create service", &new.name, &why));
        }
        let arn = format!("{ARN}:service/{}/{}", new.cluster, new.name);
        world.services.push((
            new.cluster.clone(),
            ServiceInfo {
                arn: arn.clone(),
                name: new.name.clone(),
                status: "ACTIVE".into(),
                task_definition: new.task_definition.clone(),
                load_balancers: vec![ServiceLoadBalancer {
                    target_group_arn: Some(new.target_group_arn.clone()),
                    container_name: Some(new.container_name.clone()),
                    container_port: Some(new.container_port),
                }],
                desired_count: 1,
                settings: new.settings.clone(),
                running_count: 0,
                pending_count: 0,
                deployments: vec![],
                events: vec![],
                tags: new.tags.clone(),
                not_copied: vec![],
            },
        ));
        Ok(arn)
    }

    async fn tag(&self, arn: &str, tags: &[Tag]) -> Result<()> {
        self.call("TagResource").await?;
        let mut world = self.world();
        if let Some((_, s)) = world.services.iter_mut().rev().find(|(_, s)| s.arn == arn) {
            merge(&mut s.tags, tags);
        }
        Ok(())
    }

    async fn deploy(&self, cluster: &str, service: &str, td: &str) -> Result<()> {
        self.call("UpdateService").await?;
        let mut world = self.world();
        let found = world
            .services
            .iter_mut()
            .rev()
            .find(|(c, s)| c == cluster && s.name == service && s.is_active());
        match found {
            Some((_, s)) => {
                s.task_definition = td.to_string();
                Ok(())
            }
            None => Err(invalid("update service", service, "ServiceNotFound")),
        }
    }

    async fn delete_service(&self, cluster: &str, service: &str) -> Result<()> {
        self.call("DeleteService").await?;
        let mut world = self.world();
        let until = Instant::now() + world.drain;
        let mut draining = Vec::new();
        for (_, s) in world
            .services
            .iter_mut()
            .filter(|(c, s)| c == cluster && s.name == service && s.status == "ACTIVE")
        {
            s.status = "DRAINING".into();
            draining.push((s.arn.clone(), until));
        }
        world.draining.extend(draining);
        world.drained();
        Ok(())
    }

    async fn task_definitions(&self, family: &str) -> Result<Vec<String>> {
        self.call("ListTaskDefinitions").await?;
        let world = self.world();
        let active = world.revisions.iter().filter(|r| r.active);
        Ok(active
            .filter(|r| r.family == family)
            .map(|r| r.arn.clone())
            .collect())
    }

    async fn family_tags(&self, family: &str) -> Result<Option<Vec<Tag>>> {
        self.call("DescribeTaskDefinition").await?;
        let world = self.world();
        let latest = world
            .revisions
            .iter()
            .rev()
            .find(|r| r.active && r.family == family);
        Ok(latest.map(|r| r.tags.clone()))
    }

    async fn deregister_task_definition(&self, arn: &str) -> Result<()> {
        self.call("DeregisterTaskDefinition").await?;
        let mut world = self.world();
        for r in world.revisions.iter_mut().filter(|r| r.arn == arn) {
            r.active = false;
        }
        Ok(())
    }
}

/// Adds or overwrites tags.
fn merge(tags: &mut Vec<Tag>, new: &[Tag]) {
    for (key, value) in new {
        tags.retain(|(k, _)| k != key);
        tags.push((key.clone(), value.clone()));
    }
}

#[async_trait]
impl Elb for FakeCloud {
    async fn load_balancer(&self, arn: &str) -> Result<Option<LoadBalancer>> {
        self.call("DescribeLoadBalancers").await?;
        Ok(self.world().alb.clone().filter(|alb| alb.arn == arn))
    }

    async fn https_listener(&self, load_balancer: &str) -> Result<Option<Listener>> {
        self.call("DescribeListeners").await?;
        let world = self.world();
        let on_alb = world
            .alb
            .as_ref()
            .is_some_and(|alb| alb.arn == load_balancer);
        Ok(world.listener.clone().filter(|_| on_alb))
    }

    async fn rules(&self, listener: &str) -> Result<Vec<ListenerRule>> {
        self.call("DescribeRules").await?;
        let world = self.world();
        if world.listener.as_ref().is_none_or(|l| l.arn != listener) {
            return Err(invalid("describe rules", listener, "ListenerNotFound"));
        }
        Ok(world.rules.iter().map(|(rule, _)| rule.clone()).collect())
    }

    async fn tags(&self, arns: &[String]) -> Result<Vec<(String, Vec<Tag>)>> {
        // As the adapter: no call for no ARNs.
        if arns.is_empty() {
            return Ok(Vec::new());
        }
        self.call("DescribeTags").await?;
        let world = self.world();
        let rules = world.rules.iter().map(|(r, tags)| (&r.arn, tags));
        let groups = world
            .target_groups
            .iter()
            .map(|(tg, _)| (&tg.arn, &tg.tags));
        Ok(rules
            .chain(groups)
            .filter(|(arn, _)| arns.contains(arn))
            .map(|(arn, tags)| (arn.clone(), tags.clone()))
            .collect())
    }

    async fn add_tags(&self, arn: &str, tags: &[Tag]) -> Result<()> {
        self.call("AddTags").await?;
        let mut world = self.world();
        let world = &mut *world;
        for (rule, rule_tags) in world.rules.iter_mut() {
            if rule.arn == arn {
                merge(rule_tags, tags);
            }
        }
        for (tg, _) in world.target_groups.iter_mut() {
            if tg.arn == arn {
                merge(&mut tg.tags, tags);
            }
        }
        Ok(())
    }

    async fn target_health(&self, _target_group: &str) -> Result<Vec<TargetHealth>> {
        self.call("DescribeTargetHealth").await?;
        Ok(Vec::new())
    }

    async fn create_rule(&self, new: &NewRule) -> Result<RuleCreation> {
        self.call("CreateRule").await?;
        let mut world = self.world();
        if world
            .rules
            .iter()
            .any(|(r, _)| r.priority == Some(new.priority))
        {
            return Ok(RuleCreation::PriorityInUse);
        }
        if !world
            .target_groups
            .iter()
            .any(|(tg, _)| tg.arn == new.target_group_arn)
        {
            return Err(invalid("create rule", &new.host, "TargetGroupNotFound"));
        }
        let arn = format!(
            "{ELB_ARN}:listener-rule/app/dev-shared/1/443/{}",
            world.id()
        );
        let rule = ListenerRule {
            arn: arn.clone(),
            priority: Some(new.priority),
            hosts: vec![new.host.clone()],
            other_conditions: false,
            target_groups: vec![new.target_group_arn.clone()],
        };
        world.rules.push((rule, new.tags.clone()));
        Ok(RuleCreation::Created(arn))
    }

    async fn delete_rule(&self, arn: &str) -> Result<()> {
        self.call("DeleteRule").await?;
        self.world().rules.retain(|(r, _)| r.arn != arn);
        Ok(())
    }

    async fn find_target_group(&self, name: &str) -> Result<Option<TargetGroup>> {
        self.call("DescribeTargetGroups").await?;
        let world = self.world();
        let found = world.target_groups.iter().find(|(tg, _)| tg.name == name);
        Ok(found.map(|(tg, _)| TargetGroup {
            load_balancers: load_balancers_of(&world, &tg.arn),
            tags: Vec::new(),
            ..tg.clone()
        }))
    }

    async fn target_group_template(&self, arn: &str) -> Result<TargetGroupTemplate> {
        self.call("DescribeTargetGroups").await?;
        let world = self.world();
        let found = world.target_groups.iter().find(|(tg, _)| tg.arn == arn);
        let (_, settings) =
            found.ok_or_else(|| invalid("describe target group", arn, "TargetGroupNotFound"))?;
        Ok(TargetGroupTemplate {
            settings: settings.clone(),
            attributes: vec![("deregistration_delay.timeout_seconds".into(), "30".into())],
        })
    }

    async fn copy_target_group(
        &self,
        settings: &Template,
        name: &str,
        tags: &[Tag],
    ) -> Result<TargetGroupCreation> {
        self.call("CreateTargetGroup").await?;
        let mut world = self.world();
        if world.target_groups.iter().any(|(tg, _)| tg.name == name) {
            return Ok(TargetGroupCreation::NameTaken);
        }
        let arn = format!("{ELB_ARN}:targetgroup/{name}/{:04}", world.id());
        let tg = TargetGroup {
            arn: arn.clone(),
            name: name.to_string(),
            load_balancers: vec![],
            tags: tags.to_vec(),
        };
        world.target_groups.push((tg, settings.clone()));
        Ok(TargetGroupCreation::Created(arn))
    }

    async fn set_target_group_attributes(
        &self,
        _: &str,
        attributes: &[(String, String)],
    ) -> Result<()> {
        // As the adapter: no call for no attributes.
        if attributes.is_empty() {
            return Ok(());
        }
        self.call("ModifyTargetGroupAttributes").await
    }

    async fn delete_target_group(&self, arn: &str) -> Result<()> {
        self.call("DeleteTargetGroup").await?;
        let mut world = self.world();
        if world
            .rules
            .iter()
            .any(|(r, _)| r.target_groups.iter().any(|tg| tg == arn))
        {
            return Err(invalid("delete target group", arn, "ResourceInUse"));
        }
        world.target_groups.retain(|(tg, _)| tg.arn != arn);
        Ok(())
    }
}

/// The load balancers whose rules forward to a target group, as AWS lists them.
fn load_balancers_of(world: &World, target_group: &str) -> Vec<String> {
    let used = world
        .rules
        .iter()
        .any(|(r, _)| r.target_groups.iter().any(|tg| tg == target_group));
    match (used, &world.alb) {
        (true, Some(alb)) => vec![alb.arn.clone()],
        _ => Vec::new(),
    }
}

#[async_trait]
impl Dns for FakeCloud {
    async fn zone_name(&self, zone_id: &str) -> Result<Option<String>> {
        self.call("GetHostedZone").await?;
        let world = self.world();
        Ok(Some(world.zone.1.clone()).filter(|_| world.zone.0 == zone_id))
    }

    async fn records(&self, _zone_id: &str, name: &str) -> Result<HostRecords> {
        self.call("ListResourceRecordSets").await?;
        let world = self.world();
        let same = |r: &&AliasRecord| r.name.trim_end_matches('.') == name.trim_end_matches('.');
        Ok(HostRecords {
            aliases: world.records.iter().filter(same).cloned().collect(),
            others: Vec::new(),
        })
    }

    async fn create(&self, _zone_id: &str, records: &[AliasRecord]) -> Result<Option<String>> {
        self.call("ChangeResourceRecordSets").await?;
        let mut world = self.world();
        let clash = |r: &AliasRecord| {
            world
                .records
                .iter()
                .any(|e| e.name == r.name && e.record_type == r.record_type)
        };
        if records.iter().any(clash) {
            return Ok(None);
        }
        world.records.extend(records.iter().cloned());
        Ok(Some(format!("/change/C{}", world.id())))
    }

    async fn in_sync(&self, _change_id: &str) -> Result<bool> {
        self.call("GetChange").await?;
        Ok(true)
    }

    async fn delete(&self, _zone_id: &str, records: &[AliasRecord]) -> Result<bool> {
        self.call("ChangeResourceRecordSets").await?;
        let mut world = self.world();
        if !records.iter().all(|r| world.records.contains(r)) {
            return Ok(false);
        }
        world.records.retain(|e| !records.contains(e));
        Ok(true)
    }
}

#[async_trait]
impl ObjectStore for FakeCloud {
    async fn get(&self, bucket: &str, key: &str) -> Result<Option<Object>> {
        self.call("GetObject").await?;
        let world = self.world();
        Ok(world.objects.get(&(bucket.into(), key.into())).cloned())
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        condition: WriteCondition<'_>,
    ) -> Result<WriteOutcome> {
        self.call("PutObject").await?;
        let mut world = self.world();
        let path = (bucket.to_string(), key.to_string());
        let current = world.objects.get(&path).map(|o| o.etag.clone());
        let holds = match condition {
            WriteCondition::IfMatch(etag) => current.as_deref() == Some(etag),
            WriteCondition::IfAbsent => current.is_none(),
        };
        if !holds {
            return Ok(WriteOutcome::Conflict);
        }
        let etag = format!("\"{}\"", world.id());
        world.objects.insert(path, Object { body, etag });
        Ok(WriteOutcome::Written)
    }
}

#[async_trait]
impl Registry for FakeCloud {
    async fn image_exists(&self, _image: &ImageUri) -> Result<bool> {
        self.call("DescribeImages").await?;
        Ok(true)
    }
}

#[async_trait]
impl ResourceTags for FakeCloud {
    async fn tagged(&self, wanted: &[Tag]) -> Result<Vec<TaggedResource>> {
        self.call("GetResources").await?;
        let world = self.world();
        let has_all = |tags: &[Tag]| wanted.iter().all(|w| tags.contains(w));
        let services = world
            .services
            .iter()
            .filter(|(_, s)| s.is_active())
            .map(|(_, s)| (&s.arn, &s.tags));
        let revisions = world
            .revisions
            .iter()
            .filter(|r| r.active)
            .map(|r| (&r.arn, &r.tags));
        let groups = world
            .target_groups
            .iter()
            .map(|(tg, _)| (&tg.arn, &tg.tags));
        Ok(services
            .chain(revisions)
            .chain(groups)
            .filter(|(_, tags)| has_all(tags))
            .map(|(arn, tags)| TaggedResource {
                arn: arn.clone(),
                tags: tags.clone(),
            })
            .collect())
    }
}

#[async_trait]
impl Certificates for FakeCloud {
    async fn domains(&self, _arn: &str) -> Result<Option<Vec<String>>> {
        self.call("DescribeCertificate").await?;
        Ok(Some(vec!["*.dev.example.com".into()]))
    }
}
