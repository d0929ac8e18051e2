//! DynamoDB cancels a write that meets another write of one of its items in flight: a run's
//! renewal of its lease beside its own transaction, a waiter's take beside the holder's. AWS
//! asks the caller to try again, and the SDK's own classifiers do not know these answers (moto
//! never gives them). A transaction is a lost race only when one of its conditions failed.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::error::TransactionCanceledException;
use aws_smithy_runtime_api::client::interceptors::context::{Error, InterceptorContext};
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};

/// Why DynamoDB cancels a transaction that may go through when tried again.
const TRANSIENT_REASONS: [&str; 3] = [
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
];

/// Whether the transaction was cancelled because one of its conditions failed.
pub fn condition_failed(cancelled: &TransactionCanceledException) -> bool {
    let mut codes = cancelled.cancellation_reasons().iter().map(|r| r.code());
    codes.any(|code| code == Some("ConditionalCheckFailed"))
}

/// Tries again a write cancelled by a conflict (or by throttling within a transaction), as the
/// SDK does a throttled call; a failed condition is an answer, never tried again.
#[derive(Debug)]
pub struct TransactionConflicts;

impl ClassifyRetry for TransactionConflicts {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(error)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        match error.as_operation_error() {
            Some(error) if conflicted(error) => RetryAction::transient_error(),
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "DynamoDB transaction conflicts"
    }
}

fn conflicted(error: &Error) -> bool {
    if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        error.downcast_ref()
    {
        let mut codes = cancelled.cancellation_reasons().iter().map(|r| r.code());
        return !condition_failed(cancelled)
            && codes.any(|code| code.is_some_and(|c| TRANSIENT_REASONS.contains(&c)));
    }
    let code = code_of::<PutItemError>(error)
        .or_else(|| code_of::<UpdateItemError>(error))
        .or_else(|| code_of::<DeleteItemError>(error));
    code == Some("TransactionConflictException")
}

fn code_of<E>(error: &Error) -> Option<&str>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    error.downcast_ref::<E>()?.code()
}
