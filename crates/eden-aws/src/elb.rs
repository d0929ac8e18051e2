//! Elastic Load Balancing v2: the shared ALB, its listener rules, and target groups.

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::error::SdkError;
use aws_sdk_elasticloadbalancingv2::operation::delete_target_group::DeleteTargetGroupError;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, HostHeaderConditionConfig, IpAddressType, ProtocolEnum, Rule,
    RuleCondition, Tag, TargetGroupAttribute,
};
use aws_sdk_elasticloadbalancingv2::Client;
use eden_core::cloud::{
    self, Listener, ListenerRule, LoadBalancer, NewRule, Result, RuleCreation, TargetGroup,
    TargetGroupCreation, TargetGroupTemplate, TargetHealth, Template,
};
use eden_core::Error;

use crate::error::aws;
use crate::eventual::until_seen;

/// Target group attributes a copy takes over: the ones that do not depend on the load balancer.
const COPIED_ATTRIBUTES: [&str; 4] = [
    "deregistration_delay.",
    "stickiness.",
    "load_balancing.",
    "slow_start.",
];

pub struct Elb(pub Client);

#[async_trait]
impl cloud::Elb for Elb {
    async fn load_balancer(&self, arn: &str) -> Result<Option<LoadBalancer>> {
        let out = match self
            .0
            .describe_load_balancers()
            .load_balancer_arns(arn)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_load_balancer_not_found_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(aws("describe load balancer", arn, e)),
        };
        Ok(out.load_balancers().first().map(|lb| LoadBalancer {
            arn: lb.load_balancer_arn().unwrap_or(arn).to_string(),
            dns_name: lb.dns_name().unwrap_or_default().to_string(),
            canonical_zone_id: lb
                .canonical_hosted_zone_id()
                .unwrap_or_default()
                .to_string(),
            dualstack: matches!(
                lb.ip_address_type(),
                Some(IpAddressType::Dualstack | IpAddressType::DualstackWithoutPublicIpv4)
            ),
        }))
    }

    async fn https_listener(&self, load_balancer: &str) -> Result<Option<Listener>> {
        let mut pages = self
            .0
            .describe_listeners()
            .load_balancer_arn(load_balancer)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_load_balancer_not_found_exception()) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(aws("describe listeners of", load_balancer, e)),
            };
            let https = page
                .listeners()
                .iter()
                .find(|l| l.port() == Some(443) && l.protocol() == Some(&ProtocolEnum::Https));
            if let Some(listener) = https {
                return Ok(listener.listener_arn().map(|arn| Listener {
                    arn: arn.to_string(),
                    certificates: listener
                        .certificates()
                        .iter()
                        .filter_map(|c| c.certificate_arn().map(str::to_string))
                        .collect(),
                }));
            }
        }
        Ok(None)
    }

    async fn rules(&self, listener: &str) -> Result<Vec<ListenerRule>> {
        let mut pages = self
            .0
            .describe_rules()
            .listener_arn(listener)
            .page_size(400)
            .into_paginator()
            .send();
        let mut rules = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws("describe rules of listener", listener, e))?;
            rules.extend(page.rules().iter().map(listener_rule));
        }
        Ok(rules)
    }

    async fn tags(&self, arns: &[String]) -> Result<Vec<(String, Vec<(String, String)>)>> {
        // DescribeTags takes at most 20 ARNs a call.
        let batches = arns.chunks(20).map(|batch| async move {
            let out = self
                .0
                .describe_tags()
                .set_resource_arns(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| aws("describe tags of", &batch[0], e))?;
            Ok::<_, Error>(
                out.tag_descriptions()
                    .iter()
                    .map(|d| {
                        let tags = d
                            .tags()
                            .iter()
                            .map(|t| {
                                let key = t.key().unwrap_or_default().to_string();
                                (key, t.value().unwrap_or_default().to_string())
                            })
                            .collect();
                        (d.resource_arn().unwrap_or_default().to_string(), tags)
                    })
                    .collect::<Vec<_>>(),
            )
        });
        let described = futures::future::try_join_all(batches).await?;
        Ok(described.into_iter().flatten().collect())
    }

    async fn target_health(&self, target_group: &str) -> Result<Vec<TargetHealth>> {
        let out = self
            .0
            .describe_target_health()
            .target_group_arn(target_group)
            .send()
            .await
            .map_err(|e| aws("describe target health of", target_group, e))?;
        Ok(out
            .target_health_descriptions()
            .iter()
            .map(|d| {
                let target = d.target();
                let id = match (target.and_then(|t| t.id()), target.and_then(|t| t.port())) {
                    (Some(id), Some(port)) => format!("{id}:{port}"),
                    (Some(id), None) => id.to_string(),
                    _ => "?".to_string(),
                };
                let health = d.target_health();
                TargetHealth {
                    id,
                    state: health
                        .and_then(|h| h.state())
                        .map_or("unknown", |s| s.as_str())
                        .to_string(),
                    reason: health.and_then(|h| h.description()).map(str::to_string),
                }
            })
            .collect())
    }

    async fn create_rule(&self, rule: &NewRule) -> Result<RuleCreation> {
        let condition = RuleCondition::builder()
            .field("host-header")
            .host_header_config(
                HostHeaderConditionConfig::builder()
                    .values(&rule.host)
                    .build(),
            )
            .build();
        let action = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(&rule.target_group_arn)
            .build();
        let sent = self
            .0
            .create_rule()
            .listener_arn(&rule.listener)
            .priority(rule.priority as i32)
            .conditions(condition)
            .actions(action)
            .set_tags(Some(tags(&rule.tags)))
            .send()
            .await;
        match sent {
            Ok(out) => {
                let arn = out
                    .rules()
                    .first()
                    .and_then(|r| r.rule_arn())
                    .unwrap_or_default();
                Ok(RuleCreation::Created(arn.to_string()))
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_priority_in_use_exception()) =>
            {
                Ok(RuleCreation::PriorityInUse)
            }
            Err(e) => Err(aws("create listener rule for", &rule.host, e)),
        }
    }

    async fn delete_rule(&self, arn: &str) -> Result<()> {
        match self.0.delete_rule().rule_arn(arn).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_rule_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(aws("delete listener rule", arn, e)),
        }
    }

    async fn add_tags(&self, arn: &str, tags_to_add: &[(String, String)]) -> Result<()> {
        self.0
            .add_tags()
            .resource_arns(arn)
            .set_tags(Some(tags(tags_to_add)))
            .send()
            .await
            .map_err(|e| aws("tag", arn, e))?;
        Ok(())
    }

    async fn find_target_group(&self, name: &str) -> Result<Option<TargetGroup>> {
        let out = match self.0.describe_target_groups().names(name).send().await {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_target_group_not_found_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(aws("describe target group", name, e)),
        };
        let Some(tg) = out.target_groups().first() else {
            return Ok(None);
        };
        Ok(Some(TargetGroup {
            name: tg.target_group_name().unwrap_or(name).to_string(),
            load_balancers: tg.load_balancer_arns().to_vec(),
            arn: tg.target_group_arn().unwrap_or_default().to_string(),
            tags: Vec::new(),
        }))
    }

    async fn target_group_template(&self, arn: &str) -> Result<TargetGroupTemplate> {
        let (described, attributes) = futures::join!(
            self.0
                .describe_target_groups()
                .target_group_arns(arn)
                .send(),
            self.0
                .describe_target_group_attributes()
                .target_group_arn(arn)
                .send(),
        );
        let described = described.map_err(|e| aws("describe reference target group", arn, e))?;
        let attributes =
            attributes.map_err(|e| aws("describe attributes of target group", arn, e))?;
        let group = described.target_groups().first().ok_or_else(|| {
            Error::missing(
                "reference target group",
                arn,
                "attach the reference service to a target group",
            )
        })?;
        let attributes = attributes
            .attributes()
            .iter()
            .filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string())))
            .filter(|(key, _)| COPIED_ATTRIBUTES.iter().any(|p| key.starts_with(p)))
            .collect();
        Ok(TargetGroupTemplate {
            settings: Template::new(group.clone()),
            attributes,
        })
    }

    async fn copy_target_group(
        &self,
        settings: &Template,
        name: &str,
        tags_: &[(String, String)],
    ) -> Result<TargetGroupCreation> {
        let r: &aws_sdk_elasticloadbalancingv2::types::TargetGroup = settings
            .get()
            .ok_or_else(|| crate::ecs::foreign_template(name))?;
        let created = self
            .0
            .create_target_group()
            .name(name)
            .set_protocol(r.protocol.clone())
            .set_protocol_version(r.protocol_version.clone())
            .set_port(r.port)
            .set_vpc_id(r.vpc_id.clone())
            .set_target_type(r.target_type.clone())
            .set_ip_address_type(r.ip_address_type.clone())
            .set_health_check_enabled(r.health_check_enabled)
            .set_health_check_protocol(r.health_check_protocol.clone())
            .set_health_check_port(r.health_check_port.clone())
            .set_health_check_path(r.health_check_path.clone())
            .set_health_check_interval_seconds(r.health_check_interval_seconds)
            .set_health_check_timeout_seconds(r.health_check_timeout_seconds)
            .set_healthy_threshold_count(r.healthy_threshold_count)
            .set_unhealthy_threshold_count(r.unhealthy_threshold_count)
            .set_matcher(r.matcher.clone())
            .set_tags(Some(tags(tags_)))
            .send()
            .await;
        match created {
            Ok(created) => Ok(TargetGroupCreation::Created(
                created
                    .target_groups()
                    .first()
                    .and_then(|tg| tg.target_group_arn())
                    .unwrap_or_default()
                    .to_string(),
            )),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_duplicate_target_group_name_exception()) =>
            {
                Ok(TargetGroupCreation::NameTaken)
            }
            Err(e) => Err(aws("create target group", name, e)),
        }
    }

    async fn set_target_group_attributes(
        &self,
        arn: &str,
        attributes: &[(String, String)],
    ) -> Result<()> {
        if attributes.is_empty() {
            return Ok(());
        }
        let attributes = attributes
            .iter()
            .map(|(key, value)| {
                TargetGroupAttribute::builder()
                    .key(key)
                    .value(value)
                    .build()
            })
            .collect();
        self.0
            .modify_target_group_attributes()
            .target_group_arn(arn)
            .set_attributes(Some(attributes))
            .send()
            .await
            .map_err(|e| aws("copy attributes to target group", arn, e))?;
        Ok(())
    }

    async fn delete_target_group(&self, arn: &str) -> Result<()> {
        // ELB may still see a rule deleted a moment ago using the target group.
        let in_use = |e: &SdkError<DeleteTargetGroupError, _>| {
            let e = e.as_service_error();
            e.is_some_and(DeleteTargetGroupError::is_resource_in_use_exception)
        };
        let deleted = until_seen(in_use, || {
            self.0.delete_target_group().target_group_arn(arn).send()
        })
        .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(e) if crate::error::code(&e) == Some("TargetGroupNotFound") => Ok(()),
            Err(e) => Err(aws("delete target group", arn, e)),
        }
    }
}

fn listener_rule(r: &Rule) -> ListenerRule {
    let hosts = r
        .conditions()
        .iter()
        .filter(|c| c.field() == Some("host-header"))
        .flat_map(|c| {
            let configured = c
                .host_header_config()
                .map(|h| h.values().to_vec())
                .unwrap_or_default();
            configured.into_iter().chain(c.values().iter().cloned())
        })
        .collect();
    let target_groups = r
        .actions()
        .iter()
        .filter(|a| a.r#type() == Some(&ActionTypeEnum::Forward))
        .flat_map(|a| {
            let weighted = a
                .forward_config()
                .map(|f| {
                    f.target_groups()
                        .iter()
                        .filter_map(|t| t.target_group_arn().map(str::to_string))
                        .collect()
                })
                .unwrap_or_else(Vec::new);
            a.target_group_arn()
                .map(str::to_string)
                .into_iter()
                .chain(weighted)
        })
        .collect();
    ListenerRule {
        arn: r.rule_arn().unwrap_or_default().to_string(),
        priority: r.priority().and_then(|p| p.parse().ok()),
        hosts,
        other_conditions: r
            .conditions()
            .iter()
            .any(|c| c.field() != Some("host-header")),
        target_groups,
    }
}

fn tags(tags: &[(String, String)]) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}
