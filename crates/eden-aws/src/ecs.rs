//! ECS: services and task definitions.

use async_trait::async_trait;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::operation::create_service::CreateServiceError;
use aws_sdk_ecs::types::{
    ContainerDefinition, DeploymentConfiguration, DesiredStatus, KeyValuePair, LoadBalancer,
    PropagateTags, Service, ServiceField, Tag, Task, TaskDefinition, TaskDefinitionField,
    TaskDefinitionStatus,
};
use aws_sdk_ecs::Client;
use eden_core::cloud::{
    self, Deployment, NewService, Result, ServiceInfo, ServiceLoadBalancer, TaskDefinitionCopy,
    TaskTemplate, Template,
};
use eden_core::overrides::EnvVar;
use eden_core::Error;

use crate::error::{aws, code};
use crate::eventual::until_seen;

fn sees_no_load_balancer<R>(e: &SdkError<CreateServiceError, R>) -> bool {
    let message = e.as_service_error().and_then(|e| e.message());
    message.is_some_and(|m| m.contains("does not have an associated load balancer"))
}

pub struct Ecs(pub Client);

#[async_trait]
impl cloud::Ecs for Ecs {
    async fn cluster_exists(&self, cluster: &str) -> Result<bool> {
        let out = self
            .0
            .describe_clusters()
            .clusters(cluster)
            .send()
            .await
            .map_err(|e| aws("describe cluster", cluster, e))?;
        Ok(out.clusters().iter().any(|c| c.status() == Some("ACTIVE")))
    }

    async fn stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        task_definition: &str,
    ) -> Result<Vec<String>> {
        let listed = self
            .0
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(DesiredStatus::Stopped)
            .send()
            .await
            .map_err(|e| aws("list stopped tasks of", service, e))?;
        if listed.task_arns().is_empty() {
            return Ok(Vec::new());
        }
        let described = self
            .0
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(listed.task_arns().to_vec()))
            .send()
            .await
            .map_err(|e| aws("describe stopped tasks of", service, e))?;
        let mut reasons: Vec<String> = described
            .tasks()
            .iter()
            .filter(|t| t.task_definition_arn() == Some(task_definition))
            .map(stop_reason)
            .collect();
        reasons.sort();
        reasons.dedup();
        Ok(reasons)
    }

    async fn container_image(
        &self,
        task_definition: &str,
        container: &str,
    ) -> Result<Option<String>> {
        let out = self
            .0
            .describe_task_definition()
            .task_definition(task_definition)
            .send()
            .await
            .map_err(|e| aws("describe task definition", task_definition, e))?;
        Ok(out.task_definition.and_then(|td| {
            td.container_definitions
                .unwrap_or_default()
                .into_iter()
                .find(|c| c.name() == Some(container))
                .and_then(|c| c.image)
        }))
    }

    async fn services(&self, cluster: &str, names: &[&str]) -> Result<Vec<ServiceInfo>> {
        let out = match self
            .0
            .describe_services()
            .cluster(cluster)
            .set_services(Some(names.iter().map(|n| n.to_string()).collect()))
            .include(ServiceField::Tags)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if code(&e) == Some("ClusterNotFoundException") => return Ok(Vec::new()),
            Err(e) => return Err(aws("describe service", &names.join(", "), e)),
        };
        Ok(out.services().iter().map(service_info).collect())
    }

    async fn task_definition_template(
        &self,
        task_definition: &str,
    ) -> Result<Option<TaskTemplate>> {
        let described = self
            .0
            .describe_task_definition()
            .task_definition(task_definition)
            .send()
            .await;
        let reference = match described {
            Ok(out) => out.task_definition,
            // No such family or revision.
            Err(e) if code(&e) == Some("ClientException") => None,
            Err(e) => return Err(aws("describe task definition", task_definition, e)),
        };
        Ok(reference.map(|reference| TaskTemplate {
            arn: reference
                .task_definition_arn()
                .unwrap_or_default()
                .to_string(),
            containers: reference
                .container_definitions()
                .iter()
                .filter_map(|c| c.name().map(str::to_string))
                .collect(),
            template: Template::new(reference),
        }))
    }

    async fn copy_task_definition(&self, copy: &TaskDefinitionCopy) -> Result<String> {
        let reference: TaskDefinition = copy
            .template
            .get::<TaskDefinition>()
            .cloned()
            .ok_or_else(|| foreign_template(&copy.family))?;
        let mut containers = reference.container_definitions().to_vec();
        for container in containers
            .iter_mut()
            .filter(|c| c.name() == Some(copy.container.as_str()))
        {
            container.image = Some(copy.image.clone());
            set_environment(container, &copy.environment);
        }
        let out = self
            .0
            .register_task_definition()
            .family(&copy.family)
            .set_container_definitions(Some(containers))
            .set_task_role_arn(reference.task_role_arn)
            .set_execution_role_arn(reference.execution_role_arn)
            .set_network_mode(reference.network_mode)
            .set_volumes(reference.volumes)
            .set_placement_constraints(reference.placement_constraints)
            .set_requires_compatibilities(reference.requires_compatibilities)
            .set_cpu(reference.cpu)
            .set_memory(reference.memory)
            .set_pid_mode(reference.pid_mode)
            .set_ipc_mode(reference.ipc_mode)
            .set_proxy_configuration(reference.proxy_configuration)
            .set_ephemeral_storage(reference.ephemeral_storage)
            .set_runtime_platform(reference.runtime_platform)
            .set_enable_fault_injection(reference.enable_fault_injection)
            .set_tags(Some(tags(&copy.tags)))
            .send()
            .await
            .map_err(|e| aws("register task definition", &copy.family, e))?;
        out.task_definition
            .and_then(|td| td.task_definition_arn)
            .ok_or_else(|| no_arn("register task definition", &copy.family))
    }

    async fn create_service(&self, new: &NewService) -> Result<String> {
        let s: &Service = new
            .settings
            .get()
            .ok_or_else(|| foreign_template(&new.name))?;
        let lb = LoadBalancer::builder()
            .target_group_arn(&new.target_group_arn)
            .container_name(&new.container_name)
            .container_port(new.container_port)
            .build();
        // A capacity provider strategy and a launch type exclude each other.
        let strategy = s
            .capacity_provider_strategy
            .clone()
            .filter(|s| !s.is_empty());
        let launch_type = s.launch_type.clone().filter(|_| strategy.is_none());
        // The deployment's sizes and circuit breaker; not its alarms, which watch the reference.
        let deployment = s.deployment_configuration.as_ref().map(|d| {
            DeploymentConfiguration::builder()
                .set_maximum_percent(d.maximum_percent)
                .set_minimum_healthy_percent(d.minimum_healthy_percent)
                .set_deployment_circuit_breaker(d.deployment_circuit_breaker.clone())
                .build()
        });
        // describe-services shows NONE, which create-service does not accept.
        let propagate = s
            .propagate_tags
            .clone()
            .filter(|p| *p != PropagateTags::None);
        let create = self
            .0
            .create_service()
            .cluster(&new.cluster)
            .service_name(&new.name)
            .task_definition(&new.task_definition)
            .desired_count(s.desired_count)
            .load_balancers(lb)
            .set_launch_type(launch_type)
            .set_capacity_provider_strategy(strategy)
            .set_platform_version(s.platform_version.clone())
            .set_network_configuration(s.network_configuration.clone())
            .set_deployment_configuration(deployment)
            // Where its tasks may run (EC2 instances of a kind, spread over zones): the same. An
            // empty list goes as none, which Fargate takes.
            .set_placement_constraints(s.placement_constraints.clone().filter(|c| !c.is_empty()))
            .set_placement_strategy(s.placement_strategy.clone().filter(|p| !p.is_empty()))
            .set_availability_zone_rebalancing(s.availability_zone_rebalancing.clone())
            .set_health_check_grace_period_seconds(s.health_check_grace_period_seconds)
            .enable_execute_command(s.enable_execute_command)
            .set_scheduling_strategy(s.scheduling_strategy.clone())
            .set_propagate_tags(propagate)
            .enable_ecs_managed_tags(s.enable_ecs_managed_tags)
            .set_tags(Some(tags(&new.tags)));
        // ECS learns of the rule that puts the target group on the ALB a moment after ELB made
        // it, and refuses the service until then. The SDK sends the same token when it tries
        // again: a service made by a call whose answer was lost is that call's answer, not
        // "not idempotent".
        let out = until_seen(sees_no_load_balancer, || {
            create.clone().client_token(cloud::random_id()).send()
        })
        .await
        .map_err(|e| aws("create service", &new.name, e))?;
        out.service
            .and_then(|svc| svc.service_arn)
            .ok_or_else(|| no_arn("create service", &new.name))
    }

    async fn tag(&self, arn: &str, tags_to_set: &[(String, String)]) -> Result<()> {
        self.0
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags(tags_to_set)))
            .send()
            .await
            .map_err(|e| aws("tag", arn, e))?;
        Ok(())
    }

    async fn deploy(&self, cluster: &str, service: &str, task_definition: &str) -> Result<()> {
        self.0
            .update_service()
            .cluster(cluster)
            .service(service)
            .task_definition(task_definition)
            .send()
            .await
            .map_err(|e| aws("deploy to service", service, e))?;
        Ok(())
    }

    async fn delete_service(&self, cluster: &str, service: &str) -> Result<()> {
        match self
            .0
            .delete_service()
            .cluster(cluster)
            .service(service)
            .force(true)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    code(&e),
                    Some("ServiceNotFoundException" | "ServiceNotActiveException")
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(aws("delete service", service, e)),
        }
    }

    async fn task_definitions(&self, family: &str) -> Result<Vec<String>> {
        let mut pages = self
            .0
            .list_task_definitions()
            .family_prefix(family)
            .status(TaskDefinitionStatus::Active)
            .into_paginator()
            .send();
        let mut arns = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws("list task definitions", family, e))?;
            // The filter is a prefix in some implementations: keep this family only.
            arns.extend(
                page.task_definition_arns()
                    .iter()
                    .filter(|arn| family_of(arn) == Some(family))
                    .cloned(),
            );
        }
        Ok(arns)
    }

    async fn family_tags(&self, family: &str) -> Result<Option<Vec<(String, String)>>> {
        let out = match self
            .0
            .describe_task_definition()
            .task_definition(family)
            .include(TaskDefinitionField::Tags)
            .send()
            .await
        {
            Ok(out) => out,
            // ECS answers a family without ACTIVE revisions with a client error.
            Err(e) if code(&e) == Some("ClientException") => return Ok(None),
            Err(e) => return Err(aws("describe task definition family", family, e)),
        };
        // moto answers with the latest revision even when it is INACTIVE.
        let active = out
            .task_definition()
            .is_some_and(|td| td.status() == Some(&TaskDefinitionStatus::Active));
        Ok(active.then(|| tags_of(out.tags())))
    }

    async fn deregister_task_definition(&self, arn: &str) -> Result<()> {
        self.0
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(|e| aws("deregister task definition", arn, e))?;
        Ok(())
    }
}

/// Sets each variable in the container's environment: an existing one keeps its place with the
/// new value, a new one goes last.
fn set_environment(container: &mut ContainerDefinition, vars: &[EnvVar]) {
    let environment = container.environment.get_or_insert_with(Vec::new);
    for var in vars {
        let pair = KeyValuePair::builder()
            .name(&var.name)
            .value(&var.value)
            .build();
        match environment
            .iter_mut()
            .find(|p| p.name() == Some(var.name.as_str()))
        {
            Some(existing) => *existing = pair,
            None => environment.push(pair),
        }
    }
}

/// Why a task stopped, with its containers' exit reasons: what a user needs to fix a rollout.
fn stop_reason(task: &Task) -> String {
    let mut reason = task
        .stopped_reason()
        .unwrap_or("stopped without a reason")
        .to_string();
    for c in task.containers() {
        match (c.name(), c.exit_code(), c.reason()) {
            (Some(name), _, Some(why)) => reason.push_str(&format!(" ({name}: {why})")),
            (Some(name), Some(code), None) if code != 0 => {
                reason.push_str(&format!(" ({name}: exit code {code})"))
            }
            _ => {}
        }
    }
    reason
}

fn deployment_of(d: &aws_sdk_ecs::types::Deployment) -> Deployment {
    Deployment {
        id: d.id().unwrap_or_default().to_string(),
        status: d.status().unwrap_or_default().to_string(),
        task_definition: d.task_definition().unwrap_or_default().to_string(),
        rollout_state: d.rollout_state().map(|s| s.as_str().to_string()),
        rollout_reason: d.rollout_state_reason().map(str::to_string),
        desired: d.desired_count(),
        running: d.running_count(),
        pending: d.pending_count(),
        failed_tasks: d.failed_tasks(),
        updated_at: d.updated_at().map(|t| t.secs()),
    }
}

/// `arn:...:task-definition/FAMILY:REVISION` -> FAMILY
fn family_of(arn: &str) -> Option<&str> {
    let (_, rest) = arn.rsplit_once("task-definition/")?;
    rest.rsplit_once(':').map(|(family, _)| family)
}

fn tags(tags: &[(String, String)]) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// A template this adapter did not make: a bug in the caller, reported rather than panicked.
pub fn foreign_template(resource: &str) -> Error {
    Error::aws(
        "copy",
        resource,
        "the reference was read by another adapter",
        eden_core::error::AwsFailure::Other,
    )
}

fn no_arn(action: &str, resource: &str) -> Error {
    Error::aws(
        action,
        resource,
        "AWS answered without an ARN",
        eden_core::error::AwsFailure::Other,
    )
}

fn service_info(s: &Service) -> ServiceInfo {
    ServiceInfo {
        arn: s.service_arn().unwrap_or_default().to_string(),
        name: s.service_name().unwrap_or_default().to_string(),
        status: s.status().unwrap_or_default().to_string(),
        task_definition: s.task_definition().unwrap_or_default().to_string(),
        load_balancers: s
            .load_balancers()
            .iter()
            .map(|lb| ServiceLoadBalancer {
                target_group_arn: lb.target_group_arn().map(str::to_string),
                container_name: lb.container_name().map(str::to_string),
                container_port: lb.container_port(),
            })
            .collect(),
        desired_count: s.desired_count(),
        settings: Template::new(s.clone()),
        running_count: s.running_count(),
        pending_count: s.pending_count(),
        deployments: s.deployments().iter().map(deployment_of).collect(),
        events: s
            .events()
            .iter()
            .take(3)
            .filter_map(|e| e.message().map(str::to_string))
            .collect(),
        tags: tags_of(s.tags()),
        not_copied: not_copied(s),
    }
}

/// What ECS keeps on the service's deployment and a copy does not take over (see
/// docs/known-issues.md), each with what that means for the copy.
fn not_copied(s: &Service) -> Vec<String> {
    let primary = s
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"));
    let connect = primary.and_then(|d| d.service_connect_configuration());
    let uses = [
        (
            connect.is_some_and(|c| c.enabled()),
            "Service Connect",
            "its tasks cannot call the reference's peers by their Service Connect names",
        ),
        (
            primary.is_some_and(|d| !d.volume_configurations().is_empty()),
            "EBS volumes configured at launch",
            "its tasks cannot start without them",
        ),
    ];
    let used = uses.into_iter().filter(|(used, _, _)| *used);
    used.map(|(_, setting, so)| format!("{setting}, which a copy does not take over: {so}"))
        .collect()
}

fn tags_of(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_env_overrides_in_place_and_appends_the_rest() {
        let pair = |k: &str, v: &str| KeyValuePair::builder().name(k).value(v).build();
        let mut container = ContainerDefinition::builder()
            .name("app")
            .environment(pair("A", "1"))
            .environment(pair("B", "2"))
            .build();
        let var = |k: &str, v: &str| EnvVar {
            name: k.into(),
            value: v.into(),
        };
        set_environment(&mut container, &[var("B", "two"), var("C", "3")]);
        assert_eq!(
            container.environment(),
            [pair("A", "1"), pair("B", "two"), pair("C", "3")]
        );
    }

    #[test]
    fn family_is_read_exactly_from_the_arn() {
        let arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/dev-dynamic-foo:3";
        assert_eq!(family_of(arn), Some("dev-dynamic-foo"));
        assert_ne!(
            family_of("arn:aws:ecs:us-east-1:1:task-definition/dev-dynamic-foo-bar:1"),
            Some("dev-dynamic-foo")
        );
        assert_eq!(family_of("nonsense"), None);
    }
}
