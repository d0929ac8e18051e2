//! `eden config check --aws`: the prerequisites of a profile, checked in AWS at once, one line
//! each, ok or what is wrong and how to fix it.

use serde::Serialize;

use crate::cloud::{Cloud, Listener, ServiceInfo};
use crate::error::Error;
use crate::names::dns_name;
use crate::profile::{Key, Settings};

/// One prerequisite and how it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub what: &'static str,
    pub ok: bool,
    /// What was found, or what is wrong and how to fix it.
    pub detail: String,
    /// The value AWS has for a key the profile gets wrong or leaves out, which `--fix` writes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

/// A profile key and the value AWS has for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    #[serde(skip)]
    pub key: Key,
    /// The key as the profile file spells it.
    pub name: &'static str,
    pub value: String,
}

impl Check {
    /// Records `found` as the value of `key`: a failure when the profile says another, a value
    /// to fill in when it says none.
    fn derived(mut self, key: Key, given: Option<&str>, found: Option<&str>) -> Self {
        let Some(found) = found.filter(|found| Some(*found) != given) else {
            return self;
        };
        match given {
            Some(given) => {
                self.ok = false;
                self.detail = format!(
                    "{}, but {key} says {given}; fix it (`eden config check --aws --fix` does)",
                    self.detail
                );
            }
            None => {
                self.detail = format!(
                    "{}; {key} is not set (`--fix` records it, which saves each run a round trip)",
                    self.detail
                )
            }
        }
        self.fix = Some(Fix {
            key,
            name: key.file_name(),
            value: found.to_string(),
        });
        self
    }

    /// Marks the fix as written to the profile.
    pub fn fixed(&mut self) {
        if let Some(fix) = &self.fix {
            self.ok = true;
            self.detail = format!("{} (fixed: {} = {})", self.detail, fix.name, fix.value);
        }
    }
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
    Check {
        what,
        ok,
        detail,
        fix: None,
    }
}

/// Every check of the profile, in a fixed order. Everything is read at once; only the
/// certificates wait, for the listener and the zone.
pub async fn checks(cloud: &Cloud, s: &Settings, table: &str) -> Vec<Check> {
    let arn = &s.master_alb_arn;
    let (reference, alb, listener, zone, file, cluster, state) = futures::join!(
        reference(cloud, s),
        cloud.elb.load_balancer(arn),
        cloud.elb.https_listener(arn),
        cloud.dns.zone_name(&s.zone_id),
        environments_file(cloud, s),
        cluster(cloud, s),
        state_table(cloud, table),
    );
    let certificate = certificate(cloud, &listener, &zone).await;
    let (reference, reference_tg, reference_lbs) = match reference {
        Ok((outcome, tg, lbs)) => (Ok(outcome), tg, lbs),
        Err(e) => (Err(e), None, Vec::new()),
    };
    let listener_arn = listener
        .as_ref()
        .ok()
        .and_then(|found| found.as_ref().map(|l| l.arn.clone()));
    let zone_name = zone.as_ref().ok().and_then(Clone::clone);
    let not_the_references = Ok(if reference_lbs.contains(arn) {
        Err(
            "the shared ALB serves the reference service's target group; \
             use an ALB of its own for master_alb_arn"
                .to_string(),
        )
    } else {
        Ok("not the reference service's load balancer".to_string())
    });
    let alb = alb.map(|found| match found {
        Some(alb) => Ok(format!("{arn} ({})", alb.dns_name)),
        None => Err(format!("{arn} not found; check master_alb_arn")),
    });
    let listener = listener.map(|found| match found {
        Some(listener) => Ok(listener.arn),
        None => Err("none; add an HTTPS listener on port 443 to the shared ALB".to_string()),
    });
    let zone = zone.map(|found| match found {
        None => Err(format!("{} not found; check dynamic_zone_id", s.zone_id)),
        Some(name) => Ok(format!("{} ({name})", s.zone_id)),
    });
    // Host names are made from the profile's zone name when it gives one, in either spelling.
    let given_zone = s.zone_name.as_deref().map(|given| {
        match zone_name
            .as_deref()
            .filter(|name| dns_name(name) == dns_name(given))
        {
            Some(name) => name,
            None => given,
        }
    });
    let region = Ok(match s.check_region(&cloud.region) {
        Ok(()) => Ok(format!("{} (the reference service's)", cloud.region)),
        Err(e) => Err(e.to_string()),
    });
    vec![
        check("region", region),
        check("reference service", reference).derived(
            Key::ReferenceTargetGroupArn,
            s.reference_target_group.as_deref(),
            reference_tg.as_deref(),
        ),
        check("shared ALB", alb),
        check("shared ALB is separate", not_the_references),
        check("HTTPS:443 listener", listener).derived(
            Key::MasterListenerArn,
            s.listener_arn.as_deref(),
            listener_arn.as_deref(),
        ),
        check("certificate", certificate),
        check("hosted zone", zone).derived(Key::DynamicZoneName, given_zone, zone_name.as_deref()),
        check("environments file", file),
        check("target cluster", cluster),
        check("state table", state),
    ]
}

/// The reference service and its target group, with the load balancers that group serves.
async fn reference(
    cloud: &Cloud,
    s: &Settings,
) -> Result<(Outcome, Option<String>, Vec<String>), Error> {
    let arn = &s.reference.arn;
    let service = cloud
        .ecs
        .service(s.reference_cluster(), &s.reference.service)
        .await?
        .filter(ServiceInfo::is_active);
    let Some(service) = service else {
        let fix = format!("{arn} not found; set reference_service_arn to an ACTIVE service");
        return Ok((Err(fix), None, Vec::new()));
    };
    let Some(tg_arn) = service
        .load_balancers
        .iter()
        .find_map(|lb| lb.target_group_arn.clone())
    else {
        let fix = format!("{arn} has no target group; attach it to an ALB target group");
        return Ok((Err(fix), None, Vec::new()));
    };
    let tg_name = tg_arn.split('/').nth(1).unwrap_or_default();
    let load_balancers = cloud
        .elb
        .target_group(tg_name)
        .await?
        .map(|tg| tg.load_balancers)
        .unwrap_or_default();
    let mut found = format!("{arn} (target group {tg_arn})");
    for setting in &service.not_copied {
        found = format!("{found}; it uses {setting}");
    }
    Ok((Ok(found), Some(tg_arn), load_balancers))
}

/// Whether a certificate of the listener covers `*.ZONE`: every environment's host is one label
/// under the zone.
async fn certificate(
    cloud: &Cloud,
    listener: &Result<Option<Listener>, Error>,
    zone: &Result<Option<String>, Error>,
) -> Result<Outcome, Error> {
    let (listener, zone) = match (listener, zone) {
        (Ok(Some(listener)), Ok(Some(zone))) => (listener, zone),
        (Ok(None), _) => return Ok(Err("no HTTPS:443 listener to hold one".into())),
        (Err(_), _) => return Ok(Err("the listener could not be read".into())),
        (_, Ok(None)) => return Ok(Err("the hosted zone is missing, so no name to cover".into())),
        (_, Err(e)) => return Ok(Err(e.to_string())),
    };
    let wildcard = format!("*.{}", zone.to_ascii_lowercase());
    for arn in &listener.certificates {
        let domains = cloud.certificates.domains(arn).await?.unwrap_or_default();
        if domains.iter().any(|d| d.to_ascii_lowercase() == wildcard) {
            return Ok(Ok(format!("{arn} covers {wildcard}")));
        }
    }
    Ok(Err(format!(
        "no listener certificate covers {wildcard}; import or request one in ACM and add it to the listener"
    )))
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
