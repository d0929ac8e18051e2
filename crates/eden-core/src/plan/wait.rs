//! `eden create --wait`: after the changes, wait until the service's new deployment has rolled
//! out, the target group, where it reports health, calls its targets healthy, and the records
//! the run made have reached every Route 53 name server.
//!
//! Each poll is one DescribeServices, and once the rollout is done one DescribeTargetHealth and
//! one GetChange (until the change is in sync): at most 3 calls every [`POLL`], 60 a minute. A
//! failed rollout costs one ListTasks and one DescribeTasks more, to say why the tasks stopped.

use std::time::{Duration, Instant};

use tracing::{debug, warn};

use super::Stop;
use crate::cloud::{Cloud, Deployment, ServiceInfo, TargetHealth};
use crate::error::{AwsFailure, Error};
use crate::names::Names;
use crate::profile::Settings;

/// How often the service is read while waiting.
pub const POLL: Duration = Duration::from_secs(3);
/// How long `--wait` waits by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Where a rollout stands, as shown while waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// Still going: what it is at, in a few words.
    Waiting(String),
    Ready,
    /// It will not get there by itself.
    Failed(String),
}

/// What to wait for: the deployment of this task definition to the environment's service.
pub struct WaitFor<'a> {
    pub names: &'a Names,
    pub task_definition: &'a str,
    /// Route 53's change that made the host's records, when the run made them.
    pub records_change: Option<&'a str>,
    pub timeout: Duration,
    /// How often to read the service: [`POLL`] but in tests.
    pub poll: Duration,
}

/// Polls until the environment serves the new task definition, calling `progress` each time
/// the state changes. Errors say why it is not ready, with the stopped tasks' reasons.
pub async fn until_ready(
    cloud: &Cloud,
    s: &Settings,
    w: &WaitFor<'_>,
    stop: &Stop,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<(), Error> {
    let started = Instant::now();
    let name = &w.names.resource;
    debug!("waiting for {} in service {name}", w.task_definition);
    let target_group = cloud.elb.target_group(&w.names.target_group).await?;
    let mut records_change = w.records_change;
    let mut last = String::new();
    loop {
        stop.check()?;
        let service = cloud
            .ecs
            .service(&s.target_cluster, name)
            .await?
            .filter(ServiceInfo::is_active)
            .ok_or_else(|| not_ready(s, w.names, "its service is gone".into()))?;
        let mut state = rollout(&service, w.task_definition);
        if state == Rollout::Ready {
            if let Some(tg) = &target_group {
                state = targets(&cloud.elb.target_health(&tg.arn).await?);
            }
        }
        // A resolver asking a name server the change has not reached yet is told the host does
        // not exist, and may remember that for as long as the zone's SOA says (minutes).
        if let (Rollout::Ready, Some(change)) = (&state, records_change) {
            match cloud.dns.in_sync(change).await {
                Ok(true) => records_change = None,
                Ok(false) => {
                    state = Rollout::Waiting("records reaching Route 53's name servers".into())
                }
                // A role made from an older `eden iam-policy` may not read changes: the wait
                // goes on without them rather than failing a create that is done.
                Err(Error::Aws {
                    failure: AwsFailure::Denied,
                    ..
                }) => {
                    warn!("Not waiting for the records to reach every Route 53 name server: route53:GetChange is denied; add it from `eden iam-policy`");
                    records_change = None;
                }
                Err(e) => return Err(e),
            }
        }
        let shown = match &state {
            Rollout::Ready => "ready".to_string(),
            Rollout::Waiting(what) | Rollout::Failed(what) => what.clone(),
        };
        if shown != last {
            progress(&shown);
            last = shown;
        }
        match state {
            Rollout::Ready => return Ok(()),
            Rollout::Failed(why) => {
                return Err(not_ready(s, w.names, with_stopped(cloud, s, w, why).await));
            }
            Rollout::Waiting(what) => {
                let elapsed = started.elapsed();
                if elapsed >= w.timeout {
                    let why = format!(
                        "still {what} after {}",
                        humantime::format_duration(Duration::from_secs(w.timeout.as_secs()))
                    );
                    return Err(not_ready(s, w.names, with_stopped(cloud, s, w, why).await));
                }
                tokio::time::sleep(w.poll.min(w.timeout - elapsed)).await;
            }
        }
    }
}

fn not_ready(s: &Settings, names: &Names, why: String) -> Error {
    Error::NotReady {
        name: names.resource.clone(),
        why,
        status: format!("eden status -p {} --name {}", s.profile, names.env.as_str()),
    }
}

/// Adds why the deployment's tasks stopped, when ECS still knows.
async fn with_stopped(cloud: &Cloud, s: &Settings, w: &WaitFor<'_>, why: String) -> String {
    let name = &w.names.resource;
    match cloud
        .ecs
        .stopped_tasks(&s.target_cluster, name, w.task_definition)
        .await
    {
        Ok(reasons) if !reasons.is_empty() => {
            format!("{why}; stopped tasks: {}", reasons.join("; "))
        }
        _ => why,
    }
}

/// Where the deployment of `task_definition` stands.
pub fn rollout(service: &ServiceInfo, task_definition: &str) -> Rollout {
    let Some(ours) = service
        .deployments
        .iter()
        .find(|d| d.task_definition == task_definition)
    else {
        return Rollout::Failed(format!(
            "no deployment of {task_definition} (rolled back or replaced by another deploy)"
        ));
    };
    if ours.rollout_state.as_deref() == Some("FAILED") {
        let reason = ours.rollout_reason.as_deref().unwrap_or("no reason given");
        return Rollout::Failed(format!("rollout failed: {reason}"));
    }
    if ours.status != "PRIMARY" {
        return Rollout::Failed(format!(
            "deployment {} was replaced by a newer one",
            ours.id
        ));
    }
    let others = service.deployments.len() - 1;
    let done = match ours.rollout_state.as_deref() {
        Some(state) => state == "COMPLETED",
        // Without rollout tracking: the new tasks all run and the old deployments are gone.
        None => ours.running >= ours.desired && others == 0,
    };
    if done && others == 0 {
        Rollout::Ready
    } else {
        Rollout::Waiting(describe(ours, others))
    }
}

fn describe(d: &Deployment, others: usize) -> String {
    let mut text = format!(
        "rollout {}: {}/{} running",
        d.rollout_state.as_deref().unwrap_or("IN_PROGRESS"),
        d.running,
        d.desired
    );
    if d.pending > 0 {
        text.push_str(&format!(", {} pending", d.pending));
    }
    if d.failed_tasks > 0 {
        text.push_str(&format!(", {} failed", d.failed_tasks));
    }
    if others > 0 {
        text.push_str(&format!(", {others} older deployment(s) draining"));
    }
    text
}

/// Ready when every registered target is healthy; a group that reports no targets (no health
/// checks yet, or an emulator) does not hold the wait up once the rollout is done.
pub fn targets(health: &[TargetHealth]) -> Rollout {
    let healthy = health.iter().filter(|t| t.state == "healthy").count();
    if healthy == health.len() {
        return Rollout::Ready;
    }
    let mut states: Vec<String> = health
        .iter()
        .filter(|t| t.state != "healthy")
        .map(|t| match &t.reason {
            Some(reason) => format!("{} {} ({reason})", t.id, t.state),
            None => format!("{} {}", t.id, t.state),
        })
        .collect();
    states.sort();
    Rollout::Waiting(format!(
        "targets {healthy}/{} healthy: {}",
        health.len(),
        states.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(td: &str, status: &str, state: Option<&str>, running: i32) -> Deployment {
        Deployment {
            id: format!("ecs-svc/{td}"),
            status: status.into(),
            task_definition: td.into(),
            rollout_state: state.map(str::to_string),
            desired: 2,
            running,
            ..Default::default()
        }
    }

    fn service(deployments: Vec<Deployment>) -> ServiceInfo {
        ServiceInfo {
            arn: "arn".into(),
            name: "svc".into(),
            status: "ACTIVE".into(),
            task_definition: "td:2".into(),
            load_balancers: vec![],
            desired_count: 1,
            settings: crate::cloud::Template::new(()),
            running_count: 0,
            pending_count: 0,
            deployments,
            events: vec![],
            tags: vec![],
            not_copied: vec![],
        }
    }

    #[test]
    fn ready_only_when_the_new_deployment_completed_alone() {
        let new = deployment("td:2", "PRIMARY", Some("COMPLETED"), 2);
        assert_eq!(rollout(&service(vec![new.clone()]), "td:2"), Rollout::Ready);
        let old = deployment("td:1", "ACTIVE", Some("COMPLETED"), 2);
        assert!(matches!(
            rollout(&service(vec![new, old]), "td:2"),
            Rollout::Waiting(w) if w.contains("1 older deployment")
        ));
        let going = deployment("td:2", "PRIMARY", Some("IN_PROGRESS"), 1);
        assert_eq!(
            rollout(&service(vec![going]), "td:2"),
            Rollout::Waiting("rollout IN_PROGRESS: 1/2 running".into())
        );
    }

    #[test]
    fn a_failed_or_rolled_back_deployment_is_a_failure() {
        let mut failed = deployment("td:2", "PRIMARY", Some("FAILED"), 0);
        failed.rollout_reason =
            Some("ECS deployment circuit breaker: tasks failed to start.".into());
        assert!(matches!(
            rollout(&service(vec![failed]), "td:2"),
            Rollout::Failed(why) if why.contains("circuit breaker")
        ));
        let back = deployment("td:1", "PRIMARY", Some("IN_PROGRESS"), 0);
        assert!(matches!(
            rollout(&service(vec![back]), "td:2"),
            Rollout::Failed(why) if why.contains("rolled back")
        ));
    }

    #[test]
    fn without_rollout_tracking_counts_decide() {
        let d = deployment("td:2", "PRIMARY", None, 2);
        assert_eq!(rollout(&service(vec![d]), "td:2"), Rollout::Ready);
        let d = deployment("td:2", "PRIMARY", None, 1);
        assert!(matches!(
            rollout(&service(vec![d]), "td:2"),
            Rollout::Waiting(_)
        ));
    }

    #[test]
    fn targets_must_all_be_healthy() {
        let t = |id: &str, state: &str| TargetHealth {
            id: id.into(),
            state: state.into(),
            reason: None,
        };
        assert_eq!(targets(&[]), Rollout::Ready);
        assert_eq!(targets(&[t("a", "healthy")]), Rollout::Ready);
        assert_eq!(
            targets(&[t("a", "healthy"), t("b", "initial")]),
            Rollout::Waiting("targets 1/2 healthy: b initial".into())
        );
    }
}
