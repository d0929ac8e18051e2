use std::collections::BTreeMap;

use eden_core::cloud::EnvironmentItem;
use eden_core::remote;
use eden_core::Error;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::args::LsArgs;

pub async fn run(args: LsArgs) -> Result<(), Error> {
    let cloud = eden_aws::connect().await;
    let table = &args.table.remote_table_name;
    let grouped = remote::environments(&cloud, table, args.profile.as_deref()).await?;
    let document = serde_json::json!({ "environments": grouped });
    crate::output::print(args.output.format, &document, || listing(&grouped));
    Ok(())
}

/// As the seed prints it: a block per profile, a line per environment.
fn listing(grouped: &BTreeMap<String, Vec<EnvironmentItem>>) -> String {
    if grouped.is_empty() {
        return "No environments available".into();
    }
    let mut text = String::new();
    for (profile, items) in grouped {
        text.push_str(&format!("Profile {profile}:\n"));
        for item in items {
            text.push_str(&format!(
                "{} {} (last updated: {})\n",
                item.name,
                item.endpoint,
                timestamp(item.last_updated)
            ));
        }
        text.push('\n');
    }
    text.trim_end_matches('\n').to_string() + "\n"
}

fn timestamp(epoch: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| epoch.to_string())
}
