//! Route 53: the environment's alias records in the dynamic zone.

use async_trait::async_trait;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecordSet, RrType,
};
use aws_sdk_route53::Client;
use eden_core::cloud::{self, AliasRecord, HostRecords, RecordType, Result};
use eden_core::error::AwsFailure;
use eden_core::names::dns_name;
use eden_core::Error;

use crate::error::aws;

pub struct Route53(pub Client);

#[async_trait]
impl cloud::Dns for Route53 {
    async fn zone_name(&self, zone_id: &str) -> Result<Option<String>> {
        match self.0.get_hosted_zone().id(zone_id).send().await {
            Ok(out) => Ok(out
                .hosted_zone()
                .map(|z| z.name().trim_end_matches('.').to_string())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_no_such_hosted_zone() || e.is_invalid_input()) =>
            {
                Ok(None)
            }
            Err(e) => Err(aws("get hosted zone", zone_id, e)),
        }
    }

    async fn records(&self, zone_id: &str, name: &str) -> Result<HostRecords> {
        // Records are sorted by name: one short page from this name on holds all of its types.
        let out = self
            .0
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .start_record_name(name)
            .max_items(10)
            .send()
            .await
            .map_err(|e| aws("look up record", name, e))?;
        let wanted = dns_name(name);
        let mut found = HostRecords::default();
        for r in out.resource_record_sets() {
            if dns_name(r.name()) != wanted {
                continue;
            }
            let record_type = match r.r#type() {
                RrType::A => RecordType::A,
                RrType::Aaaa => RecordType::Aaaa,
                RrType::Cname => {
                    found.others.push(format!("CNAME {}", values(r)));
                    continue;
                }
                _ => continue,
            };
            match r.alias_target() {
                Some(alias) => found.aliases.push(AliasRecord {
                    name: name.to_string(),
                    record_type,
                    target_dns: alias.dns_name().to_string(),
                    target_zone: alias.hosted_zone_id().to_string(),
                }),
                None => found.others.push(format!("{} {}", r.r#type(), values(r))),
            }
        }
        Ok(found)
    }

    async fn create(&self, zone_id: &str, records: &[AliasRecord]) -> Result<Option<String>> {
        match self.change(zone_id, ChangeAction::Create, records).await {
            Ok(change) => Ok(Some(change)),
            Err(Error::Aws { message, .. }) if message.contains("already exists") => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn in_sync(&self, change_id: &str) -> Result<bool> {
        let out = self.0.get_change().id(change_id).send().await;
        let out = out.map_err(|e| aws("read record change", change_id, e))?;
        let status = out.change_info().map(|c| c.status());
        Ok(status == Some(&ChangeStatus::Insync))
    }

    async fn delete(&self, zone_id: &str, records: &[AliasRecord]) -> Result<bool> {
        match self.change(zone_id, ChangeAction::Delete, records).await {
            Ok(_) => Ok(true),
            // Route 53 refuses to delete what is not there or has other values; moto calls a
            // DELETE of values it never had an invalid input.
            Err(Error::Aws { message, .. })
                if message.contains("not found")
                    || message.contains("do not match")
                    || message.starts_with("InvalidInput") =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}

/// A record's values, as `10.0.0.1, 10.0.0.2`.
fn values(r: &ResourceRecordSet) -> String {
    r.resource_records()
        .iter()
        .map(|v| v.value())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Route53 {
    async fn change(
        &self,
        zone_id: &str,
        action: ChangeAction,
        records: &[AliasRecord],
    ) -> Result<String> {
        let name = records.first().map(|r| r.name.as_str()).unwrap_or_default();
        let invalid = |e: aws_sdk_route53::error::BuildError| {
            Error::aws("build record", name, e.to_string(), AwsFailure::Other)
        };
        let mut changes = Vec::new();
        for r in records {
            let alias = AliasTarget::builder()
                .hosted_zone_id(&r.target_zone)
                .dns_name(&r.target_dns)
                .evaluate_target_health(false)
                .build()
                .map_err(invalid)?;
            let set = ResourceRecordSet::builder()
                .name(&r.name)
                .r#type(match r.record_type {
                    RecordType::A => RrType::A,
                    RecordType::Aaaa => RrType::Aaaa,
                })
                .alias_target(alias)
                .build()
                .map_err(invalid)?;
            changes.push(
                Change::builder()
                    .action(action.clone())
                    .resource_record_set(set)
                    .build()
                    .map_err(invalid)?,
            );
        }
        let batch = ChangeBatch::builder()
            .comment("eden")
            .set_changes(Some(changes))
            .build()
            .map_err(invalid)?;
        let verb = match action {
            ChangeAction::Create => "create record",
            ChangeAction::Delete => "delete record",
            _ => "change record",
        };
        let out = self
            .0
            .change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(batch)
            .send()
            .await
            .map_err(|e| aws(verb, name, e))?;
        Ok(out
            .change_info()
            .map(|c| c.id().to_string())
            .unwrap_or_default())
    }
}
