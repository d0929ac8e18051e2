//! The environment's host name in the dynamic zone and its alias records: looked up, and the
//! ones eden makes for the shared ALB.

use crate::cloud::{AliasRecord, Cloud, HostRecords, LoadBalancer, RecordType};
use crate::error::Error;
use crate::names::{dns_name, Names};
use crate::profile::Settings;

/// The dynamic zone's name as Route 53 has it, which also proves the zone exists.
async fn zone_name(cloud: &Cloud, s: &Settings) -> Result<String, Error> {
    let name = cloud.dns.zone_name(&s.zone_id).await?.ok_or_else(|| {
        Error::missing(
            "Route 53 hosted zone",
            &s.zone_id,
            "check dynamic_zone_id in the profile",
        )
    })?;
    Ok(name)
}

/// The environment's host name in the zone, and the records it has there.
pub(super) async fn host_records(
    cloud: &Cloud,
    s: &Settings,
    names: &Names,
) -> Result<(String, HostRecords), Error> {
    let fqdn = host_name(cloud, s, names).await?;
    let records = records_at(cloud, s, &fqdn).await?;
    Ok((fqdn, records))
}

/// The alias records eden makes for a host: A, and AAAA when the shared ALB is dual-stack.
pub(super) fn records_for(fqdn: &str, alb: &LoadBalancer) -> Vec<AliasRecord> {
    let mut types = vec![RecordType::A];
    if alb.dualstack {
        types.push(RecordType::Aaaa);
    }
    types
        .into_iter()
        .map(|record_type| AliasRecord {
            name: fqdn.to_string(),
            record_type,
            target_dns: alb.dns_name.clone(),
            target_zone: alb.canonical_zone_id.clone(),
        })
        .collect()
}

/// Whether two alias records are the same record pointing at the same target.
pub(super) fn same_alias(a: &AliasRecord, b: &AliasRecord) -> bool {
    a.record_type == b.record_type
        && dns_name(&a.name) == dns_name(&b.name)
        && dns_name(&a.target_dns) == dns_name(&b.target_dns)
}

/// The environment's host name in the zone. The zone's name comes from the profile when it
/// gives one (a zone's name never changes; `config check --aws` checks it), without a call;
/// else from Route 53.
async fn host_name(cloud: &Cloud, s: &Settings, names: &Names) -> Result<String, Error> {
    let zone = match &s.zone_name {
        Some(zone) => zone.clone(),
        None => zone_name(cloud, s).await?,
    };
    names.checked_fqdn(&zone)
}

/// The records of a host name. A lookup that fails asks Route 53 for the zone, to say when it
/// is the zone that is missing.
async fn records_at(cloud: &Cloud, s: &Settings, fqdn: &str) -> Result<HostRecords, Error> {
    match cloud.dns.records(&s.zone_id, fqdn).await {
        Ok(records) => Ok(records),
        Err(lookup) => {
            zone_name(cloud, s).await?;
            Err(lookup)
        }
    }
}
