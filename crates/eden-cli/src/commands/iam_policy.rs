use eden_core::{iam, Error};
use tracing::warn;

use crate::args::IamPolicyArgs;
use crate::{output, profiles};

pub fn run(args: IamPolicyArgs) -> Result<(), Error> {
    let settings = profiles::settings(&args.common, &args.profile.profile, &args.keys)?;
    if settings.zone_name.is_none() {
        warn!("The profile has no dynamic_zone_name: record changes are not limited to its host names; add it with `eden config setup --dynamic-zone-name ZONE`");
    }
    let policy = iam::policy(&settings, &args.table.remote_table_name);
    output::print_line(&format!("{policy:#}"));
    Ok(())
}
