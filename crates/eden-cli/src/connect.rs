//! The AWS clients a command uses, with the hints earlier runs on this machine learned (see
//! `eden_core::hints`), kept in the user's cache directory.

use std::path::PathBuf;
use std::sync::OnceLock;

use eden_core::cloud::Cloud;
use eden_core::hints::Hints;
use tracing::debug;

static HINTS: OnceLock<(PathBuf, Hints)> = OnceLock::new();

pub async fn connect() -> Cloud {
    let mut cloud = eden_aws::connect().await;
    if let Some(path) = hints_file() {
        let (_, hints) = HINTS.get_or_init(|| {
            let hints = Hints::load(&path);
            (path, hints)
        });
        cloud.hints = hints.clone();
    }
    cloud
}

/// Keeps what this run learned for the next; a cache that cannot be written only costs time.
pub fn save_hints() {
    if let Some((path, hints)) = HINTS.get() {
        if let Err(e) = hints.save(path) {
            debug!("could not save hints to {}: {e}", path.display());
        }
    }
}

/// `$XDG_CACHE_HOME/eden/hints.json`, else `~/.cache/eden/hints.json`.
fn hints_file() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(cache.join("eden").join("hints.json"))
}
