use eden_core::names::EnvName;
use eden_core::plan::{self, DeleteRequest};
use eden_core::Error;

use crate::args::DeleteArgs;
use crate::profiles;

pub async fn run(args: DeleteArgs) -> Result<(), Error> {
    let settings = profiles::settings(&args.common, &args.profile.profile, &args.keys)?;
    let request = DeleteRequest {
        name: EnvName::parse(&args.name)?,
        table: args.table.remote_table_name,
        wait: plan::DEFAULT_WAIT,
    };
    let cloud = eden_aws::connect().await?;
    if args.dry_run {
        let changes = plan::preview_delete(&cloud, &settings, &request).await?;
        crate::output::print_plan(args.output.format, &changes);
        return Ok(());
    }
    let deleted = plan::delete(&cloud, &settings, &request, &crate::signals::watch()).await?;
    if deleted.removed.is_empty() {
        tracing::info!("Nothing of environment {} was left to delete", deleted.name);
    }
    crate::output::print(args.output.format, &deleted, || deleted.name.clone());
    Ok(())
}
