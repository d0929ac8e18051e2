//! One run at a time per environment: a lease item in the state table, taken with a conditional
//! write. It expires, and its holder renews it while working, so a killed run blocks others for
//! at most [`LEASE_SECONDS`].

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::Stop;
use crate::cloud::{Cloud, LeaseClaim};
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
    /// Takes the lease, runs `work` on the environment's names, and gives the lease up whatever
    /// the outcome.
    pub async fn run<T, Fut>(
        &self,
        cloud: &Cloud,
        s: &Settings,
        stop: &Stop,
        work: impl FnOnce(Names) -> Fut,
    ) -> Result<T, Error>
    where
        Fut: Future<Output = Result<T, Error>>,
    {
        let names = s.names(self.name);
        let lease = Lease::take(
            cloud,
            self.table,
            &s.profile,
            &names.resource,
            self.wait,
            stop,
        )
        .await?;
        let result = work(names).await;
        lease.release().await;
        result
    }
}

struct Lease {
    cloud: Cloud,
    table: String,
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
    ) -> Result<Self, Error> {
        let key = format!("{profile}/{resource}");
        let owner = owner_id();
        let started = Instant::now();
        let mut announced = false;
        while !cloud.table.take_lease(table, &claim(&key, &owner)).await? {
            stop.check()?;
            if started.elapsed() >= wait {
                return Err(Error::Busy {
                    what: format!("environment {resource}"),
                    why: "another eden run is changing it".into(),
                });
            }
            if !announced {
                info!(
                    "Environment {resource} is being changed by another eden run, waiting for it"
                );
                announced = true;
            }
            tokio::time::sleep(POLL).await;
        }
        debug!("took lease {key} as {owner}");
        let renewal = tokio::spawn(renew(
            cloud.clone(),
            table.to_string(),
            key.clone(),
            owner.clone(),
        ));
        Ok(Self {
            cloud: cloud.clone(),
            table: table.to_string(),
            key,
            owner,
            renewal,
        })
    }

    /// Gives the lease up; a failure only delays the next run until the lease expires.
    async fn release(self) {
        self.renewal.abort();
        if let Err(e) = self
            .cloud
            .table
            .release_lease(&self.table, &self.key, &self.owner)
            .await
        {
            warn!(
                "Could not release lease {}: {e}; it expires in {LEASE_SECONDS} s",
                self.key
            );
        }
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
            Ok(true) => debug!("renewed lease {key}"),
            Ok(false) => warn!("Lost lease {key} to another eden run"),
            Err(e) => warn!("Could not renew lease {key}: {e}"),
        }
    }
}

/// Unique per run: the process id and a random part.
fn owner_id() -> String {
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{}-{random:016x}", std::process::id())
}
