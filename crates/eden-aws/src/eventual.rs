//! AWS's services see one another's changes a moment late: a call refused because another
//! service has not seen a change yet is made again, after pauses that double.

use std::future::Future;
use std::time::Duration;

/// How many times such a call is made in all, with about 4 s of pauses between.
const ATTEMPTS: u32 = 5;
const FIRST_PAUSE: Duration = Duration::from_millis(250);

/// Makes `call` again while its error is one `not_yet` recognizes, up to [`ATTEMPTS`] times;
/// gives the last answer.
pub async fn until_seen<T, E, F>(
    not_yet: impl Fn(&E) -> bool,
    mut call: impl FnMut() -> F,
) -> Result<T, E>
where
    F: Future<Output = Result<T, E>>,
{
    let mut pause = FIRST_PAUSE;
    for _ in 1..ATTEMPTS {
        match call().await {
            Err(e) if not_yet(&e) => tokio::time::sleep(pause).await,
            answer => return answer,
        }
        pause *= 2;
    }
    call().await
}
