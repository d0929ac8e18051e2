//! A plan as a value: the steps a run takes, what each waits for, and how each is undone.
//! Planning makes no call: `--dry-run` prints [`Plan::changes`], and [`super::apply`] carries
//! out the same plan, step by step.

use super::environments::FileRead;
use super::lease::Left;
use super::PlannedChange;
use crate::cloud::{
    AliasRecord, EnvironmentItem, ListenerRule, NewService, Tag, TaskDefinitionCopy, Template,
};
use crate::error::Error;
use crate::names::Names;
use crate::profile::Settings;

/// A step's place in its plan.
pub type StepId = usize;

/// A value a step needs: known when planned, or made by an earlier step (an ARN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    Known(String),
    MadeBy(StepId),
}

impl Ref {
    /// The value, once the step that makes it is done (`made` holds each step's ARN).
    pub fn get<'a>(&'a self, made: &'a [Option<String>]) -> Result<&'a str, Error> {
        match self {
            Ref::Known(value) => Ok(value),
            Ref::MadeBy(id) => {
                made.get(*id)
                    .and_then(Option::as_deref)
                    .ok_or_else(|| Error::PlanBroken {
                        why: format!("a step needs what step {id} makes before it is made"),
                    })
            }
        }
    }
}

/// Where an environment's endpoint is in the environments file: `update_key` of `entry` in
/// `s3://bucket/key`.
#[derive(Debug, Clone)]
pub struct FileKey {
    pub bucket: String,
    pub key: String,
    pub entry: String,
    pub update_key: String,
}

impl FileKey {
    pub fn of(s: &Settings, names: &Names) -> Self {
        FileKey {
            bucket: s.bucket.clone(),
            key: s.key.clone(),
            entry: names.file_entry.clone(),
            update_key: s.update_key.clone(),
        }
    }
}

/// One call (or a few of one kind) that changes AWS, with everything it needs decided.
#[derive(Debug, Clone)]
pub enum Op {
    RegisterTaskDefinition(TaskDefinitionCopy),
    DeregisterTaskDefinition {
        arn: Ref,
    },
    CreateTargetGroup {
        name: String,
        settings: Template,
        tags: Vec<Tag>,
    },
    SetTargetGroupAttributes {
        target_group: Ref,
        attributes: Vec<(String, String)>,
    },
    DeleteTargetGroup {
        arn: Ref,
    },
    /// A host rule on a free priority; `rules` are the listener's as read, whose priorities
    /// are taken.
    CreateRule {
        listener: String,
        host: String,
        target_group: Ref,
        tags: Vec<Tag>,
        rules: Vec<ListenerRule>,
    },
    DeleteRule {
        arn: Ref,
        host: String,
    },
    CreateRecords {
        zone_id: String,
        records: Vec<AliasRecord>,
    },
    DeleteRecords {
        zone_id: String,
        records: Vec<AliasRecord>,
    },
    /// Sets the environment's endpoint in the environments file, conditional on `file` (the
    /// version read), re-read on a lost race.
    SetEndpoint {
        at: FileKey,
        env_type: String,
        endpoint: String,
        file: FileRead,
    },
    /// Removes it, from `file` when given, else from the file as it is now.
    RemoveEndpoint {
        at: FileKey,
        file: Option<FileRead>,
    },
    PutStateItem {
        table: String,
        item: EnvironmentItem,
    },
    DeleteStateItem {
        table: String,
        profile: String,
        name: String,
    },
    /// Tags an untagged resource of a recorded environment as eden's.
    Adopt {
        resource: Adopted,
        tags: Vec<Tag>,
    },
    CreateService {
        service: NewService,
        task_definition: Ref,
        target_group: Ref,
    },
    /// Points the service at a task definition, and sets `expiry` (its expiry tag) on it.
    Deploy {
        cluster: String,
        service: String,
        task_definition: Ref,
        expiry: Option<(String, Vec<Tag>)>,
    },
    DeleteService {
        cluster: String,
        name: String,
    },
}

/// A resource adopted as eden's, by ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adopted {
    Service(String),
    TargetGroup(String),
    Rule(String),
}

impl Adopted {
    pub fn describe(&self) -> String {
        match self {
            Adopted::Service(arn) => format!("service {arn}"),
            Adopted::TargetGroup(arn) => format!("target group {arn}"),
            Adopted::Rule(arn) => format!("listener rule {arn}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    /// What `--dry-run` prints of it, and what a run reports it changed.
    pub change: PlannedChange,
    pub op: Op,
    /// The steps it waits for: those whose results it needs, or that must be there first.
    pub after: Vec<StepId>,
    /// How it is taken back when a later step fails; its `MadeBy` itself is what it made.
    pub undo: Option<Op>,
}

/// How the lease is given up: alongside the plan's last step, in the same round trip.
#[derive(Debug, Clone)]
pub enum Handover {
    /// The environment stays as the plan leaves it: the next run trusts its reads when they
    /// show this.
    Stays(Leaves),
    /// The environment is gone: its state item goes with the lease (`state_item` says so when
    /// there is one). `listed` is put back should the last step fail, so that the environment
    /// stays listed for the next delete.
    Gone {
        listed: Option<EnvironmentItem>,
        state_item: Option<PlannedChange>,
    },
}

/// What a plan leaves of the environment, as [`Left`] records it, with the ARNs its steps make.
#[derive(Debug, Clone)]
pub struct Leaves {
    pub state: i64,
    pub task_definition: Ref,
    pub target_group: Ref,
    pub rule: Ref,
    pub records: Vec<AliasRecord>,
    pub alb: String,
    /// The task definition the service runs before the last call; none for a new service.
    pub before: Option<String>,
}

impl Leaves {
    pub fn left(&self, made: &[Option<String>]) -> Result<Left, Error> {
        let left = Left::new(
            Some(self.state),
            Some(self.task_definition.get(made)?),
            Some(self.target_group.get(made)?),
            [self.rule.get(made)?.to_string()],
            &self.records,
            &self.alb,
        );
        Ok(Left {
            before: self.before.clone(),
            ..left
        })
    }
}

/// The steps of one run, in the order they are reported.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// The step made once every other is done, alongside the lease's handover (see
    /// [`Plan::make_last`]).
    pub last: Option<StepId>,
    pub handover: Option<Handover>,
    /// What has one of the environment's names and stays as it is, each with why.
    pub kept: Vec<PlannedChange>,
    /// What the run waits for before its first step.
    pub waits_for: Vec<PlannedChange>,
}

impl Plan {
    /// Adds a step and returns its id.
    pub fn add(&mut self, change: PlannedChange, op: Op, after: &[StepId]) -> StepId {
        self.steps.push(Step {
            change,
            op,
            after: after.to_vec(),
            undo: None,
        });
        self.steps.len() - 1
    }

    /// Adds a step that `undo` takes back; `undo` gets the step's own id, for what it made.
    pub fn add_undoable(
        &mut self,
        change: PlannedChange,
        op: Op,
        after: &[StepId],
        undo: impl FnOnce(StepId) -> Op,
    ) -> StepId {
        let id = self.add(change, op, after);
        self.steps[id].undo = Some(undo(id));
        id
    }

    /// Makes the newest step the last: it waits for every other, and the lease is given up
    /// alongside it.
    pub fn make_last(&mut self) {
        if let Some((last, others)) = self.steps.split_last_mut() {
            last.after = (0..others.len()).collect();
            self.last = Some(others.len());
        }
    }

    /// Everything the plan changes and keeps, as the dry run prints it.
    pub fn changes(&self) -> Vec<PlannedChange> {
        // A wait comes first, and every step after it.
        let waits = self.waits_for.len();
        let steps = self.steps.iter().map(|step| PlannedChange {
            after: (0..waits)
                .chain(step.after.iter().map(|id| id + waits))
                .collect(),
            ..step.change.clone()
        });
        // The state item goes in the last step's write, after every other step.
        let state_item = match &self.handover {
            Some(Handover::Gone { state_item, .. }) => state_item.clone(),
            _ => None,
        };
        let state_item = state_item.map(|change| PlannedChange {
            after: (0..self.steps.len() + waits)
                .filter(|id| self.last.map(|last| last + waits) != Some(*id))
                .collect(),
            ..change
        });
        let kept = self.kept.iter().cloned();
        let waits_for = self.waits_for.iter().cloned();
        waits_for
            .chain(steps)
            .chain(state_item)
            .chain(kept)
            .collect()
    }

    /// For each step, the longest chain of steps that starts with it: the rounds the plan still
    /// takes once it starts.
    pub fn chains_ahead(&self) -> Vec<usize> {
        let mut ahead = vec![1; self.steps.len()];
        // A step waits only for steps before it, so walking back sees each one's waiters first.
        for id in (0..self.steps.len()).rev() {
            let waiters = self.steps.iter().enumerate().skip(id + 1);
            let longest = waiters
                .filter(|(_, step)| step.after.contains(&id))
                .map(|(waiter, _)| ahead[waiter])
                .max()
                .unwrap_or(0);
            ahead[id] = 1 + longest;
        }
        ahead
    }
}

#[cfg(test)]
impl Plan {
    /// The longest chain of steps, each waiting for the one before: the rounds of calls the
    /// plan takes at least.
    pub fn depth(&self) -> usize {
        self.chains_ahead().into_iter().max().unwrap_or(0)
    }

    /// Fails when a step needs what a step it does not wait for makes, or when an undo needs
    /// what another step makes: the engine would find it missing.
    pub fn assert_consistent(&self) {
        for (id, step) in self.steps.iter().enumerate() {
            let waits_for = |needed: &StepId| step.after.contains(needed);
            for needed in step.op.needs() {
                assert!(
                    needed < id && waits_for(&needed),
                    "step {id} needs step {needed}: {step:?}"
                );
            }
            for needed in step.undo.iter().flat_map(Op::needs) {
                assert!(
                    needed == id || waits_for(&needed),
                    "undo of step {id} needs step {needed}"
                );
            }
        }
    }
}

#[cfg(test)]
impl Op {
    /// The steps whose results it needs.
    fn needs(&self) -> Vec<StepId> {
        let refs: Vec<&Ref> = match self {
            Op::DeregisterTaskDefinition { arn }
            | Op::DeleteTargetGroup { arn }
            | Op::DeleteRule { arn, .. } => vec![arn],
            Op::SetTargetGroupAttributes { target_group, .. }
            | Op::CreateRule { target_group, .. } => vec![target_group],
            Op::CreateService {
                task_definition,
                target_group,
                ..
            } => vec![task_definition, target_group],
            Op::Deploy {
                task_definition, ..
            } => vec![task_definition],
            _ => Vec::new(),
        };
        let made = refs.into_iter().filter_map(|r| match r {
            Ref::MadeBy(id) => Some(*id),
            Ref::Known(_) => None,
        });
        made.collect()
    }
}
