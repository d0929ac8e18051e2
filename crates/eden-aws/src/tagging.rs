//! Resource Groups Tagging API: eden's resources found by their tags, for `eden gc --orphans`.

use async_trait::async_trait;
use aws_sdk_resourcegroupstagging::types::TagFilter;
use aws_sdk_resourcegroupstagging::Client;
use eden_core::cloud::{self, Result, Tag, TaggedResource};

use crate::error::aws;

pub struct Tagging(pub Client);

#[async_trait]
impl cloud::ResourceTags for Tagging {
    async fn tagged(&self, tags: &[Tag]) -> Result<Vec<TaggedResource>> {
        let filters = tags
            .iter()
            .map(|(k, v)| TagFilter::builder().key(k).values(v).build())
            .collect();
        let mut pages = self
            .0
            .get_resources()
            .set_tag_filters(Some(filters))
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws("find resources tagged", "eden:managed-by=eden", e))?;
            found.extend(page.resource_tag_mapping_list().iter().map(|m| {
                TaggedResource {
                    arn: m.resource_arn().unwrap_or_default().to_string(),
                    tags: m
                        .tags()
                        .iter()
                        .map(|t| (t.key().to_string(), t.value().to_string()))
                        .collect(),
                }
            }));
        }
        Ok(found)
    }
}
