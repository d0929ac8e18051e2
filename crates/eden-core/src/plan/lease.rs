//! One run at a time per environment: a lease item in the state table, taken with a conditional
//! write. It expires, and its holder renews it while working, so a killed run blocks others for
//! at most [`LEASE_SECONDS`].
//!
//! The lease is taken while the run reads what it needs, not before: the reads are trusted when
//! the lease was free since before they started (never held, or released more than
//! [`CLOCK_SKEW`] before), and done again under the lease otherwise. The common case, no other
//! run of the same environment in the last seconds, saves a round trip.
//!
//! A delete removes the lease item with the state item in one write, and a run that made an
//! environment leaves its lease item stamped, so a take that finds no item after reads that
//! found the state item knows a delete ended while it read: it reads again. A failed first
//! create drops its lease item too; a create whose reads race the very end of its undoing can
//! still see a target group about to go, and then fails and undoes itself.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::Stop;
use crate::cloud::{Cloud, LeaseClaim, LeaseTake, PreviousHolder, Release};
use crate::error::Error;
use crate::names::{EnvName, Names};
use crate::profile::Settings;

/// How long a lease outlives its holder's last renewal.
pub const LEASE_SECONDS: i64 = 15;
/// How long a command-line run waits for another run of the same environment by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(180);
const POLL: Duration = Duration::from_millis(500);

/// One environment's work under its lease.
pub struct Leased<'a> {
    pub name: &'a EnvName,
    pub table: &'a str,
    /// How long to wait while another run holds the lease.
    pub wait: Duration,
}

impl Leased<'_> {
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
            Lease::take(
                cloud,
                self.table,
                &s.profile,
                &names.resource,
                self.wait,
                stop
            ),
            look(names.clone())
        );
        let (lease, previous, waited) = lease?;
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
        let released = lease.release(after(&result)).await;
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
        PreviousHolder::Expired | PreviousHolder::Same => false,
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
    /// it.
    async fn take(
        cloud: &Cloud,
        table: &str,
        profile: &str,
        resource: &str,
        wait: Duration,
        stop: &Stop,
    ) -> Result<(Self, PreviousHolder, bool), Error> {
        let key = format!("{profile}/{resource}");
        let owner = owner_id();
        let started = Instant::now();
        let mut waited = false;
        let previous = loop {
            if let LeaseTake::Taken(previous) =
                cloud.table.take_lease(table, &claim(&key, &owner)).await?
            {
                break previous;
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
            profile: profile.to_string(),
            resource: resource.to_string(),
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

fn claim(key: &str, owner: &str) -> LeaseClaim {
    let now = super::now();
    LeaseClaim {
        key: key.to_string(),
        owner: owner.to_string(),
        expires_at: now + LEASE_SECONDS,
        now,
    }
}

/// Renews the lease at a third of its lifetime until the holder releases it.
async fn renew(cloud: Cloud, table: String, key: String, owner: String) {
    let period = Duration::from_secs((LEASE_SECONDS / 3) as u64);
    loop {
        tokio::time::sleep(period).await;
        match cloud.table.take_lease(&table, &claim(&key, &owner)).await {
            Ok(LeaseTake::Taken(_)) => debug!("renewed lease {key}"),
            Ok(LeaseTake::Held) => warn!("Lost lease {key} to another eden run"),
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
}
