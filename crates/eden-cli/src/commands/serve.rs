//! `eden serve`: the HTTP API on a socket, for teams that host it themselves.

use std::path::Path;

use eden_api::{ApiKeys, App};
use tracing::info;

use crate::args::ServeArgs;
use crate::Failure;

/// Where the keys come from when no file is given.
const KEYS_VARIABLE: &str = "EDEN_API_KEYS";

pub async fn run(args: ServeArgs) -> Result<(), Failure> {
    let keys = keys(args.api_keys_file.as_deref())?;
    let cloud = eden_aws::connect().await?;
    let app = App::new(cloud, args.table.remote_table_name, keys);
    let runs = app.runs.clone();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| {
            Failure::Serve(format!(
                "cannot listen on {}: {e}; choose another --listen address",
                args.listen
            ))
        })?;
    info!("eden API listening on http://{}", args.listen);
    axum::serve(listener, eden_api::router(app))
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| Failure::Serve(format!("the API server stopped: {e}")))?;
    // A run whose client hung up is no request in flight: it is waited for too.
    runs.close();
    runs.wait().await;
    info!("eden API stopped");
    Ok(())
}

/// The accepted keys; refuses to start without one, since the API changes AWS.
fn keys(file: Option<&Path>) -> Result<ApiKeys, Failure> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            Failure::Serve(format!("cannot read API keys file {}: {e}", path.display()))
        })?,
        None => std::env::var(KEYS_VARIABLE).unwrap_or_default(),
    };
    ApiKeys::parse(&text).ok_or_else(|| {
        Failure::Serve(format!(
            "no API key configured: set {KEYS_VARIABLE}=KEY[,KEY...] or pass --api-keys-file PATH"
        ))
    })
}

/// Ctrl-C or SIGTERM: finish the requests in flight, then stop.
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
