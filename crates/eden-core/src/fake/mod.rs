//! An in-memory AWS for the core's fast tests, as `object_store`'s `InMemory` is for its
//! crate: every trait of [`crate::cloud`] over one world, with a log of the calls (named as the
//! AWS calls the real adapters make), a latency per call and calls that can be made to fail.
//! On tokio's paused clock a run's virtual time is its depth: the number of call rounds on its
//! longest chain, times the latency.

mod cloud;
mod table;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

pub use cloud::FakeCloud;
pub use table::{FakeTable, LeaseRow};

use crate::cloud::Result;
use crate::error::{AwsFailure, Error};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The calls made to a fake, their latency, and the ones that fail.
#[derive(Debug, Default)]
pub struct Calls {
    names: Mutex<Vec<&'static str>>,
    latency: Mutex<Duration>,
    /// The calls whose latency differs from the rest's, by name.
    latency_of: Mutex<BTreeMap<&'static str, Duration>>,
    failing: Mutex<BTreeSet<&'static str>>,
}

impl Calls {
    /// One call: logged, then answered after the latency, or denied when it is to fail.
    pub async fn call(&self, name: &'static str) -> Result<()> {
        lock(&self.names).push(name);
        let latency = lock(&self.latency_of).get(name).copied();
        let latency = latency.unwrap_or(*lock(&self.latency));
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if lock(&self.failing).contains(name) {
            return Err(Error::aws(
                name,
                "the fake cloud",
                "AccessDenied: injected",
                AwsFailure::Denied,
            ));
        }
        Ok(())
    }

    /// The calls made so far, in order.
    pub fn names(&self) -> Vec<&'static str> {
        lock(&self.names).clone()
    }

    pub fn clear(&self) {
        lock(&self.names).clear();
    }

    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.latency) = latency;
    }

    /// From now on, every call of this name takes `latency`.
    pub fn set_latency_of(&self, name: &'static str, latency: Duration) {
        lock(&self.latency_of).insert(name, latency);
    }

    /// From now on, every call of this name is denied.
    pub fn fail(&self, name: &'static str) {
        lock(&self.failing).insert(name);
    }
}
