//! `eden status`: every resource of one environment with its ARN and state, read at once.

use serde::Serialize;

use super::Stop;
use crate::cloud::{Cloud, Deployment, RecordType, ServiceInfo, TargetHealth};
use crate::error::Error;
use crate::names::EnvName;
use crate::profile::Settings;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub profile: String,
    /// The resource name.
    pub name: String,
    pub endpoint: String,
    pub url: String,
    /// The target container's image in the service's task definition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Whether the state table records the environment.
    pub recorded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_group: Option<TargetGroupStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listener_rule: Option<RuleStatus>,
    /// A, and AAAA on a dual-stack ALB.
    pub records: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceStatus {
    pub arn: String,
    pub status: String,
    pub task_definition: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_deployment: Option<Deployment>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetGroupStatus {
    pub arn: String,
    pub targets: Vec<TargetHealth>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleStatus {
    pub arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
}

impl Status {
    /// Whether nothing of the environment exists.
    pub fn is_absent(&self) -> bool {
        !self.recorded
            && self.service.is_none()
            && self.target_group.is_none()
            && self.listener_rule.is_none()
            && self.records.is_empty()
    }
}

/// Reads the environment. Three calls deep: the zone, the shared ALB and the target group come
/// first, then records, rules, target health and the task definition, all at once.
pub async fn status(
    cloud: &Cloud,
    s: &Settings,
    env: &EnvName,
    table: &str,
    stop: &Stop,
) -> Result<Status, Error> {
    stop.check()?;
    s.check_region(&cloud.region)?;
    let names = s.names(env);
    let dns = super::host_records(cloud, s, &names);
    let service = async {
        let service = cloud
            .ecs
            .service(&s.target_cluster, &names.resource)
            .await?
            .filter(ServiceInfo::is_active);
        let image = match (&service, service_container(&service, s)) {
            (Some(svc), Some(container)) => {
                cloud
                    .ecs
                    .container_image(&svc.task_definition, &container)
                    .await?
            }
            _ => None,
        };
        Ok::<_, Error>((service, image))
    };
    let target_group = async {
        let Some(tg) = cloud.elb.target_group(&names.target_group).await? else {
            return Ok(None);
        };
        let targets = cloud.elb.target_health(&tg.arn).await?;
        Ok::<_, Error>(Some(TargetGroupStatus {
            arn: tg.arn,
            targets,
        }))
    };
    let ((fqdn, records), (_, rules), (service, image), target_group, item) = futures::try_join!(
        dns,
        super::listener_rules(cloud, s),
        service,
        target_group,
        cloud.table.environment(table, &s.profile, &names.resource),
    )?;
    let rule = rules
        .iter()
        .find(|r| r.serves_host(&fqdn))
        .map(|r| RuleStatus {
            arn: r.arn.clone(),
            priority: r.priority,
        });
    let status = Status {
        profile: s.profile.clone(),
        name: names.resource.clone(),
        url: format!("https://{fqdn}"),
        endpoint: fqdn,
        image,
        last_updated: item.as_ref().map(|i| i.last_updated),
        expires_at: item.as_ref().and_then(|i| i.expires_at),
        recorded: item.is_some(),
        service: service.map(|svc| ServiceStatus {
            last_deployment: svc.deployments.first().cloned(),
            arn: svc.arn,
            status: svc.status,
            task_definition: svc.task_definition,
            desired: svc.desired_count,
            running: svc.running_count,
            pending: svc.pending_count,
            events: svc.events,
        }),
        target_group,
        listener_rule: rule,
        records: records
            .aliases
            .iter()
            .map(|r| match r.record_type {
                RecordType::A => "A".to_string(),
                RecordType::Aaaa => "AAAA".to_string(),
            })
            .collect(),
    };
    if status.is_absent() {
        return Err(Error::missing(
            "environment",
            format!("{} of profile {}", names.resource, s.profile),
            "list environments with `eden ls`",
        ));
    }
    Ok(status)
}

/// The container whose image eden replaces: the profile's, else the service's load balancer's.
fn service_container(service: &Option<ServiceInfo>, s: &Settings) -> Option<String> {
    s.container.clone().or_else(|| {
        service
            .as_ref()?
            .load_balancers
            .iter()
            .find_map(|lb| lb.container_name.clone())
    })
}
