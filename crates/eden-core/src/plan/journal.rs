//! What a run has made so far, and how to undo each piece: a failed create calls
//! [`Journal::roll_back`] and leaves nothing behind.

use std::sync::Mutex;

use tracing::{info, warn};

use super::environments;
use crate::cloud::{AliasRecord, Cloud, EnvironmentItem};
use crate::error::Error;

/// One thing a run changed, with what it takes to change it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undo {
    TaskDefinition(String),
    TargetGroup(String),
    Rule(String),
    Records {
        zone_id: String,
        records: Vec<AliasRecord>,
    },
    Service {
        cluster: String,
        name: String,
    },
    /// A deploy: point the service back at the task definition it ran before.
    Redeploy {
        cluster: String,
        name: String,
        task_definition: String,
    },
    FileEntry {
        bucket: String,
        key: String,
        entry: String,
        update_key: String,
    },
    /// The state item written, and the one it replaced, if any.
    StateItem {
        table: String,
        item: EnvironmentItem,
        previous: Option<EnvironmentItem>,
    },
}

impl Undo {
    fn describe(&self) -> String {
        match self {
            Undo::TaskDefinition(arn) => format!("task definition {arn}"),
            Undo::TargetGroup(arn) => format!("target group {arn}"),
            Undo::Rule(arn) => format!("listener rule {arn}"),
            Undo::Records { records, .. } => format!(
                "record {}",
                records.first().map(|r| r.name.as_str()).unwrap_or_default()
            ),
            Undo::Service { name, .. } => format!("service {name}"),
            Undo::Redeploy {
                name,
                task_definition,
                ..
            } => {
                format!("deploy of service {name} (back to {task_definition})")
            }
            Undo::FileEntry {
                bucket, key, entry, ..
            } => {
                format!("entry {entry} in s3://{bucket}/{key}")
            }
            Undo::StateItem { table, item, .. } => {
                format!("state item {} in table {table}", item.name)
            }
        }
    }

    async fn run(&self, cloud: &Cloud) -> Result<(), Error> {
        match self {
            Undo::TaskDefinition(arn) => cloud.ecs.deregister_task_definition(arn).await,
            Undo::TargetGroup(arn) => cloud.elb.delete_target_group(arn).await,
            Undo::Rule(arn) => cloud.elb.delete_rule(arn).await,
            Undo::Records { zone_id, records } => {
                cloud.dns.delete(zone_id, records).await.map(drop)
            }
            Undo::Service { cluster, name } => cloud.ecs.delete_service(cluster, name).await,
            Undo::Redeploy {
                cluster,
                name,
                task_definition,
            } => cloud.ecs.deploy(cluster, name, task_definition).await,
            Undo::FileEntry {
                bucket,
                key,
                entry,
                update_key,
            } => environments::update(cloud, bucket, key, None, |file| {
                file.remove_endpoint(entry, update_key)
            })
            .await
            .map(|_| ()),
            Undo::StateItem {
                table,
                previous: Some(previous),
                ..
            } => cloud.table.put_environment(table, previous).await,
            Undo::StateItem {
                table,
                item,
                previous: None,
            } => {
                cloud
                    .table
                    .delete_environment(table, &item.profile, &item.name)
                    .await
            }
        }
    }
}

/// Shared by the steps of one run, which may finish in any order.
#[derive(Debug, Default)]
pub struct Journal {
    done: Mutex<Vec<Undo>>,
}

impl Journal {
    pub fn record(&self, undo: Undo) {
        self.lock().push(undo);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Undo>> {
        // A step that panicked cannot leave the list half-written: push is the only change.
        self.done
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Undoes everything in reverse order and returns `cause`, with whatever could not be undone.
    /// The state item goes last, and only when everything else went: it is what makes the
    /// environment's records eden's, so a record left without it could be removed by no delete.
    pub async fn roll_back(self, cloud: &Cloud, cause: Error, cleanup: String) -> Error {
        let done = std::mem::take(&mut *self.lock());
        if done.is_empty() {
            return cause;
        }
        warn!("{cause}");
        info!("Undoing what this run made");
        let (state, others): (Vec<Undo>, Vec<Undo>) = done
            .into_iter()
            .rev()
            .partition(|undo| matches!(undo, Undo::StateItem { .. }));
        let mut leftovers = Vec::new();
        for undo in others.iter().chain(&state) {
            if !leftovers.is_empty() && matches!(undo, Undo::StateItem { .. }) {
                info!(
                    "Kept {}, so that `{cleanup}` finds the rest",
                    undo.describe()
                );
                continue;
            }
            match undo.run(cloud).await {
                Ok(()) => info!("Undone: {}", undo.describe()),
                Err(e) => {
                    warn!("Could not undo {}: {e}", undo.describe());
                    leftovers.push(undo.describe());
                }
            }
        }
        Error::RolledBack {
            cause: Box::new(cause),
            leftovers,
            cleanup,
        }
    }
}
