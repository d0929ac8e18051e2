use std::collections::BTreeMap;

use eden_core::cloud::EnvironmentItem;
use eden_core::expiry::rfc3339;
use eden_core::remote;
use eden_core::Error;

use crate::args::LsArgs;

pub async fn run(args: LsArgs) -> Result<(), Error> {
    let cloud = eden_aws::connect().await?;
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
            let expiry = match item.expires_at {
                Some(at) => format!(", expires: {}", rfc3339(at)),
                None => String::new(),
            };
            text.push_str(&format!(
                "{} {} (last updated: {}{expiry})\n",
                item.name,
                item.endpoint,
                rfc3339(item.last_updated)
            ));
        }
        text.push('\n');
    }
    text.trim_end_matches('\n').to_string() + "\n"
}
