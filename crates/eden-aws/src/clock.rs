//! A service's clock, as the `Date` of its answers gives it. The state table's times (an
//! environment's last update and its expiry) are written and compared by DynamoDB's clock, never
//! by a machine's own, which may be minutes or hours off another machine's: a laptop's clock
//! behind must not make an environment expire early for a CI runner's `eden gc`. The SDK
//! corrects its signatures by the same header.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

/// How many seconds the service's clock was ahead of this machine's at its latest answer.
#[derive(Debug, Clone, Default)]
pub struct AnswerClock(Arc<Mutex<Option<i64>>>);

impl AnswerClock {
    /// Epoch seconds by the service's clock: this machine's, moved by how far off it was at the
    /// service's latest answer (this machine's own before any answer).
    pub fn now(&self) -> i64 {
        this_machines_now() + self.ahead().unwrap_or(0)
    }

    fn ahead(&self) -> MutexGuard<'_, Option<i64>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Intercept for AnswerClock {
    fn name(&self) -> &'static str {
        "AnswerClock"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let date = context.response().headers().get("date");
        if let Some(served) = date.and_then(|d| DateTime::from_str(d, Format::HttpDate).ok()) {
            *self.ahead() = Some(served.secs() - this_machines_now());
        }
        Ok(())
    }
}

fn this_machines_now() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH);
    since_epoch.map_or(0, |d| d.as_secs() as i64)
}
