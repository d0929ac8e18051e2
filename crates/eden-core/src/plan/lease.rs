//! One run at a time per environment: a lease item in the state table, taken with a conditional
//! write. It expires, and its holder renews it while working, so a killed run blocks others for
//! at most [`LEASE_SECONDS`].
//!
//! The lease is taken while the run reads what it needs, not before: the reads are trusted when
//! the lease was free since before they started (never held, or released more than
//! [`CLOCK_SKEW_MS`] before), and done again under the lease otherwise. The common case, no other
//! run of the same environment in the last seconds, saves a round trip.
//!
//! A delete removes the lease item with the state item in one write, and a run that made an
//! environment leaves its lease item stamped, so a take that finds no item after reads that
//! found the state item knows a delete ended while it read: it reads again. A failed first
//! create drops its lease item too; a create whose reads race the very end of its undoing can
//! still see a target group about to go, and then fails and undoes itself.
//!
//! A plan gives the lease up alongside its last call rather than one round trip after it. A
//! create's (see [`Leased::last_call`]) stays held, marked with what shows that the call landed
//! (a service running a task definition). The holder writes nothing more when the call
//! succeeds, and takes the lease back before undoing anything when it fails. Another run takes
//! a marked lease over once it sees the call landed, and then reads again; a later run on the
//! same machine knows from [`crate::hints`] that it landed, and takes it at once. A delete's
//! (see [`Leased::last_call_gone`]) goes with the state item while the target group is deleted,
//! and both are put back when that fails; a create whose reads come in that round trip can
//! find the target group about to go, as above.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::Stop;
use crate::cloud::{Cloud, EnvironmentItem, LeaseClaim, LeaseTake, PreviousHolder, Release};
use crate::error::Error;
use crate::hints::FinishedRun;
use crate::names::{EnvName, Names};
use crate::profile::Settings;

/// How long a lease outlives its holder's last renewal.
pub const LEASE_SECONDS: i64 = 15;
/// How long a command-line run waits for another run of the same environment by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(180);
const POLL: Duration = Duration::from_millis(500);

/// One environment's work under its lease.
pub struct Leased<'a> {
    name: &'a EnvName,
    table: &'a str,
    /// How long to wait while another run holds the lease.
    wait: Duration,
    /// The lease's key and owner once taken, and whether the last call gave it up.
    held: Mutex<Option<Held>>,
}

#[derive(Clone)]
struct Held {
    key: String,
    owner: String,
    given_up: bool,
}

/// What shows that a run's last call landed, written on its lease alongside the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishedWhen {
    /// The environment's service runs this task definition (it was created or deployed).
    ServiceRuns { task_definition: String },
}

impl FinishedWhen {
    fn encode(&self) -> String {
        match self {
            FinishedWhen::ServiceRuns { task_definition } => {
                format!("service-runs {task_definition}")
            }
        }
    }

    /// None for a mark this version does not know: it is waited for until it expires.
    fn decode(mark: &str) -> Option<Self> {
        let (kind, arg) = mark.split_once(' ')?;
        match kind {
            "service-runs" => Some(FinishedWhen::ServiceRuns {
                task_definition: arg.to_string(),
            }),
            _ => None,
        }
    }

    /// Whether it holds now.
    async fn holds(&self, cloud: &Cloud, s: &Settings, names: &Names) -> Result<bool, Error> {
        match self {
            FinishedWhen::ServiceRuns { task_definition } => {
                let service = cloud
                    .ecs
                    .service(&s.target_cluster, &names.resource)
                    .await?;
                Ok(service
                    .is_some_and(|svc| svc.is_active() && svc.task_definition == *task_definition))
            }
        }
    }
}

impl<'a> Leased<'a> {
    pub fn new(name: &'a EnvName, table: &'a str, wait: Duration) -> Self {
        Self {
            name,
            table,
            wait,
            held: Mutex::new(None),
        }
    }

    /// Makes the run's last call and gives the lease up alongside it, marked with `when`: the
    /// release's round trip after the call is saved. Every other write of the run must be done.
    /// When the call fails, the lease is taken back first, so that the run can undo what it
    /// made; when another run took it over meanwhile (the call landed after all, or the mark
    /// expired), nothing is undone.
    pub async fn last_call<T>(
        &self,
        cloud: &Cloud,
        s: &Settings,
        when: &FinishedWhen,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let Some(held) = self.held() else {
            return call.await;
        };
        let mark = when.encode();
        let release = Release::Finishing {
            when: &mark,
            expires_at: super::now() + LEASE_SECONDS,
        };
        let (called, marked) = futures::join!(
            call,
            cloud
                .table
                .release_lease(self.table, &held.key, &held.owner, release)
        );
        let failed = match (called, marked) {
            (Ok(value), Ok(true)) => {
                self.set_given_up();
                let run = FinishedRun {
                    owner: held.owner,
                    at_ms: super::now_ms(),
                };
                cloud.hints.learn_finished(&held.key, run);
                return Ok(value);
            }
            // Given up after the call instead, as without a mark (or taken over, if it expired).
            (Ok(value), marked) => {
                if let Err(e) = marked {
                    debug!("could not mark lease {} finishing: {e}", held.key);
                }
                return Ok(value);
            }
            (Err(failed), _) => failed,
        };
        let expires_at = super::now() + LEASE_SECONDS;
        let taken_back = cloud
            .table
            .renew_lease(self.table, &held.key, &held.owner, expires_at, true)
            .await;
        let why = match taken_back {
            Ok(true) => return Err(failed),
            Ok(false) => "another run holds it".to_string(),
            Err(e) => e.to_string(),
        };
        // Not ours to give up any more, or not known to be.
        self.set_given_up();
        Err(Error::Unfinished {
            cause: Box::new(failed),
            why,
            cleanup: super::cleanup_command(s, self.name.as_str()),
        })
    }

    /// Makes a delete's last call and gives the lease up alongside it, with the environment's
    /// state item: the release's round trip after the call is saved. Every other write of the
    /// run must be done. When the call fails, the lease is taken back and the state item put
    /// back as `listed` (none for an environment that was not listed), so that the environment
    /// stays listed for the next delete; when another run made either meanwhile, it is left to
    /// that run.
    pub async fn last_call_gone<T>(
        &self,
        cloud: &Cloud,
        s: &Settings,
        listed: Option<&EnvironmentItem>,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let Some(held) = self.held() else {
            return call.await;
        };
        let resource = s.names(self.name).resource;
        let release = Release::WithEnvironment {
            profile: &s.profile,
            name: &resource,
        };
        let (called, released) = futures::join!(
            call,
            cloud
                .table
                .release_lease(self.table, &held.key, &held.owner, release)
        );
        let failed = match (called, released) {
            (Ok(value), Ok(true)) => {
                self.set_given_up();
                return Ok(value);
            }
            // Taken over after it expired: the other run's now.
            (Ok(value), Ok(false)) => return Ok(value),
            // The environment is gone but still listed: the lease is freed alone, as after any
            // failure, so that the next delete finishes at once.
            (Ok(_), Err(unreleased)) => return Err(unreleased),
            (Err(failed), Ok(true)) => failed,
            // Still held (or lost when it expired): given up as after any failure.
            (Err(failed), _) => return Err(failed),
        };
        let claim = claim(&held.key, &held.owner, None);
        let why = match cloud.table.restore_lease(self.table, &claim, listed).await {
            Ok(true) => return Err(failed),
            Ok(false) => "another run made it again".to_string(),
            Err(e) => e.to_string(),
        };
        self.set_given_up();
        Err(Error::Unlisted {
            cause: Box::new(failed),
            why,
            cleanup: super::cleanup_command(s, self.name.as_str()),
        })
    }

    fn held(&self) -> Option<Held> {
        self.lock().clone()
    }

    fn set_given_up(&self) {
        if let Some(held) = self.lock().as_mut() {
            held.given_up = true;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Held>> {
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes the lease while `look` reads, then runs `work` on what it read, or on why it
    /// failed (read again under the lease when another run may have changed it meanwhile, or
    /// when `recorded` says the reads found the environment's state item but the lease had no
    /// item), and gives the lease up whatever the outcome, as `after` says of it. `work` gets a
    /// failed read too, so that what a look made can be undone under the lease.
    #[allow(clippy::too_many_arguments)]
    pub async fn run<W, T, FL, FW>(
        &self,
        cloud: &Cloud,
        s: &Settings,
        stop: &Stop,
        look: impl Fn(Names) -> FL,
        recorded: impl Fn(&W) -> bool,
        work: impl FnOnce(Result<W, Error>) -> FW,
        after: impl FnOnce(&Result<T, Error>) -> Afterwards,
    ) -> Result<T, Error>
    where
        FL: Future<Output = Result<W, Error>>,
        FW: Future<Output = Result<T, Error>>,
    {
        let names = s.names(self.name);
        let reads_started = super::now_ms();
        let (lease, looked) = futures::join!(
            Lease::take(cloud, s, self.table, &names, self.wait, stop),
            look(names.clone())
        );
        let (lease, previous, waited) = lease?;
        *self.lock() = Some(Held {
            key: lease.key.clone(),
            owner: lease.owner.clone(),
            given_up: false,
        });
        let result = async {
            let recorded = looked.as_ref().is_ok_and(&recorded);
            let fresh = reads_are_fresh(&previous, recorded, reads_started, &lease.owner);
            let looked = if !waited && fresh {
                looked
            } else {
                debug!("reading again under the lease: previous holder {previous:?}, state item read {recorded}");
                look(names).await
            };
            work(looked).await
        }
        .await;
        let after = after(&result);
        let given_up = self.held().is_some_and(|held| held.given_up);
        let released = if given_up {
            lease.renewal.abort();
            Ok(())
        } else {
            lease.release(after).await
        };
        let value = result?;
        released?;
        Ok(value)
    }
}

/// What a run leaves of its environment, which decides what becomes of the lease item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Afterwards {
    /// The environment is there: the item stays, stamped with the time of release.
    Stays,
    /// The run undid what it made, or stopped part-way: the item goes.
    Undone,
    /// The environment is gone: the item goes, and the state item with it in one write.
    Gone,
}

/// How far apart two machines' clocks may be: a release stamped on another machine less than
/// this before the reads started may have come after them. On the same machine, one clock.
pub const CLOCK_SKEW_MS: i64 = 5_000;

/// Whether reads made while taking the lease (as `me`) saw every change of the previous holder.
/// `recorded`: they found the environment's state item, which goes with the lease item.
fn reads_are_fresh(
    previous: &PreviousHolder,
    recorded: bool,
    reads_started_ms: i64,
    me: &str,
) -> bool {
    match previous {
        PreviousHolder::Nobody => !recorded,
        PreviousHolder::Released { at_ms, owner } => {
            let skew = if host_of(owner) == host_of(me) {
                0
            } else {
                CLOCK_SKEW_MS
            };
            at_ms + skew < reads_started_ms
        }
        // Mapped to a release by [`Lease::take`] once known to be done with.
        PreviousHolder::Expired | PreviousHolder::Same | PreviousHolder::Finishing { .. } => false,
    }
}

/// The machine part of an owner id.
fn host_of(owner: &str) -> &str {
    owner.rsplit_once('/').map_or("", |(host, _)| host)
}

struct Lease {
    cloud: Cloud,
    table: String,
    profile: String,
    resource: String,
    key: String,
    owner: String,
    renewal: JoinHandle<()>,
}

impl Lease {
    /// Takes the lease of `{profile}/{resource}`, waiting up to `wait` while another run holds
    /// it. A lease given up alongside a last call is taken over as soon as that call is known to
    /// have landed: from what this machine learned, or from AWS.
    async fn take(
        cloud: &Cloud,
        s: &Settings,
        table: &str,
        names: &Names,
        wait: Duration,
        stop: &Stop,
    ) -> Result<(Self, PreviousHolder, bool), Error> {
        let resource = &names.resource;
        let key = format!("{}/{resource}", s.profile);
        let owner = owner_id();
        let started = Instant::now();
        let mut waited = false;
        let mut finished = cloud.hints.finished(&key);
        let previous = loop {
            let claim = claim(&key, &owner, finished.as_ref());
            match cloud.table.take_lease(table, &claim).await? {
                LeaseTake::Taken(previous) => break done_with(previous, finished.as_ref()),
                LeaseTake::Held => {}
                LeaseTake::Finishing {
                    owner: holder,
                    when,
                } => {
                    let landed = match FinishedWhen::decode(&when) {
                        Some(when) => when.holds(cloud, s, names).await?,
                        None => false,
                    };
                    if landed {
                        debug!("lease {key} of {holder}: its last call landed, taking it over");
                        let at_ms = super::now_ms();
                        finished = Some(FinishedRun {
                            owner: holder,
                            at_ms,
                        });
                        continue;
                    }
                }
            }
            stop.check()?;
            if started.elapsed() >= wait {
                return Err(Error::Busy {
                    what: format!("environment {resource}"),
                    why: "another eden run is changing it".into(),
                });
            }
            if !waited {
                info!(
                    "Environment {resource} is being changed by another eden run, waiting for it"
                );
                waited = true;
            }
            tokio::time::sleep(POLL).await;
        };
        debug!("took lease {key} as {owner} after {previous:?}");
        let renewal = tokio::spawn(renew(
            cloud.clone(),
            table.to_string(),
            key.clone(),
            owner.clone(),
        ));
        let lease = Self {
            cloud: cloud.clone(),
            table: table.to_string(),
            profile: s.profile.clone(),
            resource: resource.clone(),
            key,
            owner,
            renewal,
        };
        Ok((lease, previous, waited))
    }

    /// Gives the lease up. A failure only delays the next run until the lease expires, except
    /// when the state item was to go with it: then the environment is gone but still listed,
    /// which the run reports, after giving the lease up alone so the next delete ends at once.
    async fn release(self, after: Afterwards) -> Result<(), Error> {
        self.renewal.abort();
        let release = match after {
            Afterwards::Stays => Release::Stamped(super::now_ms()),
            Afterwards::Undone => Release::Dropped,
            Afterwards::Gone => Release::WithEnvironment {
                profile: &self.profile,
                name: &self.resource,
            },
        };
        let table = &self.cloud.table;
        // A lease taken over after it expired is the other run's: nothing to give up.
        let Err(e) = table
            .release_lease(&self.table, &self.key, &self.owner, release)
            .await
        else {
            return Ok(());
        };
        let unreleased = |e: &Error| {
            warn!(
                "Could not release lease {}: {e}; it expires in {LEASE_SECONDS} s",
                self.key
            );
        };
        if after != Afterwards::Gone {
            unreleased(&e);
            return Ok(());
        }
        // The environment is gone but still listed: free the lease alone, so that the next
        // delete finishes at once, and report the state item.
        if let Err(again) = table
            .release_lease(&self.table, &self.key, &self.owner, Release::Dropped)
            .await
        {
            unreleased(&again);
        }
        Err(e)
    }
}

fn claim(key: &str, owner: &str, finished: Option<&FinishedRun>) -> LeaseClaim {
    let now = super::now();
    LeaseClaim {
        key: key.to_string(),
        owner: owner.to_string(),
        expires_at: now + LEASE_SECONDS,
        now,
        finished: finished.map(|run| run.owner.clone()),
    }
}

/// A previous holder that gave the lease up alongside its last call, as a release: when the
/// call was seen to land, or when its mark expired (its holder renews it while the call runs).
fn done_with(previous: PreviousHolder, finished: Option<&FinishedRun>) -> PreviousHolder {
    let PreviousHolder::Finishing { owner, expires_at } = previous else {
        return previous;
    };
    let at_ms = match finished {
        Some(run) if run.owner == owner => run.at_ms,
        _ => expires_at * 1000,
    };
    PreviousHolder::Released { at_ms, owner }
}

/// Renews the lease, and its finishing mark with it, at a third of its lifetime until the
/// holder releases it.
async fn renew(cloud: Cloud, table: String, key: String, owner: String) {
    let period = Duration::from_secs((LEASE_SECONDS / 3) as u64);
    loop {
        tokio::time::sleep(period).await;
        let expires_at = super::now() + LEASE_SECONDS;
        match cloud
            .table
            .renew_lease(&table, &key, &owner, expires_at, false)
            .await
        {
            Ok(true) => debug!("renewed lease {key}"),
            Ok(false) => warn!("Lost lease {key} to another eden run"),
            Err(e) => warn!("Could not renew lease {key}: {e}"),
        }
    }
}

/// Unique per run: the machine, the process id and a random part.
fn owner_id() -> String {
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let host = gethostname::gethostname();
    format!(
        "{}/{}-{random:016x}",
        host.to_string_lossy(),
        std::process::id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_trusted_only_after_a_release_well_before_them() {
        let started = 1_000_000;
        let released = |at_ms: i64, owner: &str| PreviousHolder::Released {
            at_ms,
            owner: owner.to_string(),
        };
        let me = owner_id();
        let elsewhere = "ci-runner-7/4242-00ff";
        assert!(reads_are_fresh(
            &PreviousHolder::Nobody,
            false,
            started,
            &me
        ));
        // No lease item, yet the state item was there: a delete removed both while reading.
        assert!(!reads_are_fresh(
            &PreviousHolder::Nobody,
            true,
            started,
            &me
        ));
        let long_ago = started - CLOCK_SKEW_MS - 1;
        assert!(reads_are_fresh(
            &released(long_ago, elsewhere),
            false,
            started,
            &me
        ));
        let just_now = started - 10;
        assert!(!reads_are_fresh(
            &released(just_now, elsewhere),
            false,
            started,
            &me
        ));
        // On this machine one clock tells: before the reads is enough.
        assert!(reads_are_fresh(
            &released(just_now, &owner_id()),
            false,
            started,
            &me
        ));
        assert!(!reads_are_fresh(
            &released(started + 1, &owner_id()),
            false,
            started,
            &me
        ));
        assert!(!reads_are_fresh(
            &PreviousHolder::Expired,
            false,
            started,
            &me
        ));
        assert!(!reads_are_fresh(&PreviousHolder::Same, false, started, &me));
    }

    #[test]
    fn a_finishing_mark_reads_back_as_written_and_an_unknown_one_as_nothing() {
        let when = FinishedWhen::ServiceRuns {
            task_definition: "arn:aws:ecs:us-east-1:123456789012:task-definition/dev-api-foo:3"
                .into(),
        };
        assert_eq!(FinishedWhen::decode(&when.encode()), Some(when));
        assert_eq!(FinishedWhen::decode("target-group-gone arn:x"), None);
        assert_eq!(FinishedWhen::decode("service-runs"), None);
    }

    #[test]
    fn a_finished_holder_counts_as_released_when_its_call_was_seen_to_land() {
        let finishing = || PreviousHolder::Finishing {
            owner: "ci-runner-7/4242-00ff".into(),
            expires_at: 2_000,
        };
        let seen = |owner: &str| FinishedRun {
            owner: owner.into(),
            at_ms: 1_500_000,
        };
        let released = |at_ms| PreviousHolder::Released {
            at_ms,
            owner: "ci-runner-7/4242-00ff".into(),
        };
        assert_eq!(
            done_with(finishing(), Some(&seen("ci-runner-7/4242-00ff"))),
            released(1_500_000)
        );
        // Another run's landing tells nothing of this one: only its mark's expiry does.
        assert_eq!(
            done_with(finishing(), Some(&seen("laptop/1-aa"))),
            released(2_000_000)
        );
        assert_eq!(done_with(finishing(), None), released(2_000_000));
        assert_eq!(done_with(PreviousHolder::Same, None), PreviousHolder::Same);
    }
}
