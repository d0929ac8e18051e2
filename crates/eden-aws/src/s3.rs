//! S3: the environments file, read with its ETag and written only over the version read.

use async_trait::async_trait;
use aws_sdk_s3::Client;
use eden_core::cloud::{self, Object, Result, WriteCondition, WriteOutcome};
use eden_core::error::AwsFailure;
use eden_core::Error;

use crate::error::{aws, code};

pub struct S3(pub Client);

#[async_trait]
impl cloud::ObjectStore for S3 {
    async fn get(&self, bucket: &str, key: &str) -> Result<Option<Object>> {
        let path = format!("s3://{bucket}/{key}");
        let out = match self.0.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(e) if code(&e) == Some("NoSuchBucket") => {
                return Err(Error::missing(
                    "S3 bucket",
                    bucket,
                    "check config_bucket_name in the profile",
                ))
            }
            Err(e) => return Err(aws("read", &path, e)),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| Error::aws("read", &path, e.to_string(), AwsFailure::Unreachable))?
            .into_bytes()
            .to_vec();
        Ok(Some(Object { body, etag }))
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        condition: WriteCondition<'_>,
    ) -> Result<WriteOutcome> {
        let request = self
            .0
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/json")
            .body(body.into());
        let request = match condition {
            WriteCondition::IfMatch(etag) => request.if_match(etag),
            WriteCondition::IfAbsent => request.if_none_match("*"),
        };
        match request.send().await {
            Ok(_) => Ok(WriteOutcome::Written),
            // 412: someone wrote first; 409: a write to the same key is in flight; 404: the
            // object read was deleted since.
            Err(e)
                if matches!(
                    code(&e),
                    Some("PreconditionFailed" | "ConditionalRequestConflict" | "NoSuchKey")
                ) =>
            {
                Ok(WriteOutcome::Conflict)
            }
            Err(e) => Err(aws("write", &format!("s3://{bucket}/{key}"), e)),
        }
    }
}
