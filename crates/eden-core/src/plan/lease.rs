//! One run at a time per environment: a lease item in the state table, taken with a conditional
//! write, as AWS's amazon-dynamodb-lock-client does. No decision compares the clocks of two
//! machines, and none depends on host names:
//! - the holder writes a new random version into the item every [`HEARTBEAT`];
//! - a waiter times the version it sees on its own monotonic clock, and takes the lease over
//!   only on the condition that the version is still the one it has seen unchanged for
//!   [`LEASE_SECONDS`] (its holder died);
//! - a holder that could not renew for most of that time stops, and undoes nothing: another
//!   run may hold the environment by then.
//!
//! The lease is taken while the run reads what it needs, not before. Each holder leaves in the
//! item, when it gives the lease up, what it left of the environment ([`Left`]); the take gets
//! the item it replaced back, and the reads are trusted only when they show exactly that (or,
//! for an item that never was, no state item). Otherwise they are made again under the lease,
//! one round trip. A wrong guess costs that round trip, never a wrong decision.
//!
//! A plan gives the lease up alongside its last call ([`Leased::last_call`]): a create's with
//! what the call will leave, so that the next run's reads are trusted once the call landed (and
//! made again while it lands, see [`read_settled`]); a delete's with the state item, in one
//! write. When that call fails, the run takes the lease back on the condition that nobody took
//! it meanwhile, and then undoes.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
// tokio's clock: monotonic, and paused in the fast tests.
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::step::Handover;
use super::Stop;
use crate::cloud::{
    random_id, AliasRecord, Fence, LeaseClaim, LeaseTake, PreviousHolder, Release, StateTable,
};
use crate::error::Error;
use crate::names::{dns_name, EnvName, Names};
use crate::profile::Settings;

/// How long a waiter sees a lease's version unchanged before it takes the lease over.
pub const LEASE_SECONDS: u64 = 15;
/// How often the holder writes a new version.
const HEARTBEAT: Duration = Duration::from_secs(2);
/// How long a holder goes on without a renewal before it stops: well before any waiter can
/// have seen its last version for [`LEASE_SECONDS`].
const HOLD_WITHOUT_RENEWAL: Duration = Duration::from_secs(LEASE_SECONDS - 4);
/// How long a command-line run waits for another run of the same environment by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(180);
const POLL: Duration = Duration::from_millis(500);
/// How long a run waits for the previous holder's last call to show in its reads: longer than
/// the call may take.
const SETTLE: Duration = Duration::from_secs(10);

/// What a run left of an environment, recorded on the lease item when it gives the lease up:
/// the next holder trusts the reads it made beside its take only when they show the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Left {
    /// The state item's `last_updated`.
    pub state: Option<i64>,
    /// The task definition the service runs.
    pub service: Option<String>,
    pub target_group: Option<String>,
    /// The listener rules for the host, sorted.
    pub rules: Vec<String>,
    /// The types of the host's alias records to the shared ALB, sorted.
    pub records: Vec<String>,
    /// The task definition the service ran before the run's last call (none for a new
    /// service): what the next run's reads may still show while that call lands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
}

impl Left {
    /// What these reads (or writes) show: the state item's `last_updated`, the service's task
    /// definition, the target group, the host's rules, and of `records` the aliases to `alb`.
    pub fn new(
        state: Option<i64>,
        service: Option<&str>,
        target_group: Option<&str>,
        rules: impl IntoIterator<Item = String>,
        records: &[AliasRecord],
        alb: &str,
    ) -> Self {
        let mut rules: Vec<String> = rules.into_iter().collect();
        rules.sort();
        let mut records: Vec<String> = records
            .iter()
            .filter(|r| dns_name(&r.target_dns) == dns_name(alb))
            .map(|r| format!("{:?}", r.record_type))
            .collect();
        records.sort();
        Self {
            state,
            service: service.map(str::to_string),
            target_group: target_group.map(str::to_string),
            rules,
            records,
            before: None,
        }
    }

    /// Whether reads (which know no `before`) show what this says was left.
    fn shown_by(&self, read: &Left) -> bool {
        Left {
            before: None,
            ..self.clone()
        } == *read
    }

    /// Whether reads show what this says was left but for the last call, the service's, which
    /// may still be landing: the service as it was before that call.
    fn landing_in(&self, read: &Left) -> bool {
        read.service == self.before
            && self.shown_by(&Left {
                service: self.service.clone(),
                ..read.clone()
            })
    }

    fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// None for what this version cannot read: the reads are then made again.
    fn decode(left: &str) -> Option<Self> {
        serde_json::from_str(left).ok()
    }
}

/// One environment's work under its lease.
pub struct Leased<'a> {
    state: Arc<dyn StateTable>,
    name: &'a EnvName,
    table: &'a str,
    /// How long to wait while another run is seen holding the lease.
    wait: Duration,
    held: Mutex<Option<Held>>,
    /// Set when the holder could not renew the lease in time: another run may hold it.
    lost: Arc<AtomicBool>,
}

struct Held {
    key: String,
    owner: String,
    heartbeat: Option<JoinHandle<()>>,
    /// The run's stop, requested when the lease is lost.
    stop: Stop,
}

impl<'a> Leased<'a> {
    pub fn new(
        state: &Arc<dyn StateTable>,
        name: &'a EnvName,
        table: &'a str,
        wait: Duration,
    ) -> Self {
        Self {
            state: state.clone(),
            name,
            table,
            wait,
            held: Mutex::new(None),
            lost: Arc::default(),
        }
    }

    /// The environment the lease is for.
    pub fn name(&self) -> &EnvName {
        self.name
    }

    /// Whether the lease was lost to another run: what this run made is not its to undo.
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// What the run's writes of the state item are fenced by: its lease, as held now.
    pub fn fence(&self) -> Result<Fence, Error> {
        let (key, owner) = self.holder().ok_or_else(|| Error::PlanBroken {
            why: "a state item is written with no lease held".into(),
        })?;
        Ok(Fence { key, owner })
    }

    /// A fenced write found the lease held by another run: this run stops, undoing nothing.
    pub fn taken_by_another_run(&self) -> Error {
        self.lost.store(true, Ordering::SeqCst);
        if let Some(held) = self.lock().as_ref() {
            held.stop.request();
        }
        Error::Busy {
            what: format!("environment {}", self.name),
            why: "another eden run took its lease".into(),
        }
    }

    /// Marks the lease lost to another run, found so by this run's own write, and says so.
    fn lose(&self, s: &Settings) -> Error {
        self.lost.store(true, Ordering::SeqCst);
        self.lost_error(s)
    }

    /// The error of a run that lost its lease.
    pub fn lost_error(&self, s: &Settings) -> Error {
        Error::LeaseLost {
            name: s.names(self.name).resource,
            cleanup: super::cleanup_command(s, self.name.as_str()),
        }
    }

    /// Makes the run's last call and gives the lease up alongside it, as the plan's `handover`
    /// says (`made`: the ARNs its steps made): the release's round trip after the call is
    /// saved. Every other write of the run must be done. When the call fails, the lease is taken
    /// back first (for a delete, with the state item put back as `listed`, so that the
    /// environment stays listed for the next delete), so that the run can undo what it made;
    /// when another run took it meanwhile, nothing is undone.
    pub async fn last_call<T>(
        &self,
        s: &Settings,
        handover: &Handover,
        made: &[Option<String>],
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        // What a create leaves, before the lease is touched: a plan that cannot say it is a bug.
        let left = match handover {
            Handover::Stays(leaves) => Some(leaves.left(made)?.encode()),
            Handover::Gone { .. } => None,
        };
        let Some((key, owner)) = self.stop_heartbeat() else {
            return call.await;
        };
        let version = random_id();
        let resource = s.names(self.name).resource;
        let release = match &left {
            Some(left) => Release::Free {
                version: &version,
                left: Some(left),
            },
            None => Release::WithEnvironment {
                profile: &s.profile,
                name: &resource,
            },
        };
        let (called, released) = futures::join!(
            call,
            self.state.release_lease(self.table, &key, &owner, release)
        );
        let failed = match (called, released) {
            // Taken over before the release (this run stood still too long: a laptop asleep, a
            // stopped process): the other run's reads may predate this run's last call, and
            // what this run made is the other run's to finish or remove.
            (_, Ok(false)) => {
                self.given_up();
                return Err(self.lose(s));
            }
            (Ok(value), Ok(true)) => {
                self.given_up();
                return Ok(value);
            }
            // Still held: given up after the call instead. A delete's environment is gone but
            // still listed, which the run reports.
            (Ok(value), Err(unreleased)) => {
                debug!("could not give lease {key} up alongside the last call: {unreleased}");
                self.start_heartbeat();
                return match handover {
                    Handover::Stays(_) => Ok(value),
                    Handover::Gone { .. } => Err(unreleased),
                };
            }
            (Err(failed), Ok(true)) => failed,
            (Err(failed), Err(_)) => {
                self.start_heartbeat();
                return Err(failed);
            }
        };
        let taken_back = match handover {
            Handover::Stays(_) => {
                let next = random_id();
                let state = &self.state;
                state
                    .take_back_lease(self.table, &key, &owner, &version, &next)
                    .await
            }
            Handover::Gone { listed, .. } => {
                let claim = LeaseClaim {
                    key: key.clone(),
                    owner,
                    version: random_id(),
                    takeover: None,
                };
                self.state
                    .restore_lease(self.table, &claim, listed.as_ref())
                    .await
            }
        };
        let why = match taken_back {
            Ok(true) => {
                self.start_heartbeat();
                return Err(failed);
            }
            Ok(false) => "another run holds it".to_string(),
            Err(e) => e.to_string(),
        };
        self.given_up();
        let (cause, cleanup) = (
            Box::new(failed),
            super::cleanup_command(s, self.name.as_str()),
        );
        Err(match handover {
            Handover::Stays(_) => Error::Unfinished {
                cause,
                why,
                cleanup,
            },
            Handover::Gone { .. } => Error::Unlisted {
                cause,
                why,
                cleanup,
            },
        })
    }

    /// Before an undo of what failed with `cause`: renews the lease, so that what this run made
    /// is undone only while the run still holds the environment. A run that stood still (a
    /// laptop asleep, a stopped process) may have lost it unawares, and another run may be
    /// reusing what it made. Gives `cause` back to undo; else the error to report instead.
    pub async fn confirm_before_undo(&self, s: &Settings, cause: Error) -> Result<Error, Error> {
        let Some((key, owner)) = self.holder() else {
            return Ok(cause);
        };
        let renewed = self
            .state
            .renew_lease(self.table, &key, &owner, &random_id())
            .await;
        match renewed {
            Ok(true) => Ok(cause),
            Ok(false) => {
                warn!("{cause}");
                Err(self.lose(s))
            }
            Err(e) => Err(Error::Unfinished {
                cause: Box::new(cause),
                why: e.to_string(),
                cleanup: super::cleanup_command(s, self.name.as_str()),
            }),
        }
    }

    /// The lease's key and owner, while this run holds it.
    fn holder(&self) -> Option<(String, String)> {
        let held = self.lock();
        let held = held.as_ref()?;
        Some((held.key.clone(), held.owner.clone()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Held>> {
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The last call gave the lease up: nothing is left to renew or release.
    fn given_up(&self) {
        self.lock().take();
    }

    /// Stops renewing, before a write that gives the lease up: returns its key and owner.
    fn stop_heartbeat(&self) -> Option<(String, String)> {
        let mut held = self.lock();
        let held = held.as_mut()?;
        if let Some(heartbeat) = held.heartbeat.take() {
            heartbeat.abort();
        }
        Some((held.key.clone(), held.owner.clone()))
    }

    /// Renews the lease every [`HEARTBEAT`] until it is given up; stops the run when it could
    /// not for [`HOLD_WITHOUT_RENEWAL`], or when another run took it.
    fn start_heartbeat(&self) {
        let mut held = self.lock();
        let Some(held) = held.as_mut() else {
            return;
        };
        let (state, table, key, owner) = (
            self.state.clone(),
            self.table.to_string(),
            held.key.clone(),
            held.owner.clone(),
        );
        let (lost, stop) = (self.lost.clone(), held.stop.clone());
        held.heartbeat = Some(tokio::spawn(async move {
            let mut renewed = Instant::now();
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                let started = Instant::now();
                let why = match state.renew_lease(&table, &key, &owner, &random_id()).await {
                    Ok(true) => {
                        renewed = started;
                        continue;
                    }
                    Ok(false) => "another eden run took it".to_string(),
                    Err(e) if renewed.elapsed() < HOLD_WITHOUT_RENEWAL => {
                        debug!("could not renew lease {key}: {e}");
                        continue;
                    }
                    Err(e) => format!("it could not be renewed for {HOLD_WITHOUT_RENEWAL:?}: {e}"),
                };
                warn!("Lost lease {key}: {why}; stopping");
                lost.store(true, Ordering::SeqCst);
                stop.request();
                return;
            }
        }));
    }

    /// Takes the lease while `look` reads, then runs `work` on what it read (read again under
    /// the lease unless `left` of it is what the previous holder left), and gives the lease up
    /// whatever the outcome, unless the last call did: the item stays after a success, and after
    /// a failure when the reads showed a state item (the environment is there, as the run found
    /// it or as its undo put it back); otherwise it goes, leaving no junk. `work` gets a failed
    /// read too, so that what it needs to undo can be undone under the lease, and what the
    /// previous holder left when the reads it gets show exactly that: resources an eden run of
    /// this environment left.
    pub async fn run<W, T, FL, FW>(
        &self,
        s: &Settings,
        stop: &Stop,
        look: impl Fn(Names) -> FL,
        left: impl Fn(&W) -> Left,
        work: impl FnOnce(Result<W, Error>, Option<Left>) -> FW,
    ) -> Result<T, Error>
    where
        FL: Future<Output = Result<W, Error>>,
        FW: Future<Output = Result<T, Error>>,
    {
        let names = s.names(self.name);
        let key = key(s, &names);
        let (taken, looked) = futures::join!(
            take(
                &*self.state,
                self.table,
                &key,
                &names.resource,
                self.wait,
                stop
            ),
            look(names.clone())
        );
        let (owner, previous, waited) = taken?;
        *self.lock() = Some(Held {
            key: key.clone(),
            owner,
            heartbeat: None,
            stop: stop.clone(),
        });
        self.start_heartbeat();
        let by_eden = left_by_eden(&previous);
        let trusted =
            !waited && reads_are_trusted(&previous, by_eden.as_ref(), looked.as_ref().map(&left));
        let (looked, vouched) = if trusted {
            (looked, by_eden)
        } else {
            debug!("reading again under lease {key}: previous holder {previous:?}");
            read_settled(&names, &look, &left, by_eden, stop).await
        };
        let recorded = looked.as_ref().is_ok_and(|w| left(w).state.is_some());
        let result = work(looked, vouched).await;
        self.release(&key, result.is_ok() || recorded).await;
        result
    }

    /// Gives the lease up, unless the last call did: the item stays, free, when `keep`, and goes
    /// otherwise. A failure only delays the next run until it takes the lease over.
    async fn release(&self, key: &str, keep: bool) {
        let Some((_, owner)) = self.stop_heartbeat() else {
            return;
        };
        if self.is_lost() {
            return;
        }
        let version = random_id();
        let release = match keep {
            true => Release::Free {
                version: &version,
                left: None,
            },
            false => Release::Dropped,
        };
        // A lease taken over is the other run's: nothing to give up.
        if let Err(e) = self
            .state
            .release_lease(self.table, key, &owner, release)
            .await
        {
            warn!("Could not release lease {key}: {e}; another run takes it over in {LEASE_SECONDS} s");
        }
    }
}

/// A run dropped before its end (its caller went away) stops renewing: its lease is taken over
/// once it has not changed for [`LEASE_SECONDS`], instead of being held while the process lives.
impl Drop for Leased<'_> {
    fn drop(&mut self) {
        self.stop_heartbeat();
    }
}

/// Reads under the lease. The previous holder gave the lease up alongside its last call, the
/// service's, which may still be on its way (AWS takes a moment to make a service): while the
/// reads show what it said it left but for the service, which they show as it was before that
/// call, they are made again, after pauses that double, for up to [`SETTLE`]; a call that
/// failed, or a service deleted by hand since, is then what the run finds. Returns the reads,
/// and what they vouch for when they show exactly what that eden run left.
async fn read_settled<W, FL>(
    names: &Names,
    look: impl Fn(Names) -> FL,
    left: impl Fn(&W) -> Left,
    expected: Option<Left>,
    stop: &Stop,
) -> (Result<W, Error>, Option<Left>)
where
    FL: Future<Output = Result<W, Error>>,
{
    let (started, mut waited) = (Instant::now(), 0);
    loop {
        let looked = look(names.clone()).await;
        let (Some(expected), Ok(read)) = (&expected, looked.as_ref().map(&left)) else {
            return (looked, None);
        };
        if expected.shown_by(&read) {
            return (looked, Some(read));
        }
        if !expected.landing_in(&read) || started.elapsed() >= SETTLE || stop.is_requested() {
            return (looked, None);
        }
        if waited == 0 {
            let service = &names.resource;
            info!("Waiting for the previous eden run's change of service {service} to show");
        }
        // Each pause twice the last: a call that lands at once is seen at once, and a long wait
        // makes its reads (Route 53's among them: 5 calls a second per account) a few times.
        let pause = (POLL * 2u32.pow(waited)).min(SETTLE.saturating_sub(started.elapsed()));
        tokio::time::sleep(pause).await;
        waited += 1;
    }
}

/// The lease item's key: `PROFILE/RESOURCE`.
pub fn key(s: &Settings, names: &Names) -> String {
    format!("{}/{}", s.profile, names.resource)
}

/// What the previous holder, an eden run of this environment, recorded leaving.
fn left_by_eden(previous: &PreviousHolder) -> Option<Left> {
    match previous {
        PreviousHolder::Released { left: Some(left) } => Left::decode(left),
        _ => None,
    }
}

/// Whether reads made beside the take saw every change of the previous holder: they show
/// what it left, `by_eden` as decoded (a failed read is reported as it is).
fn reads_are_trusted(
    previous: &PreviousHolder,
    by_eden: Option<&Left>,
    read: Result<Left, &Error>,
) -> bool {
    let Ok(read) = read else {
        return true;
    };
    match previous {
        // No item: never held, or gone with the state item, which the reads must not show.
        PreviousHolder::Nobody => read.state.is_none(),
        PreviousHolder::Released { left: Some(_) } => by_eden.is_some_and(|l| l.shown_by(&read)),
        PreviousHolder::Released { left: None } | PreviousHolder::Expired => false,
    }
}

/// Takes the lease `key` as a new owner, waiting while another run is seen renewing it, up to
/// `wait`, and taking it over from a run that stopped renewing it. Returns the owner, the
/// previous holder and whether it waited.
async fn take(
    state: &dyn StateTable,
    table: &str,
    key: &str,
    resource: &str,
    wait: Duration,
    stop: &Stop,
) -> Result<(String, PreviousHolder, bool), Error> {
    let owner = random_id();
    let started = Instant::now();
    // The version last seen, and since when by this machine's clock.
    let mut seen: Option<(String, Instant)> = None;
    let mut alive = false;
    let mut waited = false;
    loop {
        let takeover = seen
            .as_ref()
            .filter(|(_, since)| since.elapsed() >= Duration::from_secs(LEASE_SECONDS))
            .map(|(version, _)| version.clone());
        let claim = LeaseClaim {
            key: key.to_string(),
            owner: owner.clone(),
            version: random_id(),
            takeover,
        };
        match state.take_lease(table, &claim).await? {
            LeaseTake::Taken(previous) => {
                debug!("took lease {key} after {previous:?}");
                return Ok((owner, previous, waited));
            }
            LeaseTake::Held { version } => match &seen {
                Some((last, _)) if *last == version => {}
                Some(_) => {
                    alive = true;
                    seen = Some((version, Instant::now()));
                }
                None => seen = Some((version, Instant::now())),
            },
        }
        stop.check()?;
        // A run seen renewing is waited for up to `wait`; one that stopped is taken over.
        if alive && started.elapsed() >= wait {
            return Err(Error::Busy {
                what: format!("environment {resource}"),
                why: "another eden run is changing it".into(),
            });
        }
        if !waited {
            info!("Environment {resource} is being changed by another eden run, waiting for it");
            waited = true;
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn left(state: i64) -> Left {
        Left {
            state: Some(state),
            service: Some("arn:aws:ecs:us-east-1:1:task-definition/dev-api-foo:3".into()),
            target_group: Some("arn:tg".into()),
            rules: vec!["arn:rule".into()],
            records: vec!["A".into()],
            before: None,
        }
    }

    fn trusted(previous: &PreviousHolder, read: Result<Left, &Error>) -> bool {
        reads_are_trusted(previous, left_by_eden(previous).as_ref(), read)
    }

    #[test]
    fn reads_are_trusted_only_when_they_show_what_the_previous_holder_left() {
        let released = |left: Option<&Left>| PreviousHolder::Released {
            left: left.map(Left::encode),
        };
        assert!(trusted(&released(Some(&left(7))), Ok(left(7))));
        // The state item of another run, or one written before the previous holder's.
        assert!(!trusted(&released(Some(&left(7))), Ok(left(6))));
        let mut without_rule = left(7);
        without_rule.rules.clear();
        assert!(!trusted(&released(Some(&left(7))), Ok(without_rule)));
        assert!(!trusted(&released(None), Ok(left(7))));
        assert!(!trusted(&PreviousHolder::Expired, Ok(left(7))));
        assert!(!trusted(
            &PreviousHolder::Released {
                left: Some("{not what this version writes".into())
            },
            Ok(left(7))
        ));
        // No item: a delete removed it with the state item while the reads ran.
        assert!(!trusted(&PreviousHolder::Nobody, Ok(left(7))));
        assert!(trusted(&PreviousHolder::Nobody, Ok(Left::default())));
    }

    #[test]
    fn only_the_service_as_it_was_before_the_last_call_is_waited_for() {
        let before = "arn:aws:ecs:us-east-1:1:task-definition/dev-api-foo:2";
        let deployed = Left {
            before: Some(before.into()),
            ..left(7)
        };
        assert!(deployed.shown_by(&left(7)));
        let still_deploying = Left {
            service: Some(before.into()),
            ..left(7)
        };
        assert!(deployed.landing_in(&still_deploying));
        // Rolled back by hand, or anything else changed: nothing to wait for.
        let rolled_back = Left {
            service: Some("arn:aws:ecs:us-east-1:1:task-definition/dev-api-foo:1".into()),
            ..left(7)
        };
        assert!(!deployed.landing_in(&rolled_back));
        assert!(!deployed.landing_in(&Left {
            service: Some(before.into()),
            ..left(6)
        }));
        // A new service: reads show none while it is being made.
        let no_service = Left {
            service: None,
            ..left(7)
        };
        assert!(left(7).landing_in(&no_service));
        assert!(!deployed.landing_in(&no_service));
    }

    #[test]
    fn what_a_run_left_reads_back_as_written() {
        let deployed = Left {
            before: Some("arn:td:2".into()),
            ..left(7)
        };
        assert_eq!(Left::decode(&deployed.encode()), Some(deployed));
        assert_eq!(Left::decode(&left(7).encode()), Some(left(7)));
        assert_ne!(random_id(), random_id());
    }

    use std::sync::atomic::AtomicUsize;

    use crate::cloud::StateTable;
    use crate::fake::{FakeTable, LeaseRow};
    use crate::profile::tests::seed_profile;

    /// The lease key of `foo` under the seed's profile.
    const KEY: &str = "api/dev-dynamic-foo";

    /// What a run under the lease saw: how often it read, how many runs worked at once.
    #[derive(Default)]
    struct Probe {
        reads: AtomicUsize,
        active: AtomicUsize,
        most: AtomicUsize,
    }

    fn settings() -> Settings {
        seed_profile().settings("api").expect("the seed's profile")
    }

    fn foo() -> EnvName {
        EnvName::parse("foo").expect("a valid name")
    }

    #[test]
    fn the_key_is_the_profile_and_resource_name() {
        assert_eq!(KEY, format!("api/{}", settings().names(&foo()).resource));
    }

    /// One run on foo whose reads show `seen` and whose work takes `work`.
    async fn run_once(
        table: &Arc<FakeTable>,
        wait: Duration,
        probe: &Probe,
        seen: &Left,
        work: Duration,
    ) -> Result<(), Error> {
        let (name, s) = (foo(), settings());
        let table: Arc<dyn StateTable> = table.clone();
        let leased = Leased::new(&table, &name, "eden", wait);
        let look = |_| async {
            probe.reads.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Error>(seen.clone())
        };
        let work = |looked: Result<Left, Error>, _| async move {
            looked?;
            let now = probe.active.fetch_add(1, Ordering::SeqCst) + 1;
            probe.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(work).await;
            probe.active.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        };
        let stop = Stop::default();
        leased.run(&s, &stop, look, Left::clone, work).await
    }

    fn free(left: Option<&Left>) -> LeaseRow {
        LeaseRow {
            owner: None,
            version: "v1".into(),
            left: left.map(Left::encode),
        }
    }

    fn held_by(owner: &str) -> LeaseRow {
        LeaseRow {
            owner: Some(owner.into()),
            version: "v0".into(),
            left: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn reads_beside_the_take_are_made_again_unless_they_show_what_was_left() {
        let table = Arc::new(FakeTable::default());
        table.put_lease(KEY, free(Some(&left(7))));
        let probe = Probe::default();
        run_once(&table, DEFAULT_WAIT, &probe, &left(7), Duration::ZERO)
            .await
            .expect("ran");
        assert_eq!(probe.reads.load(Ordering::SeqCst), 1);
        // The take, beside the reads, and the release: nothing else of the table's.
        assert_eq!(table.calls(), ["take_lease", "release_lease"]);
        // Given up by a run that did not say what it left: read again.
        run_once(&table, DEFAULT_WAIT, &probe, &left(7), Duration::ZERO)
            .await
            .expect("ran");
        assert_eq!(probe.reads.load(Ordering::SeqCst), 3);
        assert_eq!(table.lease(KEY).and_then(|row| row.owner), None);
    }

    #[tokio::test(start_paused = true)]
    async fn runs_of_one_environment_never_overlap() {
        let table = Arc::new(FakeTable::default());
        let probe = Probe::default();
        let work = Duration::from_secs(20);
        let nothing = Left::default();
        let runs = (0..4).map(|_| run_once(&table, DEFAULT_WAIT, &probe, &nothing, work));
        for ran in futures::future::join_all(runs).await {
            ran.expect("ran");
        }
        assert_eq!(probe.most.load(Ordering::SeqCst), 1);
        // The first read beside its take; each other, having waited, again under the lease.
        assert_eq!(probe.reads.load(Ordering::SeqCst), 1 + 3 * 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_holder_that_stopped_renewing_is_taken_over_after_the_lease_lifetime() {
        let table = Arc::new(FakeTable::default());
        table.put_lease(KEY, held_by("killed"));
        let probe = Probe::default();
        let started = Instant::now();
        run_once(&table, DEFAULT_WAIT, &probe, &left(7), Duration::ZERO)
            .await
            .expect("taken over");
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(LEASE_SECONDS), "{waited:?}");
        assert!(
            waited < Duration::from_secs(LEASE_SECONDS + 2),
            "{waited:?}"
        );
        assert_eq!(probe.reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_live_holder_is_waited_for_and_never_taken_over() {
        let table = Arc::new(FakeTable::default());
        table.put_lease(KEY, held_by("alive"));
        let renewing = {
            let table = table.clone();
            tokio::spawn(async move {
                for version in 1..=20 {
                    tokio::time::sleep(HEARTBEAT).await;
                    let mut row = held_by("alive");
                    row.version = format!("v{version}");
                    table.put_lease(KEY, row);
                }
                table.put_lease(KEY, free(None));
            })
        };
        let probe = Probe::default();
        let busy = run_once(&table, Duration::ZERO, &probe, &left(7), Duration::ZERO).await;
        assert!(matches!(busy, Err(Error::Busy { .. })), "{busy:?}");
        let started = Instant::now();
        run_once(&table, DEFAULT_WAIT, &probe, &left(7), Duration::ZERO)
            .await
            .expect("ran once it was free");
        assert!(
            started.elapsed() >= HEARTBEAT * 18,
            "{:?}",
            started.elapsed()
        );
        renewing.await.expect("renewed");
    }

    #[tokio::test(start_paused = true)]
    async fn a_holder_that_cannot_renew_stops_and_gives_nothing_up() {
        let table = Arc::new(FakeTable::default());
        let dyn_table: Arc<dyn StateTable> = table.clone();
        let (name, s, stop) = (foo(), settings(), Stop::default());
        let leased = Leased::new(&dyn_table, &name, "eden", DEFAULT_WAIT);
        let started = Instant::now();
        let work = |looked: Result<Left, Error>, _| async {
            looked?;
            table.renewals_fail.store(true, Ordering::SeqCst);
            loop {
                stop.check()?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let ran: Result<(), Error> = leased
            .run(&s, &stop, |_| async { Ok(left(7)) }, Left::clone, work)
            .await;
        assert!(matches!(ran, Err(Error::Interrupted)), "{ran:?}");
        assert!(leased.is_lost());
        // Before any waiter could have taken it over.
        assert!(started.elapsed() < Duration::from_secs(LEASE_SECONDS));
        // Not given up: that is for the run that takes it over.
        assert!(table.lease(KEY).and_then(|row| row.owner).is_some());
    }
}
