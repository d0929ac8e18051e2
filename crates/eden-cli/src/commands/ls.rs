use eden_core::remote;
use eden_core::Error;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::args::LsArgs;

pub async fn run(args: LsArgs) -> Result<(), Error> {
    let cloud = eden_aws::connect().await;
    let table = &args.table.remote_table_name;
    let grouped = remote::environments(&cloud, table, args.profile.as_deref()).await?;
    if grouped.is_empty() {
        println!("No environments available");
        return Ok(());
    }
    for (profile, items) in grouped {
        println!("Profile {profile}:");
        for item in items {
            println!(
                "{} {} (last updated: {})",
                item.name,
                item.endpoint,
                timestamp(item.last_updated)
            );
        }
        println!();
    }
    Ok(())
}

fn timestamp(epoch: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| epoch.to_string())
}
