//! Ctrl-C and SIGTERM (a cancelled CI job) ask a running create or delete to stop before its
//! next step; a create then undoes what it made. A second signal exits at once.

use eden_core::plan::Stop;
use tracing::warn;

/// Exit code of a run stopped by a second signal, as shells report SIGINT.
const INTERRUPTED: i32 = 130;

/// Starts watching for signals; the returned handle is set on the first one.
pub fn watch() -> Stop {
    let stop = Stop::default();
    let handle = stop.clone();
    tokio::spawn(async move {
        loop {
            if !next_signal().await {
                return;
            }
            if handle.is_requested() {
                std::process::exit(INTERRUPTED);
            }
            warn!(
                "Interrupted: finishing the calls in flight, then stopping (again to quit at once)"
            );
            handle.request();
        }
    });
    stop
}

/// Waits for SIGINT or SIGTERM; false when signals cannot be watched.
#[cfg(unix)]
async fn next_signal() -> bool {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return false;
    };
    tokio::select! {
        _ = interrupt.recv() => true,
        _ = terminate.recv() => true,
    }
}

#[cfg(not(unix))]
async fn next_signal() -> bool {
    tokio::signal::ctrl_c().await.is_ok()
}
