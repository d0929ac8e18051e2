//! `eden gc`: delete environments whose expiry has passed, and with `--orphans` the resources
//! eden tagged that belong to no environment in the state table (left by a crash, or by a table
//! that was lost), and lease items that hold nothing (left by a run killed before it made
//! anything). Each deletion is the delete plan, under the environment's lease, after
//! checking again that the environment is still expired or still unrecorded: a deploy or a
//! create that got there first wins.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use tracing::{debug, info, warn};

use super::delete::{removal, remove};
use super::lease::{Leased, Left};
use super::Stop;
use crate::cloud::{Cloud, EnvironmentItem};
use crate::error::Error;
use crate::names::EnvName;
use crate::ownership;
use crate::profile::Settings;

/// How many environments gc deletes at once: enough to sweep a busy account in seconds, few
/// enough to stay clear of Route 53's five changes a second.
const AT_ONCE: usize = 4;

/// Why gc removes an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    Expired,
    Orphan,
    /// Only a lease item is left: its run stopped before it made anything, or the environment
    /// went without eden.
    Lease,
}

/// One environment gc found, and what it removed of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Swept {
    pub profile: String,
    /// The resource name.
    pub name: String,
    pub reason: Reason,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// What the delete plan removes of it (on a dry run, what it would remove), or for a
    /// lease item, the item.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub found: Vec<String>,
    /// What was deleted; empty on a dry run, or when a run in between kept it.
    pub removed: Vec<String>,
    /// What has the environment's names but is not eden's, and was left, each with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left: Vec<String>,
    /// Why it was left after all (renewed by a deploy, recorded by a create...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<String>,
}

/// Where gc finds each profile's settings: the config file's or the remote ones.
#[async_trait::async_trait]
pub trait ProfileSource: Send {
    async fn settings(&mut self, profile: &str) -> Result<Settings, Error>;
    /// Every profile gc looks for orphans in, when no profile is named.
    async fn all(&mut self) -> Result<Vec<String>, Error>;
}

#[derive(Debug, Clone)]
pub struct GcRequest {
    /// Only this profile's environments; every profile's when None.
    pub profile: Option<String>,
    pub orphans: bool,
    pub dry_run: bool,
    pub table: String,
    /// How long to wait while another run holds an environment.
    pub wait: std::time::Duration,
}

/// Each profile's settings, loaded once however many environments it has. A profile that
/// cannot be loaded (a corrupt remote one, say) or is of another region is skipped, and named,
/// once.
struct Loaded<'a> {
    source: &'a mut dyn ProfileSource,
    /// The region the calls go to: a profile of another region is skipped.
    region: &'a str,
    loaded: BTreeMap<String, Option<Settings>>,
    skipped: Vec<Skipped>,
}

impl Loaded<'_> {
    async fn settings(&mut self, profile: &str) -> Option<Settings> {
        if let Some(s) = self.loaded.get(profile) {
            return s.clone();
        }
        let loaded = self.source.settings(profile).await;
        let s = match loaded.and_then(|s| s.check_region(self.region).map(|()| s)) {
            Ok(s) => Some(s),
            Err(e) => {
                warn!("Skipping profile {profile}: {e}");
                self.skipped.push(Skipped {
                    profile: profile.to_string(),
                    why: e.to_string(),
                });
                None
            }
        };
        self.loaded.insert(profile.to_string(), s.clone());
        s
    }
}

/// A profile gc could not look into, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub profile: String,
    pub why: String,
}

/// What gc found and removed, and what it could not.
#[derive(Debug)]
pub struct GcReport {
    pub swept: Vec<Swept>,
    /// Profiles whose settings could not be loaded: the others are swept all the same.
    pub skipped: Vec<Skipped>,
    pub failures: Vec<Error>,
}

/// Finds expired environments (and with `orphans`, orphaned ones) and deletes them, unless a
/// dry run.
pub async fn collect(
    cloud: &Cloud,
    req: &GcRequest,
    profiles: &mut dyn ProfileSource,
    stop: &Stop,
) -> Result<GcReport, Error> {
    let table = &req.table;
    if let Some(profile) = &req.profile {
        crate::profile::check_name(profile)?;
    }
    let mut profiles = Loaded {
        source: profiles,
        region: &cloud.region,
        loaded: BTreeMap::new(),
        skipped: Vec::new(),
    };
    // Read once for the expired environments and for the lease items that hold nothing.
    let recorded = cloud
        .table
        .environments(table, req.profile.as_deref())
        .await?;
    let mut found: Vec<(Settings, Swept)> = Vec::new();
    for item in expired(&recorded, cloud.table.now()) {
        if let Some(s) = profiles.settings(&item.profile).await {
            let mut expired = Swept::new(&item.profile, &item.name, Reason::Expired);
            expired.expires_at = item.expires_at;
            found.push((s, expired));
        }
    }
    if req.orphans {
        let names = match &req.profile {
            Some(p) => vec![p.clone()],
            None => profiles.source.all().await?,
        };
        for name in names {
            let Some(s) = profiles.settings(&name).await else {
                continue;
            };
            for orphan in orphans(cloud, &s, table).await? {
                found.push((s.clone(), orphan));
            }
        }
        // An orphan's lease item goes with it, by the delete plan; a lease item alone goes
        // the same way, through a delete plan that finds nothing else.
        for lease in stale_leases(cloud, table, req.profile.as_deref(), &recorded).await? {
            let known = found
                .iter()
                .any(|(_, f)| (&f.profile, &f.name) == (&lease.profile, &lease.name));
            if known {
                continue;
            }
            if let Some(s) = profiles.settings(&lease.profile).await {
                found.push((s, lease));
            }
        }
    }
    let mut report = GcReport {
        swept: Vec::new(),
        skipped: profiles.skipped,
        failures: Vec::new(),
    };
    if req.dry_run {
        // What a real run would remove of each, as its delete plan decides now.
        for (s, mut swept) in found {
            if swept.reason == Reason::Expired {
                match planned(cloud, &s, &swept.name, table).await {
                    Ok(found) => swept.found = found,
                    Err(e) => {
                        report.failures.push(e);
                        continue;
                    }
                }
            }
            report.swept.push(swept);
        }
        return Ok(report);
    }
    for outcome in sweep(cloud, found, table, req.wait, stop).await {
        match outcome {
            Ok(swept) => report.swept.push(swept),
            Err(e) => report.failures.push(e),
        }
    }
    report
        .swept
        .sort_by(|a, b| (&a.profile, &a.name).cmp(&(&b.profile, &b.name)));
    Ok(report)
}

/// The environments among those recorded that expired by `now`, in order.
fn expired(recorded: &[EnvironmentItem], now: i64) -> Vec<&EnvironmentItem> {
    let mut items: Vec<_> = recorded.iter().filter(|i| i.is_expired(now)).collect();
    items.sort_by(|a, b| (&a.profile, &a.name).cmp(&(&b.profile, &b.name)));
    items
}

/// The orphans of one profile: environments with no state item whose resources tagged as
/// theirs are there. Listener rules are found on the shared listener, as the tagging API does
/// not list them. Each orphan lists what the delete plan would remove of it: only what is
/// tagged as its own, as it has no state item, and never a leftover the tagging API still lists
/// (an INACTIVE task definition, a deleted service).
async fn orphans(cloud: &Cloud, s: &Settings, table: &str) -> Result<Vec<Swept>, Error> {
    let ours = vec![
        (ownership::MANAGED_BY.to_string(), "eden".to_string()),
        (ownership::PROFILE.to_string(), s.profile.clone()),
    ];
    let rules = async {
        let (_, rules) = super::listener_rules(cloud, s).await?;
        let arns: Vec<String> = rules.iter().map(|r| r.arn.clone()).collect();
        cloud.elb.tags(&arns).await
    };
    let (tagged, rules, recorded) = futures::try_join!(
        cloud.tags.tagged(&ours),
        rules,
        cloud.table.environments(table, Some(&s.profile)),
    )?;
    let rules = rules
        .into_iter()
        .filter(|(_, tags)| ours.iter().all(|wanted| tags.contains(wanted)))
        .map(|(_, tags)| tags);
    let mut candidates = BTreeSet::new();
    for tags in tagged.into_iter().map(|r| r.tags).chain(rules) {
        let name = tags.iter().find(|(k, _)| k == ownership::NAME);
        if let Some(env) = name.and_then(|(_, n)| EnvName::parse(n).ok()) {
            let resource = s.names(&env).resource;
            if !recorded.iter().any(|item| item.name == resource) {
                candidates.insert(resource);
            }
        }
    }
    let planned = futures::stream::iter(candidates)
        .map(|name| async move {
            let found = planned(cloud, s, &name, table).await?;
            Ok::<_, Error>((name, found))
        })
        .buffer_unordered(AT_ONCE)
        .collect::<Vec<_>>()
        .await;
    let mut orphans = Vec::new();
    for outcome in planned {
        let (name, found) = outcome?;
        if found.is_empty() {
            debug!("{name}: nothing tagged as its own is left");
            continue;
        }
        orphans.push(Swept {
            found,
            ..Swept::new(&s.profile, &name, Reason::Orphan)
        });
    }
    Ok(orphans)
}

/// What the delete plan would remove of the environment named `resource` now.
async fn planned(
    cloud: &Cloud,
    s: &Settings,
    resource: &str,
    table: &str,
) -> Result<Vec<String>, Error> {
    let env = env_of(s, resource)?;
    Ok(removal(cloud, s, &env, table).await?.describe(s))
}

/// The environment whose resources are named `resource` under this profile.
fn env_of(s: &Settings, resource: &str) -> Result<EnvName, Error> {
    s.env_of(resource).ok_or_else(|| Error::InvalidProfile {
        profile: s.profile.clone(),
        problem: format!(
            "environment {resource} does not start with name_prefix {:?}",
            s.name_prefix
        ),
    })
}

/// Lease items with no environment item among `recorded`, in one profile or every profile: left
/// by a run that stopped, or by one that failed without knowing whether there was an
/// environment. A held one is swept only once its holder is seen to have stopped renewing it.
async fn stale_leases(
    cloud: &Cloud,
    table: &str,
    profile: Option<&str>,
    recorded: &[EnvironmentItem],
) -> Result<Vec<Swept>, Error> {
    let leases = cloud.table.leases(table).await?;
    Ok(leases
        .into_iter()
        .filter_map(|lease| {
            let (owner_profile, name) = lease.key.split_once('/')?;
            let recorded = recorded
                .iter()
                .any(|item| (item.profile.as_str(), item.name.as_str()) == (owner_profile, name));
            if recorded || profile.is_some_and(|p| p != owner_profile) {
                return None;
            }
            let held = if lease.owner.is_some() { " (held)" } else { "" };
            Some(Swept {
                found: vec![format!("lease item {}{held}", lease.key)],
                ..Swept::new(owner_profile, name, Reason::Lease)
            })
        })
        .collect())
}

/// Deletes what `expired` or `orphans` found, a few environments at once, each only if it is
/// still expired or unrecorded once its lease is held.
async fn sweep(
    cloud: &Cloud,
    found: Vec<(Settings, Swept)>,
    table: &str,
    wait: std::time::Duration,
    stop: &Stop,
) -> Vec<Result<Swept, Error>> {
    futures::stream::iter(found)
        .map(|(s, swept)| async move { sweep_one(cloud, &s, swept, table, wait, stop).await })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await
}

async fn sweep_one(
    cloud: &Cloud,
    s: &Settings,
    mut swept: Swept,
    table: &str,
    wait: std::time::Duration,
    stop: &Stop,
) -> Result<Swept, Error> {
    let env = &env_of(s, &swept.name)?;
    let reason = swept.reason;
    // A lease item alone is not worth waiting for: one seen renewed is kept, for its run.
    let wait = match reason {
        Reason::Lease => std::time::Duration::ZERO,
        _ => wait,
    };
    let lease = &Leased::new(&cloud.table, env, table, wait);
    // gc reads the state item under the lease, so that a deploy or create that got there
    // first wins; the environment's resources are read after it.
    let outcome = lease
        .run(
            s,
            stop,
            |names| async move { Ok(names) },
            |_| Left::default(),
            |names, _| async move {
                let names = names?;
                let item = cloud
                    .table
                    .environment(table, &s.profile, &names.resource)
                    .await?;
                let kept = match (reason, &item) {
                    (Reason::Expired, Some(item)) if item.is_expired(cloud.table.now()) => None,
                    (Reason::Expired, Some(_)) => Some("its expiry was extended"),
                    (Reason::Expired, None) => Some("it was deleted meanwhile"),
                    (Reason::Orphan | Reason::Lease, None) => None,
                    (Reason::Orphan | Reason::Lease, Some(_)) => {
                        Some("a create recorded it meanwhile")
                    }
                };
                if let Some(why) = kept {
                    return Ok(Err(why));
                }
                let removal = removal(cloud, s, env, table).await?;
                remove(cloud, s, lease, removal, item.as_ref(), stop)
                    .await
                    .map(Ok)
            },
        )
        .await;
    let outcome = match outcome {
        Err(Error::Busy { .. }) if reason == Reason::Lease => Err("another eden run holds it"),
        outcome => outcome?,
    };
    match outcome {
        Ok(deleted) => {
            swept.removed = deleted.removed;
            swept.left = deleted.kept;
        }
        Err(why) => {
            info!("Kept environment {}: {why}", swept.name);
            swept.kept = Some(why.to_string());
        }
    }
    Ok(swept)
}

impl Swept {
    fn new(profile: &str, name: &str, reason: Reason) -> Self {
        Swept {
            profile: profile.to_string(),
            name: name.to_string(),
            reason,
            expires_at: None,
            found: Vec::new(),
            removed: Vec::new(),
            left: Vec::new(),
            kept: None,
        }
    }
}
