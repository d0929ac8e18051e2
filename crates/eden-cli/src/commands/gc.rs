use async_trait::async_trait;
use eden_core::cloud::Cloud;
use eden_core::expiry::rfc3339;
use eden_core::plan::gc::{self, GcRequest, ProfileSource, Reason, Swept};
use eden_core::plan::{self};
use eden_core::profile::{ConfigFile, Settings};
use eden_core::{remote, Error};
use tracing::{info, warn};

use crate::args::GcArgs;

pub async fn run(args: GcArgs) -> Result<(), Error> {
    let cloud = eden_aws::connect().await?;
    let req = GcRequest {
        profile: args.profile,
        orphans: args.orphans,
        dry_run: args.dry_run,
        table: args.table.remote_table_name,
        wait: plan::DEFAULT_WAIT,
    };
    let mut profiles = Profiles {
        file: ConfigFile::load(&args.common.config_file()?)?,
        cloud: &cloud,
        table: &req.table,
    };
    let report = gc::collect(&cloud, &req, &mut profiles, &crate::signals::watch()).await?;
    let mut document = serde_json::json!({"dry_run": req.dry_run, "environments": report.swept});
    if !report.skipped.is_empty() {
        document["skipped"] = serde_json::json!(report.skipped);
    }
    crate::output::print(args.output.format, &document, || {
        text(&report.swept, req.dry_run)
    });
    // A skipped profile fails the run, after the others were swept, so that a schedule shows it.
    let skipped = report.skipped.iter().map(|s| Error::ProfileSkipped {
        profile: s.profile.clone(),
        why: s.why.clone(),
    });
    let mut failures = report.failures.into_iter().chain(skipped);
    match failures.next() {
        None => Ok(()),
        Some(first) => {
            for other in failures {
                warn!("{other}");
            }
            Err(first)
        }
    }
}

fn text(swept: &[Swept], dry_run: bool) -> String {
    if swept.is_empty() {
        return "Nothing to collect".into();
    }
    let verb = if dry_run { "Would delete" } else { "Deleted" };
    swept
        .iter()
        .map(|s| {
            let why = match (s.reason, s.expires_at) {
                (Reason::Expired, Some(at)) => format!("expired {}", rfc3339(at)),
                (Reason::Expired, None) => "expired".into(),
                (Reason::Orphan, _) => format!("orphan: {}", s.found.join(", ")),
                (Reason::Lease, _) => format!("nothing but {}", s.found.join(", ")),
            };
            match &s.kept {
                Some(kept) => format!("Kept {} (profile {}): {kept}", s.name, s.profile),
                None => format!("{verb} {} (profile {}, {why})", s.name, s.profile),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Profiles by name: the config file's, else the ones pushed to the state table (the API's).
struct Profiles<'a> {
    file: ConfigFile,
    cloud: &'a Cloud,
    table: &'a str,
}

#[async_trait]
impl ProfileSource for Profiles<'_> {
    async fn settings(&mut self, name: &str) -> Result<Settings, Error> {
        let profile = match self.file.profile(name) {
            Some(profile) => profile,
            None => {
                info!("Profile {name} is not in the config file, using the remote one");
                remote::pull(self.cloud, self.table, name).await?
            }
        };
        profile.settings(name)
    }

    async fn all(&mut self) -> Result<Vec<String>, Error> {
        Ok(self.file.profile_names())
    }
}
