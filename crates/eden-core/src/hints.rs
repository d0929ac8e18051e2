//! What earlier runs learned of the world, so that a run can make at once the calls it would
//! otherwise make one after another: a hosted zone's name (needed before its records can be
//! looked up), the shared ALB's HTTPS listener (before its rules), the task definition and
//! target group of a reference service (before they are read), and which environments this
//! machine made.
//!
//! A zone's name never changes, so it is used as known. The others change, rarely: a plan
//! reads them as before and, alongside, what they lead to through the hint, and keeps the
//! second answer only when the first agrees with the hint. A stale hint costs the round trips it
//! meant to save.
//!
//! The command line keeps hints in a file between runs, into which each process merges what it
//! learned, so that runs side by side on one machine keep each other's; the HTTP API and Lambda
//! keep them in memory for the life of the process.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

/// What a reference service runs and where its load balancer entry sends traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceHint {
    pub task_definition: String,
    pub target_group: String,
    pub container: String,
    pub container_port: i32,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Known {
    /// Hosted zone id -> zone name.
    #[serde(default)]
    zones: BTreeMap<String, String>,
    /// ALB ARN -> its HTTPS:443 listener's ARN.
    #[serde(default)]
    listeners: BTreeMap<String, String>,
    /// Reference service ARN -> what it runs.
    #[serde(default)]
    references: BTreeMap<String, ReferenceHint>,
    /// `profile/resource` of the environments made here and not deleted since.
    #[serde(default)]
    environments: BTreeSet<String>,
    /// Lease key -> the run here that last gave that lease up alongside its last call, and
    /// saw the call land.
    #[serde(default)]
    finished: BTreeMap<String, FinishedRun>,
}

/// A run whose last call landed, so that its finishing mark on the lease is known to be done
/// with (see [`crate::plan`]'s lease).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishedRun {
    pub owner: String,
    /// When the call was seen to land, in epoch milliseconds.
    pub at_ms: i64,
}

/// How long a finished run is worth remembering: its mark expires well before.
const FINISHED_KEPT_MS: i64 = 60_000;

impl Known {
    /// Takes in what another process learned.
    fn merge(&mut self, learned: Learned) {
        let Learned { known, gone } = learned;
        self.zones.extend(known.zones);
        self.listeners.extend(known.listeners);
        self.references.extend(known.references);
        self.environments.extend(known.environments);
        for environment in &gone {
            self.environments.remove(environment);
        }
        self.finished.extend(known.finished);
        self.forget_long_finished();
    }

    /// Forgets the finished runs long before the latest, whose marks have long expired.
    fn forget_long_finished(&mut self) {
        let Some(latest) = self.finished.values().map(|run| run.at_ms).max() else {
            return;
        };
        self.finished
            .retain(|_, run| run.at_ms > latest - FINISHED_KEPT_MS);
    }
}

/// The hints saved in `path`; none when the file is missing or unreadable, as it is only a cache.
fn read(path: &Path) -> Known {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// What the runs of one process learned since the file was last saved.
#[derive(Debug, Default)]
struct Learned {
    known: Known,
    /// `profile/resource` of the environments deleted.
    gone: BTreeSet<String>,
}

/// Hints shared by every run of one process.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    known: Arc<Mutex<Known>>,
    /// What the file does not hold yet, kept apart so that saving merges it into the file as it
    /// is then, which other processes may have saved meanwhile.
    learned: Arc<Mutex<Option<Learned>>>,
}

impl Hints {
    /// The hints saved in `path`; none when the file is missing or unreadable, as it is only a
    /// cache.
    pub fn load(path: &Path) -> Self {
        Self {
            known: Arc::new(Mutex::new(read(path))),
            learned: Arc::default(),
        }
    }

    /// Merges what the runs learned into the hints in `path`, when they learned something new.
    /// The file is replaced in one rename, so concurrent runs never read half of one.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let Some(learned) = self.learned().take() else {
            return Ok(());
        };
        let mut saved = read(path);
        saved.merge(learned);
        let json = serde_json::to_vec_pretty(&saved).map_err(std::io::Error::other)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let partial = path.with_extension(format!("{}.partial", std::process::id()));
        std::fs::write(&partial, json)?;
        std::fs::rename(&partial, path)
    }

    pub fn zone_name(&self, zone_id: &str) -> Option<String> {
        self.lock().zones.get(zone_id).cloned()
    }

    pub fn learn_zone_name(&self, zone_id: &str, name: &str) {
        self.learn(|known| {
            known.zones.insert(zone_id.into(), name.into()).as_deref() != Some(name)
        });
    }

    pub fn listener(&self, alb: &str) -> Option<String> {
        self.lock().listeners.get(alb).cloned()
    }

    pub fn learn_listener(&self, alb: &str, listener: &str) {
        self.learn(|known| {
            known
                .listeners
                .insert(alb.into(), listener.into())
                .as_deref()
                != Some(listener)
        });
    }

    pub fn reference(&self, service: &str) -> Option<ReferenceHint> {
        self.lock().references.get(service).cloned()
    }

    pub fn learn_reference(&self, service: &str, hint: &ReferenceHint) {
        self.learn(|known| {
            known
                .references
                .insert(service.into(), hint.clone())
                .as_ref()
                != Some(hint)
        });
    }

    pub fn environment_exists(&self, profile: &str, resource: &str) -> bool {
        self.lock()
            .environments
            .contains(&format!("{profile}/{resource}"))
    }

    pub fn learn_environment(&self, profile: &str, resource: &str, exists: bool) {
        let key = format!("{profile}/{resource}");
        let mut known = self.lock();
        let changed = if exists {
            known.environments.insert(key.clone())
        } else {
            known.environments.remove(&key)
        };
        drop(known);
        if changed {
            let mut learned = self.learned();
            let learned = learned.get_or_insert_with(Learned::default);
            if exists {
                learned.gone.remove(&key);
                learned.known.environments.insert(key);
            } else {
                learned.known.environments.remove(&key);
                learned.gone.insert(key);
            }
        }
    }

    pub fn finished(&self, lease: &str) -> Option<FinishedRun> {
        self.lock().finished.get(lease).cloned()
    }

    /// Remembers a finished run, and forgets those whose marks have long expired.
    pub fn learn_finished(&self, lease: &str, run: FinishedRun) {
        self.learn(|known| {
            known.finished.insert(lease.into(), run.clone());
            known.forget_long_finished();
            true
        });
    }

    /// Applies `change` to what is known and, when it changed anything, to what was learned.
    fn learn(&self, change: impl Fn(&mut Known) -> bool) {
        if change(&mut self.lock()) {
            change(&mut self.learned().get_or_insert_with(Learned::default).known);
        }
    }

    fn learned(&self) -> MutexGuard<'_, Option<Learned>> {
        self.learned
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock(&self) -> MutexGuard<'_, Known> {
        // A panic while holding the lock cannot leave a map half-written: use it as it is.
        self.known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(revision: u32) -> ReferenceHint {
        ReferenceHint {
            task_definition: format!("arn:aws:ecs:us-east-1:1:task-definition/api:{revision}"),
            target_group: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/api/1".into(),
            container: "api".into(),
            container_port: 8080,
        }
    }

    #[test]
    fn saved_hints_load_again_and_an_unchanged_set_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache").join("hints.json");
        let hints = Hints::load(&path);
        assert_eq!(hints.zone_name("Z1"), None);
        hints.learn_zone_name("Z1", "dev.example.com");
        hints.learn_listener("alb", "listener");
        hints.learn_reference("svc", &reference(3));
        hints.learn_environment("api", "dev-api-foo", true);
        hints.learn_environment("api", "dev-api-bar", true);
        hints.learn_environment("api", "dev-api-bar", false);
        let run = |owner: &str, at_ms| FinishedRun {
            owner: owner.into(),
            at_ms,
        };
        hints.learn_finished("api/dev-api-old", run("host/1-a", 1_000));
        hints.learn_finished("api/dev-api-foo", run("host/2-b", 1_000 + FINISHED_KEPT_MS));
        hints.save(&path).unwrap();

        let loaded = Hints::load(&path);
        assert_eq!(loaded.zone_name("Z1").as_deref(), Some("dev.example.com"));
        assert_eq!(loaded.listener("alb").as_deref(), Some("listener"));
        assert_eq!(loaded.reference("svc"), Some(reference(3)));
        assert!(loaded.environment_exists("api", "dev-api-foo"));
        assert!(!loaded.environment_exists("api", "dev-api-bar"));
        assert!(!loaded.environment_exists("admin", "dev-api-foo"));
        let foo = loaded.finished("api/dev-api-foo");
        assert_eq!(foo, Some(run("host/2-b", 1_000 + FINISHED_KEPT_MS)));
        // Long expired when the later run finished: forgotten.
        assert_eq!(loaded.finished("api/dev-api-old"), None);

        // Learning what is known already leaves the file alone.
        std::fs::remove_file(&path).unwrap();
        loaded.learn_reference("svc", &reference(3));
        loaded.save(&path).unwrap();
        assert!(!path.exists());
        loaded.learn_reference("svc", &reference(4));
        loaded.save(&path).unwrap();
        assert_eq!(Hints::load(&path).reference("svc"), Some(reference(4)));
    }

    #[test]
    fn processes_side_by_side_keep_what_each_other_learned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hints.json");
        let earlier = Hints::load(&path);
        earlier.learn_environment("api", "dev-api-old", true);
        earlier.learn_listener("alb", "listener");
        earlier.save(&path).unwrap();

        // Two processes start from that file; each learns something and saves, in turn.
        let first = Hints::load(&path);
        let second = Hints::load(&path);
        first.learn_zone_name("Z1", "dev.example.com");
        first.learn_environment("api", "dev-api-foo", true);
        let run = FinishedRun {
            owner: "host/1-a".into(),
            at_ms: 1_000,
        };
        first.learn_finished("api/dev-api-foo", run.clone());
        second.learn_environment("api", "dev-api-bar", true);
        second.learn_environment("api", "dev-api-old", false);
        first.save(&path).unwrap();
        second.save(&path).unwrap();

        let saved = Hints::load(&path);
        assert_eq!(saved.zone_name("Z1").as_deref(), Some("dev.example.com"));
        assert_eq!(saved.listener("alb").as_deref(), Some("listener"));
        assert!(saved.environment_exists("api", "dev-api-foo"));
        assert!(saved.environment_exists("api", "dev-api-bar"));
        assert!(!saved.environment_exists("api", "dev-api-old"));
        assert_eq!(saved.finished("api/dev-api-foo"), Some(run));
    }

    #[test]
    fn a_missing_or_damaged_file_is_no_hints() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hints.json");
        assert_eq!(Hints::load(&path).listener("alb"), None);
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(Hints::load(&path).listener("alb"), None);
    }

    #[test]
    fn a_file_with_target_group_settings_of_an_earlier_version_keeps_its_hints() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hints.json");
        std::fs::write(
            &path,
            r#"{"zones": {"Z1": "dev.example.com"}, "target_groups": {"tg": {"port": 80}}}"#,
        )
        .unwrap();
        let hints = Hints::load(&path);
        assert_eq!(hints.zone_name("Z1").as_deref(), Some("dev.example.com"));
    }
}
