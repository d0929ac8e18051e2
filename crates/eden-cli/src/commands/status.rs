use eden_core::expiry::rfc3339;
use eden_core::names::EnvName;
use eden_core::plan::status::{self, Status};
use eden_core::plan::Stop;
use eden_core::Error;

use crate::args::StatusArgs;
use crate::profiles;

pub async fn run(args: StatusArgs) -> Result<(), Error> {
    let settings = profiles::settings(&args.common, &args.profile.profile, &args.keys)?;
    let env = EnvName::parse(&args.name)?;
    let cloud = eden_aws::connect().await?;
    let table = &args.table.remote_table_name;
    let found = status::status(&cloud, &settings, &env, table, &Stop::default()).await?;
    crate::output::print(args.output.format, &found, || text(&found));
    Ok(())
}

/// A line a resource, each with its ARN and state.
fn text(s: &Status) -> String {
    let missing = "missing";
    let mut lines = vec![
        format!("environment {} (profile {})", s.name, s.profile),
        format!("url           {}", s.url),
        format!("image         {}", s.image.as_deref().unwrap_or("unknown")),
    ];
    if let Some(at) = s.last_updated {
        lines.push(format!("last updated  {}", rfc3339(at)));
    }
    lines.push(format!(
        "expires       {}",
        s.expires_at.map_or("never".to_string(), rfc3339)
    ));
    lines.push(match &s.service {
        Some(svc) => format!(
            "service       {} {} ({}/{} running, {} pending)",
            svc.arn, svc.status, svc.running, svc.desired, svc.pending
        ),
        None => format!("service       {missing}"),
    });
    if let Some(d) = s
        .service
        .as_ref()
        .and_then(|svc| svc.last_deployment.as_ref())
    {
        lines.push(format!(
            "deployment    {} {} rollout {}{} ({})",
            d.id,
            d.status,
            d.rollout_state.as_deref().unwrap_or("n/a"),
            d.rollout_reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default(),
            d.task_definition
        ));
    }
    lines.push(match &s.target_group {
        Some(tg) => {
            let healthy = tg.targets.iter().filter(|t| t.state == "healthy").count();
            format!(
                "target group  {} ({healthy}/{} targets healthy)",
                tg.arn,
                tg.targets.len()
            )
        }
        None => format!("target group  {missing}"),
    });
    lines.push(match &s.listener_rule {
        Some(rule) => format!(
            "listener rule {} (priority {})",
            rule.arn,
            rule.priority.map_or("default".into(), |p| p.to_string())
        ),
        None => format!("listener rule {missing}"),
    });
    lines.push(if s.records.is_empty() {
        format!("records       {missing}")
    } else {
        format!("records       {} {}", s.endpoint, s.records.join(", "))
    });
    lines.push(format!(
        "state item    {}",
        if s.recorded { "recorded" } else { missing }
    ));
    lines.join("\n")
}
