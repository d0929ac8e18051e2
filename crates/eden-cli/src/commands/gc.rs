use std::collections::BTreeMap;

use eden_core::cloud::Cloud;
use eden_core::expiry::rfc3339;
use eden_core::plan::gc::{self, Reason, Swept};
use eden_core::plan::{self};
use eden_core::profile::{ConfigFile, Settings};
use eden_core::{remote, Error};
use tracing::{info, warn};

use crate::args::GcArgs;

pub async fn run(args: GcArgs) -> Result<(), Error> {
    let cloud = eden_aws::connect().await;
    let table = &args.table.remote_table_name;
    let path = args.common.config_file();
    let file = ConfigFile::load(&path)?;
    let mut settings = Profiles {
        file,
        cloud: &cloud,
        table,
        loaded: BTreeMap::new(),
    };

    let mut found: Vec<(Settings, Swept)> = Vec::new();
    for item in gc::expired(&cloud, table, args.profile.as_deref()).await? {
        let s = settings.get(&item.profile).await?;
        found.push((s, Swept::from(&item)));
    }
    if args.orphans {
        let profiles = match &args.profile {
            Some(p) => vec![p.clone()],
            None => settings.file.profile_names(),
        };
        for profile in profiles {
            let s = settings.get(&profile).await?;
            for orphan in gc::orphans(&cloud, &s, table).await? {
                found.push((s.clone(), orphan));
            }
        }
    }

    let (swept, failures) = if args.dry_run {
        (found.into_iter().map(|(_, swept)| swept).collect(), Vec::new())
    } else {
        let stop = crate::signals::watch();
        let outcomes = gc::sweep(&cloud, found, table, plan::DEFAULT_WAIT, &stop).await;
        let (ok, failed): (Vec<_>, Vec<_>) = outcomes.into_iter().partition(Result::is_ok);
        (
            ok.into_iter().filter_map(Result::ok).collect::<Vec<_>>(),
            failed.into_iter().filter_map(Result::err).collect(),
        )
    };
    let document = serde_json::json!({"dry_run": args.dry_run, "environments": swept});
    crate::output::print(args.output.format, &document, || text(&swept, args.dry_run));
    let mut failures = failures.into_iter();
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
    loaded: BTreeMap<String, Settings>,
}

impl Profiles<'_> {
    async fn get(&mut self, name: &str) -> Result<Settings, Error> {
        if let Some(s) = self.loaded.get(name) {
            return Ok(s.clone());
        }
        let profile = match self.file.profile(name) {
            Some(profile) => profile,
            None => {
                info!("Profile {name} is not in the config file, using the remote one");
                remote::pull(self.cloud, self.table, name).await?
            }
        };
        let s = profile.settings(name)?;
        self.loaded.insert(name.to_string(), s.clone());
        Ok(s)
    }
}
