//! ECR: whether the image to deploy exists, asked in the registry's own region.

use async_trait::async_trait;
use aws_config::{Region, SdkConfig};
use aws_sdk_ecr::types::ImageIdentifier;
use eden_core::cloud::{self, Result};
use eden_core::image::{ImageReference, ImageUri};

use crate::error::aws;

pub struct Ecr {
    sdk: SdkConfig,
}

impl Ecr {
    pub fn new(sdk: SdkConfig) -> Self {
        Self { sdk }
    }
}

#[async_trait]
impl cloud::Registry for Ecr {
    async fn image_exists(&self, image: &ImageUri) -> Result<bool> {
        let Some(registry) = &image.ecr else {
            return Ok(true);
        };
        let config = aws_sdk_ecr::config::Builder::from(&self.sdk)
            .region(Region::new(registry.region.clone()))
            .build();
        let client = aws_sdk_ecr::Client::from_conf(config);
        let id = match &image.reference {
            ImageReference::Tag(tag) => ImageIdentifier::builder().image_tag(tag).build(),
            ImageReference::Digest(digest) => {
                ImageIdentifier::builder().image_digest(digest).build()
            }
        };
        let sent = client
            .describe_images()
            .registry_id(&registry.account)
            .repository_name(&image.repository)
            .image_ids(id)
            .send()
            .await;
        match sent {
            Ok(out) => Ok(!out.image_details().is_empty()),
            Err(e)
                if e.as_service_error().is_some_and(|e| {
                    e.is_image_not_found_exception() || e.is_repository_not_found_exception()
                }) =>
            {
                Ok(false)
            }
            Err(e) => Err(aws("check image", &image.uri, e)),
        }
    }
}
