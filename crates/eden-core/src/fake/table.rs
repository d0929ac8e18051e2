//! An in-memory state table: lease and environment items under the same conditions eden asks
//! DynamoDB for, and renewals that can be made to fail. With tokio's paused clock, a lease's 15 s
//! pass in microseconds.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::cloud::{
    EnvironmentItem, Fence, LeaseClaim, LeaseItem, LeaseTake, PreviousHolder, Release, Result,
    StateTable,
};
use crate::error::{AwsFailure, Error};

use super::{lock, Calls};

/// A lease item as the fake keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    pub owner: Option<String>,
    pub version: String,
    pub left: Option<String>,
}

#[derive(Debug, Default)]
pub struct FakeTable {
    leases: Mutex<BTreeMap<String, LeaseRow>>,
    environments: Mutex<BTreeMap<(String, String), EnvironmentItem>>,
    /// Shared with the rest of a fake cloud, whose log, latency and faults it takes part in.
    pub log: Arc<Calls>,
    /// While set, every renewal fails as a call that did not get through.
    pub renewals_fail: AtomicBool,
}

impl FakeTable {
    /// A table whose calls go into `log`, with its latency and faults.
    pub fn logging_to(log: Arc<Calls>) -> Self {
        Self {
            log,
            ..Self::default()
        }
    }

    async fn log(&self, call: &'static str) -> Result<()> {
        self.log.call(call).await
    }

    /// The calls made so far, in order.
    pub fn calls(&self) -> Vec<&'static str> {
        self.log.names()
    }

    /// One environment's state item.
    pub fn item(&self, profile: &str, name: &str) -> Option<EnvironmentItem> {
        lock(&self.environments)
            .get(&(profile.to_string(), name.to_string()))
            .cloned()
    }

    /// Every lease item's key.
    pub fn lease_keys(&self) -> Vec<String> {
        lock(&self.leases).keys().cloned().collect()
    }

    pub fn lease(&self, key: &str) -> Option<LeaseRow> {
        lock(&self.leases).get(key).cloned()
    }

    /// Whether the fence's owner holds its lease.
    fn holds(&self, fence: &Fence) -> bool {
        let leases = lock(&self.leases);
        let row = leases.get(&fence.key);
        row.is_some_and(|row| row.owner.as_deref() == Some(fence.owner.as_str()))
    }

    /// Writes a lease item as another run would.
    pub fn put_lease(&self, key: &str, row: LeaseRow) {
        lock(&self.leases).insert(key.to_string(), row);
    }
}

#[async_trait]
impl StateTable for FakeTable {
    /// The table is in this process: its clock is this machine's.
    fn now(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    async fn take_lease(&self, _table: &str, claim: &LeaseClaim) -> Result<LeaseTake> {
        self.log("take_lease").await?;
        let mut leases = lock(&self.leases);
        let old = leases.get(&claim.key).cloned();
        if let Some(held) = old.as_ref().filter(|row| row.owner.is_some()) {
            if claim.takeover.as_deref() != Some(held.version.as_str()) {
                return Ok(LeaseTake::Held {
                    version: held.version.clone(),
                });
            }
        }
        let row = LeaseRow {
            owner: Some(claim.owner.clone()),
            version: claim.version.clone(),
            left: None,
        };
        leases.insert(claim.key.clone(), row);
        Ok(LeaseTake::Taken(match old {
            None => PreviousHolder::Nobody,
            Some(row) if row.owner.is_some() => PreviousHolder::Expired,
            Some(row) => PreviousHolder::Released { left: row.left },
        }))
    }

    async fn renew_lease(
        &self,
        table: &str,
        key: &str,
        owner: &str,
        version: &str,
    ) -> Result<bool> {
        self.log("renew_lease").await?;
        if self.renewals_fail.load(Ordering::SeqCst) {
            return Err(Error::aws(
                "renew lease in table",
                table,
                "timed out",
                AwsFailure::Other,
            ));
        }
        let mut leases = lock(&self.leases);
        match leases.get_mut(key) {
            Some(row) if row.owner.as_deref() == Some(owner) => {
                row.version = version.to_string();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn take_back_lease(
        &self,
        _table: &str,
        key: &str,
        owner: &str,
        released: &str,
        version: &str,
    ) -> Result<bool> {
        self.log("take_back_lease").await?;
        let mut leases = lock(&self.leases);
        match leases.get_mut(key) {
            Some(row) if row.owner.is_none() && row.version == released => {
                *row = LeaseRow {
                    owner: Some(owner.to_string()),
                    version: version.to_string(),
                    left: None,
                };
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn restore_lease(
        &self,
        _table: &str,
        claim: &LeaseClaim,
        item: Option<&EnvironmentItem>,
    ) -> Result<bool> {
        self.log("restore_lease").await?;
        let mut leases = lock(&self.leases);
        let mut environments = lock(&self.environments);
        let key = |i: &EnvironmentItem| (i.profile.clone(), i.name.clone());
        if leases.contains_key(&claim.key)
            || item.is_some_and(|i| environments.contains_key(&key(i)))
        {
            return Ok(false);
        }
        let row = LeaseRow {
            owner: Some(claim.owner.clone()),
            version: claim.version.clone(),
            left: None,
        };
        leases.insert(claim.key.clone(), row);
        if let Some(item) = item {
            environments.insert(key(item), item.clone());
        }
        Ok(true)
    }

    async fn release_lease(
        &self,
        _table: &str,
        key: &str,
        owner: &str,
        release: Release<'_>,
    ) -> Result<bool> {
        self.log("release_lease").await?;
        let mut leases = lock(&self.leases);
        if leases.get(key).and_then(|row| row.owner.as_deref()) != Some(owner) {
            return Ok(false);
        }
        match release {
            Release::Free { version, left } => {
                let row = LeaseRow {
                    owner: None,
                    version: version.to_string(),
                    left: left.map(str::to_string),
                };
                leases.insert(key.to_string(), row);
            }
            Release::Dropped => {
                leases.remove(key);
            }
            Release::WithEnvironment { profile, name } => {
                leases.remove(key);
                lock(&self.environments).remove(&(profile.to_string(), name.to_string()));
            }
        }
        Ok(true)
    }

    async fn leases(&self, _table: &str) -> Result<Vec<LeaseItem>> {
        self.log("leases").await?;
        Ok(lock(&self.leases)
            .iter()
            .map(|(key, row)| LeaseItem {
                key: key.clone(),
                owner: row.owner.clone(),
                version: row.version.clone(),
            })
            .collect())
    }

    async fn lease_held(&self, _table: &str, key: &str) -> Result<bool> {
        self.log("lease_held").await?;
        Ok(lock(&self.leases)
            .get(key)
            .is_some_and(|row| row.owner.is_some()))
    }

    async fn table_exists(&self, _table: &str) -> Result<bool> {
        Ok(true)
    }

    async fn ensure_table(&self, _table: &str) -> Result<bool> {
        Ok(false)
    }

    async fn put_environment(
        &self,
        _table: &str,
        item: &EnvironmentItem,
        fence: &Fence,
    ) -> Result<bool> {
        self.log("put_environment").await?;
        if !self.holds(fence) {
            return Ok(false);
        }
        let key = (item.profile.clone(), item.name.clone());
        lock(&self.environments).insert(key, item.clone());
        Ok(true)
    }

    async fn environment(
        &self,
        _table: &str,
        profile: &str,
        name: &str,
    ) -> Result<Option<EnvironmentItem>> {
        self.log("environment").await?;
        let key = (profile.to_string(), name.to_string());
        Ok(lock(&self.environments).get(&key).cloned())
    }

    async fn delete_environment(
        &self,
        _table: &str,
        profile: &str,
        name: &str,
        fence: &Fence,
    ) -> Result<bool> {
        self.log("delete_environment").await?;
        if !self.holds(fence) {
            return Ok(false);
        }
        lock(&self.environments).remove(&(profile.to_string(), name.to_string()));
        Ok(true)
    }

    async fn environments(
        &self,
        _table: &str,
        profile: Option<&str>,
    ) -> Result<Vec<EnvironmentItem>> {
        self.log("environments").await?;
        Ok(lock(&self.environments)
            .values()
            .filter(|item| profile.is_none_or(|p| p == item.profile))
            .cloned()
            .collect())
    }

    // Profiles are not the lease's business: none here.
    async fn put_profile(&self, _table: &str, _name: &str, _json: &str) -> Result<()> {
        Ok(())
    }

    async fn profile(&self, _table: &str, _name: &str) -> Result<Option<String>> {
        Ok(None)
    }

    async fn delete_profile(&self, _table: &str, _name: &str) -> Result<bool> {
        Ok(false)
    }

    async fn profiles(&self, _table: &str) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
}
