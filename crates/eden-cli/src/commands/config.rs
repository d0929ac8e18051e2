//! `eden config`: the local profile file and the remote profiles in DynamoDB.

use eden_core::profile::{self, ConfigFile};
use eden_core::{doctor, remote, Error};
use tracing::{info, warn};

use crate::args::{CheckArgs, ConfigLsArgs, RemoteArgs, SetupArgs};

pub async fn setup(args: SetupArgs) -> Result<(), Error> {
    let path = args.common.config_file()?;
    let profile = &args.profile.profile;
    profile::check_name(profile)?;
    let overrides = args.keys.overrides();
    if overrides.is_empty() && !args.aws {
        return Err(Error::ConfigFile {
            path: path.display().to_string(),
            why: "no parameters to update were given; pass at least one --KEY VALUE, or --aws (see `eden config setup -h`)".into(),
        });
    }
    let mut file = ConfigFile::load(&path)?;
    for (key, value) in &overrides {
        info!("Setting {key} to {value} in profile {profile}");
        file.set(profile, *key, value);
    }
    if !overrides.is_empty() {
        file.save()?;
        info!("Saved profile {profile} to {}", path.display());
    }
    if !args.aws {
        info!("Run `eden config setup --aws -p {profile}` to record the listener, zone name and reference target group from AWS, which saves each run a round trip");
        return Ok(());
    }
    fill_in_from_aws(&mut file, profile, &args.table.remote_table_name).await?;
    file.save()?;
    info!(
        "Saved what AWS has to profile {profile} in {}",
        path.display()
    );
    Ok(())
}

/// `config setup --aws`: records what AWS has for the keys the profile leaves out, never over a
/// value the user gave, and warns of every prerequisite AWS lacks.
async fn fill_in_from_aws(file: &mut ConfigFile, name: &str, table: &str) -> Result<(), Error> {
    let profile = file.profile(name).unwrap_or_default();
    let settings = profile.settings(name)?;
    let cloud = eden_aws::connect().await?;
    for check in doctor::checks(&cloud, &settings, table).await {
        match &check.fix {
            Some(fix) if profile.get(fix.key).is_none() => {
                info!("Setting {} to {} in profile {name}", fix.name, fix.value);
                file.set(name, fix.key, &fix.value);
            }
            _ if !check.ok => warn!("{check}"),
            _ => {}
        }
    }
    Ok(())
}

pub async fn check(args: CheckArgs) -> Result<(), Error> {
    let path = args.common.config_file()?;
    if !path.exists() {
        return Err(Error::ConfigFile {
            path: path.display().to_string(),
            why: "it does not exist; create it with `eden config setup`".into(),
        });
    }
    let mut file = ConfigFile::load(&path)?;
    let names = match args.profile {
        Some(name) => vec![name],
        None => file.profile_names(),
    };
    let cloud = if args.aws {
        Some(eden_aws::connect().await?)
    } else {
        None
    };
    let all: Vec<_> = file
        .profile_names()
        .into_iter()
        .filter_map(|name| Some((name.clone(), file.profile(&name)?)))
        .collect();
    for warning in profile::name_warnings(&all) {
        warn!("{warning}");
    }
    // The file's problems, and the prerequisites AWS lacks.
    let (mut errors, mut failed_in_aws) = (0, 0);
    let mut lines = Vec::new();
    let mut document = serde_json::Map::new();
    for name in &names {
        let Some(profile) = file.profile(name) else {
            lines.push(format!(
                "Profile {name} is not in config file {}",
                path.display()
            ));
            document.insert(
                name.clone(),
                serde_json::json!({"problems": ["not in the config file"]}),
            );
            errors += 1;
            continue;
        };
        for unknown in file.unknown_keys(name) {
            warn!("Profile {name}: unknown key {unknown} is ignored");
        }
        let problems = profile.problems();
        errors += problems.len();
        lines.extend(problems.iter().map(|p| format!("Profile {name}: {p}")));
        let mut checks = Vec::new();
        if let (Some(cloud), true) = (&cloud, problems.is_empty()) {
            let settings = profile.settings(name)?;
            checks = doctor::checks(cloud, &settings, &args.table.remote_table_name).await;
            if args.fix {
                for check in &mut checks {
                    if let Some(fix) = &check.fix {
                        info!("Setting {} to {} in profile {name}", fix.name, fix.value);
                        file.set(name, fix.key, &fix.value);
                        check.fixed();
                    }
                }
            }
            failed_in_aws += checks.iter().filter(|c| !c.ok).count();
            lines.extend(checks.iter().map(|c| format!("Profile {name}: {c}")));
        }
        document.insert(
            name.clone(),
            serde_json::json!({"problems": problems, "checks": checks}),
        );
    }
    if args.fix {
        file.save()?;
    }
    let ok = errors + failed_in_aws == 0;
    if ok {
        lines.push("No errors found".into());
    }
    let document = serde_json::json!({"ok": ok, "profiles": document});
    crate::output::print(args.output.format, &document, || lines.join("\n"));
    match (errors, failed_in_aws) {
        (0, 0) => Ok(()),
        (0, failed) => Err(Error::Unprepared { failed }),
        (errors, failed) => Err(Error::ConfigFile {
            path: path.display().to_string(),
            why: format!(
                "found {} error(s); fix them as each line says",
                errors + failed
            ),
        }),
    }
}

pub async fn push(args: RemoteArgs) -> Result<(), Error> {
    let path = args.common.config_file()?;
    let name = &args.profile.profile;
    profile::check_name(name)?;
    let profile = ConfigFile::load(&path)?
        .profile(name)
        .ok_or_else(|| Error::UnknownProfile {
            profile: name.clone(),
            path: path.display().to_string(),
        })?;
    // A profile that cannot work is not worth sharing with the API.
    profile.settings(name)?;
    let cloud = eden_aws::connect().await?;
    remote::push(&cloud, &args.table.remote_table_name, name, &profile).await
}

pub async fn pull(args: RemoteArgs) -> Result<(), Error> {
    let path = args.common.config_file()?;
    let name = &args.profile.profile;
    let table = &args.table.remote_table_name;
    let cloud = eden_aws::connect().await?;
    let profile = remote::pull(&cloud, table, name).await?;
    let mut file = ConfigFile::load(&path)?;
    for (key, value) in profile.iter() {
        file.set(name, key, value);
    }
    file.save()?;
    info!(
        "Pulled profile {name} from DynamoDB table {table} into {}",
        path.display()
    );
    Ok(())
}

pub async fn ls(args: ConfigLsArgs) -> Result<(), Error> {
    let path = args.common.config_file()?;
    let table = &args.table.remote_table_name;
    let local = ConfigFile::load(&path)?.profile_names();
    let cloud = eden_aws::connect().await?;
    let mut remote = cloud.table.profiles(table).await?;
    remote.sort();
    let document = serde_json::json!({"local": local, "remote": remote});
    crate::output::print(args.output.format, &document, || {
        format!(
            "Local profiles ({}):\n{}\nRemote profiles (DynamoDB table {table}):\n{}",
            path.display(),
            lines(&local),
            lines(&remote)
        )
    });
    Ok(())
}

/// One name a line, each line ended.
fn lines(names: &[String]) -> String {
    names.iter().map(|n| format!("{n}\n")).collect()
}

pub async fn remote_rm(args: RemoteArgs) -> Result<(), Error> {
    let name = &args.profile.profile;
    profile::check_name(name)?;
    let table = &args.table.remote_table_name;
    let cloud = eden_aws::connect().await?;
    if cloud.table.delete_profile(table, name).await? {
        info!("Successfully removed profile {name} from DynamoDB table {table}");
    } else {
        info!("Profile {name} was not in DynamoDB table {table}, nothing to remove");
    }
    Ok(())
}
