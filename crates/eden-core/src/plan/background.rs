//! Reads that run on their own and are awaited only by the step that needs them, so that a slow
//! service holds up nothing else: Route 53 answers from us-east-1 wherever the rest of the
//! account is.

use std::future::Future;

use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::error::Error;

/// A read started now; stopped when dropped before it is awaited.
pub struct Background<T>(JoinHandle<Result<T, Error>>);

impl<T: Send + 'static> Background<T> {
    pub fn start(read: impl Future<Output = Result<T, Error>> + Send + 'static) -> Self {
        Self(tokio::spawn(read.in_current_span()))
    }

    /// Whether the answer is in already.
    pub fn is_done(&self) -> bool {
        self.0.is_finished()
    }

    pub async fn get(mut self) -> Result<T, Error> {
        match (&mut self.0).await {
            Ok(answer) => answer,
            // Only a drop aborts the task, so the error is a panic of the read: raise it here,
            // as if the read had run inline.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

impl<T> Drop for Background<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
