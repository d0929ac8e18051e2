//! The one engine that carries out any plan: each step starts once the steps it waits for are
//! done, the last one goes with the lease's handover, and a failure or a signal undoes what was
//! done, in reverse.

use futures::stream::{FuturesUnordered, StreamExt};
use tracing::{debug, info, warn};

use super::calls::Done;
use super::lease::Leased;
use super::step::{Plan, StepId};
use super::{PlannedChange, Stop};
use crate::cloud::Cloud;
use crate::error::Error;
use crate::profile::Settings;

/// What each step of a plan did; None for a step that did not run.
#[derive(Debug)]
pub struct Applied {
    done: Vec<Option<Done>>,
}

impl Applied {
    /// The ARN step `id` made.
    pub fn made_by(&self, id: StepId) -> Option<String> {
        self.done.get(id)?.as_ref()?.arn()
    }

    /// The changes the run made, in the plan's order: a step that found its change made
    /// already is not one.
    pub fn changed(&self, plan: &Plan) -> Vec<PlannedChange> {
        let changed = plan
            .steps
            .iter()
            .zip(&self.done)
            .filter_map(|(step, done)| {
                let done = done.as_ref()?;
                (*done != Done::Unchanged).then(|| step.change.clone())
            });
        changed.collect()
    }
}

/// Applies `plan` under `lease`. On a failure or a stop, the steps in flight finish (what they
/// make must be known to be undone), no new one starts, and what was done is undone unless
/// another run holds the environment by then.
pub async fn apply(
    cloud: &Cloud,
    s: &Settings,
    plan: &Plan,
    lease: &Leased<'_>,
    stop: &Stop,
) -> Result<Applied, Error> {
    let mut run = Run {
        done: vec![None; plan.steps.len()],
        order: Vec::new(),
    };
    let result = run.steps(cloud, s, plan, lease, stop).await;
    let cleanup = super::cleanup_command(s, lease.name().as_str());
    match result {
        Ok(()) => Ok(Applied { done: run.done }),
        Err(unfinished @ (Error::Unfinished { .. } | Error::Unlisted { .. })) => Err(unfinished),
        // Another run holds the environment now: what this run made is for it to reuse.
        Err(_) if lease.is_lost() => Err(lease.lost_error(s)),
        Err(cause) => match lease.confirm_before_undo(s, cause).await {
            Ok(cause) => Err(run.roll_back(cloud, plan, lease, cause, cleanup).await),
            Err(unconfirmed) => Err(unconfirmed),
        },
    }
}

struct Run {
    done: Vec<Option<Done>>,
    /// The steps done, in the order they finished.
    order: Vec<StepId>,
}

impl Run {
    /// The ARNs made so far, for the steps that need them.
    fn made(&self) -> Vec<Option<String>> {
        self.done.iter().map(|d| d.as_ref()?.arn()).collect()
    }

    fn finished(&mut self, id: StepId, done: Done) {
        self.done[id] = Some(done);
        self.order.push(id);
    }

    async fn steps(
        &mut self,
        cloud: &Cloud,
        s: &Settings,
        plan: &Plan,
        lease: &Leased<'_>,
        stop: &Stop,
    ) -> Result<(), Error> {
        // The steps with the longest chain ahead go first: where calls queue (moto, or a
        // throttled API), the chain to the last step goes ahead of calls with time to spare.
        let ahead = plan.chains_ahead();
        let depth = ahead.iter().max().unwrap_or(&0);
        debug!(
            "applying a plan of {} steps, {depth} rounds of calls deep",
            ahead.len()
        );
        let mut by_chain: Vec<StepId> = (0..plan.steps.len()).collect();
        by_chain.sort_by_key(|id| std::cmp::Reverse(ahead[*id]));
        let mut started = vec![false; plan.steps.len()];
        let mut running = FuturesUnordered::new();
        let mut failure = None;
        loop {
            if failure.is_none() && stop.is_requested() {
                failure = Some(Error::Interrupted);
            }
            if failure.is_none() {
                for &id in &by_chain {
                    let step = &plan.steps[id];
                    let ready = step.after.iter().all(|a| self.done[*a].is_some());
                    if started[id] || !ready || Some(id) == plan.last {
                        continue;
                    }
                    started[id] = true;
                    let made = self.made();
                    running.push(async move { (id, step.op.run(cloud, &made, lease).await) });
                }
            }
            match running.next().await {
                None => break,
                Some((id, Ok(done))) => self.finished(id, done),
                Some((_, Err(e))) => {
                    failure.get_or_insert(e);
                }
            }
        }
        if let Some(failure) = failure {
            return Err(failure);
        }
        stop.check()?;
        let last = async {
            match plan.last {
                Some(id) => {
                    let made = self.made();
                    plan.steps[id].op.run(cloud, &made, lease).await.map(Some)
                }
                None => Ok(None),
            }
        };
        let done = match &plan.handover {
            Some(handover) => lease.last_call(s, handover, &self.made(), last).await?,
            None => last.await?,
        };
        if let (Some(id), Some(done)) = (plan.last, done) {
            self.finished(id, done);
        }
        Ok(())
    }

    /// Undoes what was done in reverse and returns `cause`, with whatever could not be undone.
    /// The state item goes last, and only when everything else went: it is what makes the
    /// environment's records eden's, so a record left without it could be removed by no delete.
    async fn roll_back(
        self,
        cloud: &Cloud,
        plan: &Plan,
        lease: &Leased<'_>,
        cause: Error,
        cleanup: String,
    ) -> Error {
        let undoable = |id: &&StepId| {
            let done = self.done[**id].as_ref();
            plan.steps[**id].undo.is_some() && done.is_some_and(|d| *d != Done::Unchanged)
        };
        let (state, others): (Vec<StepId>, Vec<StepId>) = self
            .order
            .iter()
            .rev()
            .filter(undoable)
            .partition(|id| plan.steps[**id].op.is_state_item());
        if state.is_empty() && others.is_empty() {
            return cause;
        }
        warn!("{cause}");
        info!("Undoing what this run made");
        let made = self.made();
        let mut leftovers = Vec::new();
        for id in others.iter().chain(&state) {
            let step = &plan.steps[*id];
            let what = step.change.line();
            if !leftovers.is_empty() && step.op.is_state_item() {
                info!("Kept {what}, so that `{cleanup}` finds the rest");
                continue;
            }
            let Some(undo) = &step.undo else { continue };
            match undo.run(cloud, &made, lease).await {
                Ok(_) => info!("Undone: {what}"),
                Err(e) => {
                    warn!("Could not undo {what}: {e}");
                    leftovers.push(what);
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
