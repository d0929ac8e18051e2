//! `eden config check --aws`: the prerequisites of a profile, checked in AWS at once, one line
//! each, ok or what is wrong and how to fix it.

use serde::Serialize;

use crate::cloud::{Cloud, ServiceInfo};
use crate::error::Error;
use crate::profile::Settings;

/// One prerequisite and how it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub what: &'static str,
    pub ok: bool,
    /// What was found, or what is wrong and how to fix it.
    pub detail: String,
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mark = if self.ok { "ok  " } else { "FAIL" };
        write!(f, "{mark} {}: {}", self.what, self.detail)
    }
}

type Outcome = Result<String, String>;

fn check(what: &'static str, outcome: Result<Outcome, Error>) -> Check {
    let (ok, detail) = match outcome {
        Ok(Ok(found)) => (true, found),
        Ok(Err(problem)) => (false, problem),
        // A call that failed (no permission, say) is a problem of its own.
        Err(e) => (false, e.to_string()),
    };
    Check { what, ok, detail }
}

/// Every check of the profile, in a fixed order.
pub async fn checks(cloud: &Cloud, s: &Settings, table: &str) -> Vec<Check> {
    let (reference, alb, zone, file, cluster, state) = futures::join!(
        reference(cloud, s),
        shared_alb(cloud, s),
        zone(cloud, s),
        environments_file(cloud, s),
        cluster(cloud, s),
        state_table(cloud, table),
    );
    let (reference, reference_lbs) = match reference {
        Ok((outcome, lbs)) => (Ok(outcome), lbs),
        Err(e) => (Err(e), Vec::new()),
    };
    let (alb, listener, certificate) = alb;
    let not_the_references = Ok(if reference_lbs.contains(&s.master_alb_arn) {
        Err(
            "the shared ALB serves the reference service's target group; \
             use an ALB of its own for master_alb_arn"
                .to_string(),
        )
    } else {
        Ok("not the reference service's load balancer".to_string())
    });
    vec![
        check("reference service", reference),
        check("shared ALB", alb),
        check("shared ALB is separate", not_the_references),
        check("HTTPS:443 listener", listener),
        check("certificate", certificate),
        check("hosted zone", zone),
        check("environments file", file),
        check("target cluster", cluster),
        check("state table", state),
    ]
}

/// The reference service and its target group, with the load balancers that group serves.
async fn reference(cloud: &Cloud, s: &Settings) -> Result<(Outcome, Vec<String>), Error> {
    let arn = &s.reference.arn;
    let service = cloud
        .ecs
        .service(s.reference_cluster(), &s.reference.service)
        .await?
        .filter(ServiceInfo::is_active);
    let Some(service) = service else {
        let fix = format!("{arn} not found; set reference_service_arn to an ACTIVE service");
        return Ok((Err(fix), Vec::new()));
    };
    let Some(tg_arn) = service
        .load_balancers
        .iter()
        .find_map(|lb| lb.target_group_arn.clone())
    else {
        let fix = format!("{arn} has no target group; attach it to an ALB target group");
        return Ok((Err(fix), Vec::new()));
    };
    let tg_name = tg_arn.split('/').nth(1).unwrap_or_default();
    let load_balancers = cloud
        .elb
        .target_group(tg_name)
        .await?
        .map(|tg| tg.load_balancers)
        .unwrap_or_default();
    Ok((Ok(format!("{arn} (target group {tg_arn})")), load_balancers))
}

/// The shared ALB, its HTTPS:443 listener, and whether a listener certificate covers
/// `*.ZONE` (every environment's host is one label under the zone).
async fn shared_alb(
    cloud: &Cloud,
    s: &Settings,
) -> (
    Result<Outcome, Error>,
    Result<Outcome, Error>,
    Result<Outcome, Error>,
) {
    let arn = &s.master_alb_arn;
    let (alb, listener, zone) = futures::join!(
        cloud.elb.load_balancer(arn),
        cloud.elb.https_listener(arn),
        cloud.dns.zone_name(&s.zone_id)
    );
    let alb = alb.map(|found| match found {
        Some(alb) => Ok(format!("{arn} ({})", alb.dns_name)),
        None => Err(format!("{arn} not found; check master_alb_arn")),
    });
    let listener = match listener {
        Ok(Some(listener)) => listener,
        Ok(None) => {
            let fix = "none; add an HTTPS listener on port 443 to the shared ALB".to_string();
            let skipped = Ok(Err("no HTTPS:443 listener to hold one".to_string()));
            return (alb, Ok(Err(fix)), skipped);
        }
        Err(e) => {
            let skipped = Ok(Err("the listener could not be read".to_string()));
            return (alb, Err(e), skipped);
        }
    };
    let certificate = match zone {
        Ok(Some(zone)) => certificate(cloud, &listener.certificates, &zone).await,
        Ok(None) => Ok(Err("the hosted zone is missing, so no name to cover".into())),
        Err(e) => Err(e),
    };
    (alb, Ok(Ok(listener.arn)), certificate)
}

async fn certificate(cloud: &Cloud, arns: &[String], zone: &str) -> Result<Outcome, Error> {
    let wildcard = format!("*.{}", zone.to_ascii_lowercase());
    for arn in arns {
        let domains = cloud.certificates.domains(arn).await?.unwrap_or_default();
        if domains.iter().any(|d| d.to_ascii_lowercase() == wildcard) {
            return Ok(Ok(format!("{arn} covers {wildcard}")));
        }
    }
    Ok(Err(format!(
        "no listener certificate covers {wildcard}; import or request one in ACM and add it to the listener"
    )))
}

async fn zone(cloud: &Cloud, s: &Settings) -> Result<Outcome, Error> {
    Ok(match cloud.dns.zone_name(&s.zone_id).await? {
        Some(name) => Ok(format!("{} ({name})", s.zone_id)),
        None => Err(format!("{} not found; check dynamic_zone_id", s.zone_id)),
    })
}

async fn environments_file(cloud: &Cloud, s: &Settings) -> Result<Outcome, Error> {
    let place = format!("s3://{}/{}", s.bucket, s.key);
    Ok(match cloud.store.get(&s.bucket, &s.key).await? {
        Some(object) => match crate::envfile::EnvironmentsFile::parse(&object.body) {
            Ok(_) => Ok(format!("{place} readable")),
            Err(why) => Err(format!(
                "{place} is not an environments file ({why}); fix or remove it"
            )),
        },
        None => Ok(format!(
            "{place} does not exist yet; the first create makes it"
        )),
    })
}

async fn cluster(cloud: &Cloud, s: &Settings) -> Result<Outcome, Error> {
    let cluster = &s.target_cluster;
    Ok(if cloud.ecs.cluster_exists(cluster).await? {
        Ok(format!("{cluster} ACTIVE"))
    } else {
        Err(format!(
            "{cluster} not found; create it or fix target_cluster"
        ))
    })
}

async fn state_table(cloud: &Cloud, table: &str) -> Result<Outcome, Error> {
    Ok(if cloud.table.table_exists(table).await? {
        Ok(format!("{table} exists"))
    } else {
        Err(format!(
            "{table} not found; create it with `eden config push`, or pass --remote-table-name"
        ))
    })
}
