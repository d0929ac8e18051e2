//! Changes to the environments file with optimistic concurrency: each write is conditional on the
//! version that was read, and a lost race re-reads and redoes the change.

use tracing::debug;

use crate::cloud::{Cloud, Object, WriteCondition, WriteOutcome};
use crate::envfile::{Change, EnvironmentsFile};
use crate::error::Error;

/// The environments file as a run read it: the object (its ETag) and what it says.
pub type FileRead = (Option<Object>, EnvironmentsFile);

/// How many lost races a change survives before it gives up.
const MAX_ATTEMPTS: u32 = 12;

/// Reads the file; a missing file is an empty one. A file that does not parse is an error, so
/// that it is never overwritten.
pub async fn read(cloud: &Cloud, bucket: &str, key: &str) -> Result<FileRead, Error> {
    let object = cloud.store.get(bucket, key).await?;
    let file = match &object {
        Some(o) => {
            EnvironmentsFile::parse(&o.body).map_err(|why| Error::CorruptEnvironmentsFile {
                bucket: bucket.to_string(),
                key: key.to_string(),
                why,
            })?
        }
        None => EnvironmentsFile::empty(),
    };
    Ok((object, file))
}

/// Applies `change` to the file and writes it back conditionally, starting from `known` (a
/// version already read) when given. Returns what the change did.
pub async fn update(
    cloud: &Cloud,
    bucket: &str,
    key: &str,
    known: Option<FileRead>,
    change: impl Fn(&mut EnvironmentsFile) -> Change,
) -> Result<Change, Error> {
    let mut current = known;
    // What the last write refused did. A file that then shows the change made shows that write:
    // it landed, its answer was lost and the SDK's second send was refused (each run changes
    // only its own environment's key, under that environment's lease).
    let mut refused = None;
    for attempt in 1..=MAX_ATTEMPTS {
        let (object, mut file) = match current.take() {
            Some(known) => known,
            None => read(cloud, bucket, key).await?,
        };
        let outcome = change(&mut file);
        if outcome == Change::Unchanged {
            return Ok(refused.unwrap_or(outcome));
        }
        let condition = match &object {
            Some(o) => WriteCondition::IfMatch(&o.etag),
            None => WriteCondition::IfAbsent,
        };
        match cloud
            .store
            .put(bucket, key, file.to_bytes(), condition)
            .await?
        {
            WriteOutcome::Written => return Ok(outcome),
            WriteOutcome::Conflict => {
                refused = Some(outcome);
                debug!(
                    "s3://{bucket}/{key} changed under us (attempt {attempt}), reading it again"
                );
                tokio::time::sleep(super::backoff(attempt)).await;
            }
        }
    }
    Err(Error::Busy {
        what: format!("environments file s3://{bucket}/{key}"),
        why: format!("{MAX_ATTEMPTS} writes in a row lost to other writers"),
    })
}
