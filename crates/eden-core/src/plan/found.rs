//! What of an environment's names is there, read at once, and whose each part is: the one read
//! that create, delete and gc decide on (see [`crate::ownership`]).

use std::future::Future;

use super::environments::{self, FileRead};
use super::lease::Left;
use super::step::Adopted;
use super::{host_records, shared_alb, target_group_name, SharedAlb};
use crate::cloud::{
    AliasRecord, Cloud, EnvironmentItem, HostRecords, ListenerRule, ServiceInfo, Tag, TargetGroup,
};
use crate::error::Error;
use crate::names::{dns_name, Names};
use crate::ownership::{self, Claim};
use crate::profile::Settings;

/// The reference service and the environment's, as read, and what was read after them.
pub(super) type Services<T> = (Option<ServiceInfo>, Option<ServiceInfo>, T);

/// What of an environment's names is there.
pub(super) struct Found {
    pub names: Names,
    pub fqdn: String,
    pub shared: SharedAlb,
    pub records: HostRecords,
    /// The shared listener's rules for the host or the target group (a rule forwards to it by
    /// an ARN that names it), with their tags once claimed.
    pub rules: Vec<(ListenerRule, Vec<Tag>)>,
    /// The reference service, when it is there and ACTIVE: its names are never an
    /// environment's.
    pub reference: Option<ServiceInfo>,
    /// The environment's service, when ACTIVE.
    pub service: Option<ServiceInfo>,
    /// Whether a service of its name is still being deleted.
    pub draining: bool,
    /// With its tags once claimed.
    pub target_group: Option<TargetGroup>,
    /// The tags of the task definition family's latest revision, when the family has one.
    pub family: Option<Vec<Tag>>,
    pub file: FileRead,
    pub state: Option<EnvironmentItem>,
}

/// One resource of the environment's names, and whose it is.
pub(super) struct Whose {
    pub part: Part,
    /// As the run reports it: the service's or target group's name, `family NAME`, a rule's ARN.
    pub name: String,
    pub claim: Claim,
}

/// Which resource of the environment's names, by its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Part {
    Service(String),
    TargetGroup(String),
    /// The task definition family (its revisions have ARNs of their own).
    Family,
    Rule(String),
}

impl Part {
    /// What kind of resource it is, as the run reports it.
    pub fn kind(&self) -> &'static str {
        match self {
            Part::Service(_) => "service",
            Part::TargetGroup(_) => "target group",
            Part::Family => "task definition",
            Part::Rule(_) => "listener rule",
        }
    }

    /// How it is tagged as eden's when adopted; None for the family, whose next revision
    /// carries the tags.
    pub fn adopted(&self) -> Option<Adopted> {
        match self {
            Part::Service(arn) => Some(Adopted::Service(arn.clone())),
            Part::TargetGroup(arn) => Some(Adopted::TargetGroup(arn.clone())),
            Part::Family => None,
            Part::Rule(arn) => Some(Adopted::Rule(arn.clone())),
        }
    }
}

impl Found {
    /// Every read, at once. `services` reads the reference service and the environment's (see
    /// [`super::services`]), and what the caller reads once it has them.
    pub async fn read<T>(
        cloud: &Cloud,
        s: &Settings,
        names: &Names,
        table: &str,
        services: impl Future<Output = Result<Services<T>, Error>>,
    ) -> Result<(Found, T), Error> {
        let (
            file,
            (fqdn, records),
            shared,
            (reference, service, then),
            target_group,
            family,
            state,
        ) = futures::try_join!(
            environments::read(cloud, &s.bucket, &s.key),
            host_records(cloud, s, names),
            shared_alb(cloud, s),
            services,
            cloud.elb.find_target_group(&names.target_group),
            cloud.ecs.family_tags(&names.resource),
            cloud.table.environment(table, &s.profile, &names.resource),
        )?;
        // Their tags are claimed once the run knows what the lease vouches for.
        let rules = shared
            .rules
            .iter()
            .filter(|r| {
                let tg = names.target_group.as_str();
                let forwards = |arn: &String| target_group_name(arn) == Some(tg);
                r.serves_host(&fqdn) || r.target_groups.iter().any(forwards)
            })
            .map(|rule| (rule.clone(), Vec::new()))
            .collect();
        let found = Found {
            names: names.clone(),
            fqdn,
            shared,
            records,
            rules,
            reference: reference.filter(ServiceInfo::is_active),
            draining: service.as_ref().is_some_and(ServiceInfo::is_draining),
            service: service.filter(ServiceInfo::is_active),
            target_group,
            family,
            file,
            state,
        };
        Ok((found, then))
    }

    /// The rules for the host.
    pub fn host_rules(&self) -> impl Iterator<Item = &(ListenerRule, Vec<Tag>)> {
        self.rules.iter().filter(|(r, _)| r.serves_host(&self.fqdn))
    }

    /// What the reads show, to compare with what the lease's previous holder left.
    pub fn left(&self) -> Left {
        Left::new(
            self.state.as_ref().map(|item| item.last_updated),
            self.service
                .as_ref()
                .map(|svc| svc.task_definition.as_str()),
            self.target_group.as_ref().map(|tg| tg.arn.as_str()),
            self.host_rules().map(|(rule, _)| rule.arn.clone()),
            &self.records.aliases,
            &self.shared.alb.dns_name,
        )
    }

    /// Fills in the tags that decide whose the target group and rules are, in one call, and
    /// none for what `left` names: the target group and rules the lease's previous holder, an
    /// eden run of this profile and name, recorded leaving (given only when the run's reads
    /// show exactly what it recorded). Those are eden's, as that run made or adopted them; their
    /// ARNs name them and no other resource.
    pub async fn claim_tags(
        &mut self,
        cloud: &Cloud,
        s: &Settings,
        left: Option<&Left>,
    ) -> Result<(), Error> {
        let vouched = |arn: &String| {
            left.is_some_and(|l| l.target_group.as_ref() == Some(arn) || l.rules.contains(arn))
        };
        let found = self.target_group.iter().map(|tg| &tg.arn);
        let found = found.chain(self.rules.iter().map(|(rule, _)| &rule.arn));
        let unknown: Vec<String> = found.filter(|arn| !vouched(arn)).cloned().collect();
        let read = match unknown.is_empty() {
            true => Vec::new(),
            false => cloud.elb.tags(&unknown).await?,
        };
        let ours = ownership::tags(&s.profile, self.names.env.as_str());
        let tags_of = |arn: &String| match vouched(arn) {
            true => ours.clone(),
            false => {
                let found = read.iter().find(|(of, _)| of == arn);
                found.map(|(_, tags)| tags.clone()).unwrap_or_default()
            }
        };
        if let Some(tg) = self.target_group.as_mut() {
            tg.tags = tags_of(&tg.arn);
        }
        for (rule, tags) in self.rules.iter_mut() {
            *tags = tags_of(&rule.arn);
        }
        Ok(())
    }

    /// Whose the service, the target group, the task definition family and each of `rules`
    /// are, in that order. A rule not for this host alone is never eden's, whatever its tags.
    pub fn whose<'a>(
        &self,
        s: &Settings,
        rules: impl IntoIterator<Item = &'a (ListenerRule, Vec<Tag>)>,
    ) -> Vec<Whose> {
        let name = self.names.env.as_str();
        let claim = |tags: &[Tag]| Claim::of(tags, &s.profile, name, self.state.is_some());
        let whose = |part, name: &str, claim| Whose {
            part,
            name: name.to_string(),
            claim,
        };
        let service = self.service.iter().map(|svc| {
            let part = Part::Service(svc.arn.clone());
            whose(part, &svc.name, claim(&svc.tags))
        });
        let target_group = self.target_group.iter().map(|tg| {
            let part = Part::TargetGroup(tg.arn.clone());
            whose(part, &tg.name, claim(&tg.tags))
        });
        let family = self.family.iter().map(|tags| {
            let family = format!("family {}", self.names.resource);
            whose(Part::Family, &family, claim(tags))
        });
        let rules = rules.into_iter().map(|(rule, tags)| {
            let claim = match rule.is_exactly_for(&self.fqdn) {
                true => claim(tags),
                false => Claim::NotOurs(
                    "it matches other hosts or conditions too, as eden's rules never do".into(),
                ),
            };
            whose(Part::Rule(rule.arn.clone()), &rule.arn, claim)
        });
        service
            .chain(target_group)
            .chain(family)
            .chain(rules)
            .collect()
    }

    /// The host's alias records that are eden's, and each other record there with why it is
    /// not: eden's are the aliases to the shared ALB at a host the state item records.
    pub fn records(&self) -> (Vec<AliasRecord>, Vec<(String, String)>) {
        let alb = dns_name(&self.shared.alb.dns_name);
        let recorded = self
            .state
            .as_ref()
            .is_some_and(|item| dns_name(&item.endpoint) == dns_name(&self.fqdn));
        let mut ours = Vec::new();
        let mut others = Vec::new();
        for alias in &self.records.aliases {
            let why = match dns_name(&alias.target_dns) == alb {
                true if recorded => {
                    ours.push(alias.clone());
                    continue;
                }
                true => "it points at the shared ALB, but no state item records an environment at this host".to_string(),
                false => format!(
                    "it is an alias to {}, not to the shared ALB",
                    alias.target_dns
                ),
            };
            others.push((format!("{} {:?}", self.fqdn, alias.record_type), why));
        }
        for other in &self.records.others {
            let name = format!("{} ({other})", self.fqdn);
            others.push((name, "eden never makes such a record".into()));
        }
        (ours, others)
    }
}
