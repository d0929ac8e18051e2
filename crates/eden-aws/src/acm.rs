//! ACM: which names a listener certificate covers, for `eden config check --aws`.

use async_trait::async_trait;
use aws_sdk_acm::Client;
use eden_core::cloud::{self, Result};

use crate::error::aws;

pub struct Acm(pub Client);

#[async_trait]
impl cloud::Certificates for Acm {
    async fn domains(&self, arn: &str) -> Result<Option<Vec<String>>> {
        let out = match self
            .0
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(aws("describe certificate", arn, e)),
        };
        let Some(certificate) = out.certificate else {
            return Ok(None);
        };
        let mut domains: Vec<String> = certificate.domain_name.into_iter().collect();
        domains.extend(certificate.subject_alternative_names.unwrap_or_default());
        Ok(Some(domains))
    }
}
