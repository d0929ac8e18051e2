use std::io::IsTerminal;
use std::time::Duration;

use eden_core::expiry::{parse_duration, Ttl};
use eden_core::image::ImageUri;
use eden_core::names::EnvName;
use eden_core::overrides::EnvVar;
use eden_core::plan::wait::{self, WaitFor};
use eden_core::plan::{self, CreateRequest, Stop};
use eden_core::profile::Settings;
use eden_core::Error;
use tracing::info;

use crate::args::CreateArgs;
use crate::profiles;

pub async fn run(args: CreateArgs) -> Result<(), Error> {
    // Every input is checked before the first AWS call.
    let settings = profiles::settings(&args.common, &args.profile.profile, &args.keys)?;
    let request = CreateRequest {
        name: EnvName::parse(&args.name)?,
        image: ImageUri::parse(&args.image_uri)?,
        table: args.table.remote_table_name,
        wait: plan::DEFAULT_WAIT,
        environment: EnvVar::parse_all(&args.set_env)?,
        ttl: args.ttl.as_deref().map(Ttl::parse).transpose()?,
    };
    let timeout = parse_duration("--timeout", &args.timeout)?;
    let cloud = eden_aws::connect().await?;
    if args.dry_run {
        let changes = plan::preview_create(&cloud, &settings, &request).await?;
        crate::output::print_plan(args.output.format, &changes);
        return Ok(());
    }
    let stop = crate::signals::watch();
    let created = plan::create(&cloud, &settings, &request, &stop).await?;
    let mut document = serde_json::to_value(&created).unwrap_or_default();
    if args.wait {
        let names = settings.names(&request.name);
        let until = WaitFor {
            names: &names,
            task_definition: &created.task_definition,
            records_change: created.records_change.as_deref(),
            timeout,
            poll: wait::POLL,
        };
        wait_until_ready(&cloud, &settings, &until, &stop).await?;
        document["ready"] = true.into();
    }
    crate::output::print(args.output.format, &document, || created.endpoint.clone());
    Ok(())
}

/// Waits with a spinner showing the state on a terminal, else a log line per change of state.
async fn wait_until_ready(
    cloud: &eden_core::cloud::Cloud,
    settings: &Settings,
    until: &WaitFor<'_>,
    stop: &Stop,
) -> Result<(), Error> {
    let name = &until.names.resource;
    info!("Waiting for environment {name} to be ready");
    let spinner = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let mut progress = |state: &str| match &spinner {
        Some(bar) => bar.set_message(format!("{name}: {state}")),
        None => info!("{name}: {state}"),
    };
    let outcome = wait::until_ready(cloud, settings, until, stop, &mut progress).await;
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    outcome?;
    info!("Environment {name} is ready");
    Ok(())
}
