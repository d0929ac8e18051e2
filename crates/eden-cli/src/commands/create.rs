use eden_core::image::ImageUri;
use eden_core::names::EnvName;
use eden_core::plan::{self, CreateRequest};
use eden_core::Error;

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
    };
    let cloud = eden_aws::connect().await;
    if args.dry_run {
        let changes = plan::preview_create(&cloud, &settings, &request).await?;
        crate::output::print_plan(args.output.format, &changes);
        return Ok(());
    }
    let created = plan::create(&cloud, &settings, &request, &crate::signals::watch()).await?;
    crate::output::print(args.output.format, &created, || created.endpoint.clone());
    Ok(())
}
