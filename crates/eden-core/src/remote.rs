//! Remote state in the DynamoDB table: pushed profiles (which the HTTP API uses) and the
//! environments that `eden ls` lists.

use std::collections::BTreeMap;

use tracing::info;

use crate::cloud::{Cloud, EnvironmentItem};
use crate::error::Error;
use crate::profile::{self, Profile};

/// Stores the profile, creating the table first when it is missing.
pub async fn push(cloud: &Cloud, table: &str, name: &str, profile: &Profile) -> Result<(), Error> {
    profile::check_name(name)?;
    if cloud.table.ensure_table(table).await? {
        info!("Created DynamoDB table {table}");
    }
    cloud
        .table
        .put_profile(table, name, &profile.to_remote_json())
        .await?;
    info!("Successfully pushed profile {name} to DynamoDB table {table}");
    Ok(())
}

/// The remote profile, or a clear error when it was never pushed or is corrupt.
pub async fn pull(cloud: &Cloud, table: &str, name: &str) -> Result<Profile, Error> {
    profile::check_name(name)?;
    let json =
        cloud
            .table
            .profile(table, name)
            .await?
            .ok_or_else(|| Error::UnknownRemoteProfile {
                profile: name.to_string(),
                table: table.to_string(),
            })?;
    Profile::from_remote_json(name, &json)
}

/// Environments grouped by profile, each group sorted by name.
pub async fn environments(
    cloud: &Cloud,
    table: &str,
    profile: Option<&str>,
) -> Result<BTreeMap<String, Vec<EnvironmentItem>>, Error> {
    if let Some(name) = profile {
        profile::check_name(name)?;
    }
    let mut grouped: BTreeMap<String, Vec<EnvironmentItem>> = BTreeMap::new();
    for item in cloud.table.environments(table, profile).await? {
        grouped.entry(item.profile.clone()).or_default().push(item);
    }
    for items in grouped.values_mut() {
        items.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(grouped)
}
