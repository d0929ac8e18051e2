//! DynamoDB: the state table, in the original's later schema (hash `type`, range `name`, GSI
//! `kind_last_updated_gsi`), holding pushed profiles and the environments `eden ls` lists.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::builders::TransactWriteItemsFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, Put, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TableDescription, TableStatus,
    TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use eden_core::cloud::{
    self, EnvironmentItem, Fence, LeaseClaim, LeaseItem, LeaseTake, PreviousHolder, Release,
    Result, StateTable as _,
};
use eden_core::error::AwsFailure;
use eden_core::Error;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::clock::AnswerClock;
use crate::conflicts::condition_failed;
use crate::error::{aws, code};

const PROFILE_TYPE: &str = "_profile";
const LEASE_TYPE: &str = "_lease";
/// A lease item's holder, absent once given up.
const OWNER: &str = "owner";
const VERSION: &str = "version";
/// What the last holder left of the environment.
const LEFT: &str = "left";
const KIND_INDEX: &str = "kind_last_updated_gsi";
/// How long to wait for a new table to become ACTIVE.
const ACTIVE_WAIT: Duration = Duration::from_secs(120);

pub struct DynamoDb {
    client: Client,
    clock: AnswerClock,
}

impl DynamoDb {
    /// The state table over `client`, which learns DynamoDB's clock from its answers.
    pub fn new(client: Client) -> Self {
        let clock = AnswerClock::default();
        let config = client.config().to_builder().interceptor(clock.clone());
        Self {
            client: Client::from_conf(config.build()),
            clock,
        }
    }
}

type Item = HashMap<String, AttributeValue>;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn text<'a>(item: &'a Item, field: &str) -> Option<&'a str> {
    item.get(field)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// The error a table in the 0.1.x schema gives, with how to move on.
fn legacy(table: &str) -> Error {
    Error::StateTable {
        table: table.to_string(),
        why: "uses the eden 0.1.x schema (hash key env_name); push your profiles to a new table \
              with `eden config push --remote-table-name NEW` and use that name, or delete the old table"
            .into(),
    }
}

fn number(item: &Item, field: &str) -> Option<i64> {
    item.get(field)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.split('.').next()?.parse().ok())
}

const CONDITION_FAILED: &str = "ConditionalCheckFailedException";

/// A failed release, and whether it failed only because another run owns the lease now.
fn release_failure<E>(table: &str, e: SdkError<E, HttpResponse>) -> (bool, Error)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let taken_over = code(&e) == Some(CONDITION_FAILED);
    (taken_over, aws("release lease in table", table, e))
}

/// Whether a lease item is held. An item of eden before 0.3 always names an owner, and is
/// free once its `expires_at` is 0.
fn is_held(item: &Item) -> bool {
    item.contains_key(OWNER) && number(item, "expires_at") != Some(0)
}

/// A lease item's version; for an item of eden before 0.3, which has none, its expiry, which
/// its holder renewed.
fn version_of(item: &Item) -> String {
    match text(item, VERSION) {
        Some(version) => version.to_string(),
        None => format!(
            "expires_at:{}",
            number(item, "expires_at").unwrap_or_default()
        ),
    }
}

/// Who had the lease, from the item a take replaced.
fn previous_holder(old: Option<&Item>) -> PreviousHolder {
    match old.filter(|o| !o.is_empty()) {
        None => PreviousHolder::Nobody,
        Some(old) if is_held(old) => PreviousHolder::Expired,
        Some(old) => PreviousHolder::Released {
            left: text(old, LEFT).map(str::to_string),
        },
    }
}

/// Sends a transaction: false, changing nothing, when one of its conditions failed.
async fn transact(
    transaction: TransactWriteItemsFluentBuilder,
    action: &str,
    table: &str,
) -> Result<bool> {
    match transaction.send().await {
        Ok(_) => Ok(true),
        Err(e) if lost_race(&e) => Ok(false),
        Err(e) => Err(aws(action, table, e)),
    }
}

/// Whether a transaction was cancelled because one of its conditions failed (not by a conflict
/// the SDK tried again until it gave up).
fn lost_race<R>(e: &SdkError<TransactWriteItemsError, R>) -> bool {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            condition_failed(cancelled)
        }
        _ => false,
    }
}

/// A request the SDK refused to build: a defect of eden's, reported as a failed call.
fn invalid_request<'a>(
    action: &'a str,
    table: &'a str,
) -> impl Fn(aws_sdk_dynamodb::error::BuildError) -> Error + 'a {
    move |e| Error::aws(action, table, e.to_string(), AwsFailure::Other)
}

/// The attributes of a held lease item.
fn lease_attributes(key: &str, owner: &str, version: &str) -> Item {
    HashMap::from([
        ("type".to_string(), s(LEASE_TYPE)),
        ("name".to_string(), s(key)),
        (OWNER.to_string(), s(owner)),
        (VERSION.to_string(), s(version)),
        ("kind".to_string(), s("lease")),
    ])
}

/// The attributes of an environment's state item.
fn environment_attributes(item: &EnvironmentItem) -> Item {
    let mut attributes = HashMap::from([
        ("type".to_string(), s(&item.profile)),
        ("name".to_string(), s(&item.name)),
        ("endpoint".to_string(), s(&item.endpoint)),
        ("last_updated".to_string(), n(item.last_updated)),
        ("kind".to_string(), s("environment")),
    ]);
    // eden's own expiry, not DynamoDB's TTL: an item DynamoDB dropped by itself would leave the
    // environment's resources behind with nothing pointing at them.
    if let Some(at) = item.expires_at {
        attributes.insert("expires_at".into(), n(at));
    }
    if let Some(ttl) = item.ttl_seconds {
        attributes.insert("ttl_seconds".into(), n(ttl));
    }
    attributes
}

fn environment_item(i: &Item) -> EnvironmentItem {
    EnvironmentItem {
        profile: text(i, "type").unwrap_or_default().to_string(),
        name: text(i, "name").unwrap_or_default().to_string(),
        endpoint: text(i, "endpoint").unwrap_or_default().to_string(),
        last_updated: number(i, "last_updated").unwrap_or_default(),
        expires_at: number(i, "expires_at"),
        ttl_seconds: number(i, "ttl_seconds"),
    }
}

/// What keeps eden from using an existing table: the 0.1.x schema, or no `kind` index.
fn schema_problem(table: &str, desc: &TableDescription) -> Option<Error> {
    let hash = desc
        .key_schema()
        .iter()
        .find(|k| k.key_type() == &KeyType::Hash)
        .map(|k| k.attribute_name());
    if hash != Some("type") {
        return Some(legacy(table));
    }
    let indexed = desc
        .global_secondary_indexes()
        .iter()
        .any(|i| i.index_name() == Some(KIND_INDEX));
    (!indexed).then(|| Error::StateTable {
        table: table.to_string(),
        why: format!("has no index {KIND_INDEX}; add it (hash kind S, range last_updated N) or use a new table"),
    })
}

#[async_trait]
impl cloud::StateTable for DynamoDb {
    fn now(&self) -> i64 {
        self.clock.now()
    }

    async fn table_exists(&self, table: &str) -> Result<bool> {
        match self.client.describe_table().table_name(table).send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(aws("describe table", table, e)),
        }
    }

    async fn ensure_table(&self, table: &str) -> Result<bool> {
        let created = match self.client.describe_table().table_name(table).send().await {
            Ok(out) => {
                if let Some(problem) = out.table().and_then(|t| schema_problem(table, t)) {
                    return Err(problem);
                }
                false
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                self.create_table(table).await?;
                true
            }
            Err(e) => return Err(aws("describe table", table, e)),
        };
        self.wait_active(table).await?;
        Ok(created)
    }

    async fn take_lease(&self, table: &str, claim: &LeaseClaim) -> Result<LeaseTake> {
        match self.put_lease(table, claim).await? {
            Some(taken) => Ok(taken),
            // The first run against a new account makes the table, as the original does.
            None => {
                self.ensure_table(table).await?;
                self.put_lease(table, claim)
                    .await?
                    .ok_or_else(|| Error::StateTable {
                        table: table.to_string(),
                        why: "disappeared right after it was created; retry".into(),
                    })
            }
        }
    }

    async fn renew_lease(
        &self,
        table: &str,
        key: &str,
        owner: &str,
        version: &str,
    ) -> Result<bool> {
        let renewed = self
            .owned_lease_update(table, key, owner)
            .update_expression("SET #v = :v")
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_values(":v", s(version))
            .send()
            .await;
        match renewed {
            Ok(_) => Ok(true),
            Err(e) if code(&e) == Some(CONDITION_FAILED) => Ok(false),
            Err(e) => Err(aws("renew lease in table", table, e)),
        }
    }

    async fn take_back_lease(
        &self,
        table: &str,
        key: &str,
        owner: &str,
        released: &str,
        version: &str,
    ) -> Result<bool> {
        let taken = self
            .client
            .update_item()
            .table_name(table)
            .key("type", s(LEASE_TYPE))
            .key("name", s(key))
            // Without the free mark `expires_at = 0` too, which would let any run take it.
            .update_expression("SET #o = :me, #v = :v REMOVE #l, expires_at")
            .condition_expression("attribute_not_exists(#o) AND #v = :released")
            .expression_attribute_names("#o", OWNER)
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_names("#l", LEFT)
            .expression_attribute_values(":me", s(owner))
            .expression_attribute_values(":v", s(version))
            .expression_attribute_values(":released", s(released))
            .send()
            .await;
        match taken {
            Ok(_) => Ok(true),
            Err(e) if code(&e) == Some(CONDITION_FAILED) => Ok(false),
            Err(e) => Err(aws("take lease back in table", table, e)),
        }
    }

    async fn release_lease(
        &self,
        table: &str,
        key: &str,
        owner: &str,
        release: Release<'_>,
    ) -> Result<bool> {
        let released = match release {
            Release::Free { version, left } => {
                // `expires_at = 0` is how eden before 0.3 tells a free lease: it can take it.
                let update = self
                    .owned_lease_update(table, key, owner)
                    .expression_attribute_names("#v", VERSION)
                    .expression_attribute_names("#l", LEFT)
                    .expression_attribute_values(":v", s(version))
                    .expression_attribute_values(":free", n(0));
                let update = match left {
                    Some(left) => update
                        .update_expression("SET #v = :v, #l = :left, expires_at = :free REMOVE #o")
                        .expression_attribute_values(":left", s(left)),
                    None => {
                        update.update_expression("SET #v = :v, expires_at = :free REMOVE #o, #l")
                    }
                };
                update
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| release_failure(table, e))
            }
            Release::Dropped => self
                .client
                .delete_item()
                .table_name(table)
                .key("type", s(LEASE_TYPE))
                .key("name", s(key))
                .condition_expression("#o = :me")
                .expression_attribute_names("#o", OWNER)
                .expression_attribute_values(":me", s(owner))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| release_failure(table, e)),
            Release::WithEnvironment { profile, name } => {
                let invalid = invalid_request("build lease release", table);
                let lease = Delete::builder()
                    .table_name(table)
                    .key("type", s(LEASE_TYPE))
                    .key("name", s(key))
                    .condition_expression("#o = :me")
                    .expression_attribute_names("#o", OWNER)
                    .expression_attribute_values(":me", s(owner))
                    .build()
                    .map_err(&invalid)?;
                let environment = Delete::builder()
                    .table_name(table)
                    .key("type", s(profile))
                    .key("name", s(name))
                    .build()
                    .map_err(&invalid)?;
                self.client
                    .transact_write_items()
                    .transact_items(TransactWriteItem::builder().delete(lease).build())
                    .transact_items(TransactWriteItem::builder().delete(environment).build())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        // The lease item's condition failed: another run holds it.
                        (lost_race(&e), aws("release lease in table", table, e))
                    })
            }
        };
        match released {
            Ok(()) => Ok(true),
            // Another run took the lease over: it is theirs now.
            Err((true, _)) => Ok(false),
            Err((false, e)) => Err(e),
        }
    }

    async fn restore_lease(
        &self,
        table: &str,
        claim: &LeaseClaim,
        item: Option<&EnvironmentItem>,
    ) -> Result<bool> {
        let invalid = invalid_request("build lease restore", table);
        let absent = |attributes: Item| {
            Put::builder()
                .table_name(table)
                .set_item(Some(attributes))
                .condition_expression("attribute_not_exists(#n)")
                .expression_attribute_names("#n", "name")
                .build()
                .map_err(&invalid)
        };
        let lease = absent(lease_attributes(&claim.key, &claim.owner, &claim.version))?;
        let mut restore = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(lease).build());
        if let Some(item) = item {
            let environment = absent(environment_attributes(item))?;
            restore = restore.transact_items(TransactWriteItem::builder().put(environment).build());
        }
        // Cancelled: another run made either item meanwhile.
        transact(restore, "restore lease in table", table).await
    }

    async fn leases(&self, table: &str) -> Result<Vec<LeaseItem>> {
        let items = self.partition_items(table, LEASE_TYPE).await?;
        Ok(items
            .iter()
            .map(|i| LeaseItem {
                key: text(i, "name").unwrap_or_default().to_string(),
                owner: text(i, OWNER).filter(|_| is_held(i)).map(str::to_string),
                version: version_of(i),
            })
            .collect())
    }

    async fn lease_held(&self, table: &str, key: &str) -> Result<bool> {
        let item = self
            .item(table, LEASE_TYPE, key, "read lease from table")
            .await?;
        Ok(item.as_ref().is_some_and(is_held))
    }

    async fn put_environment(
        &self,
        table: &str,
        item: &EnvironmentItem,
        fence: &Fence,
    ) -> Result<bool> {
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(environment_attributes(item)))
            .build()
            .map_err(invalid_request("build environment record", table))?;
        let write = TransactWriteItem::builder().put(put).build();
        self.fenced(table, fence, write, "record environment in table")
            .await
    }

    async fn environment(
        &self,
        table: &str,
        profile: &str,
        name: &str,
    ) -> Result<Option<EnvironmentItem>> {
        let item = self
            .item(table, profile, name, "read environment from table")
            .await?;
        Ok(item.as_ref().map(environment_item))
    }

    async fn delete_environment(
        &self,
        table: &str,
        profile: &str,
        name: &str,
        fence: &Fence,
    ) -> Result<bool> {
        let delete = Delete::builder()
            .table_name(table)
            .key("type", s(profile))
            .key("name", s(name))
            .build()
            .map_err(invalid_request("build environment removal", table))?;
        let write = TransactWriteItem::builder().delete(delete).build();
        self.fenced(table, fence, write, "remove environment from table")
            .await
    }

    async fn environments(
        &self,
        table: &str,
        profile: Option<&str>,
    ) -> Result<Vec<EnvironmentItem>> {
        // One profile is one partition; all profiles are one index partition. Never a scan.
        let query = match profile {
            Some(p) => self.partition(table, p),
            None => self
                .client
                .query()
                .table_name(table)
                .index_name(KIND_INDEX)
                .key_condition_expression("#k = :v")
                .expression_attribute_names("#k", "kind")
                .expression_attribute_values(":v", s("environment")),
        };
        let items = match self.query_all(query, table).await {
            // No table, or a table without eden's index: say which.
            Err(Error::Aws { message, .. }) if message.starts_with("ResourceNotFoundException") => {
                return match self.schema_problem(table).await? {
                    Some(problem) => Err(problem),
                    None => Ok(Vec::new()),
                };
            }
            other => other?,
        };
        Ok(items
            .iter()
            .filter(|i| text(i, "kind") == Some("environment") || text(i, "endpoint").is_some())
            .filter(|i| text(i, "type") != Some(PROFILE_TYPE))
            .map(environment_item)
            .collect())
    }

    async fn put_profile(&self, table: &str, name: &str, json: &str) -> Result<()> {
        self.client
            .put_item()
            .table_name(table)
            .item("type", s(PROFILE_TYPE))
            .item("name", s(name))
            .item("profile", s(json))
            .item("kind", s("profile"))
            .send()
            .await
            .map_err(|e| aws("push profile to table", table, e))?;
        Ok(())
    }

    async fn profile(&self, table: &str, name: &str) -> Result<Option<String>> {
        let item = self
            .item(table, PROFILE_TYPE, name, "read profile from table")
            .await?;
        let Some(item) = item else {
            return Ok(None);
        };
        match text(&item, "profile") {
            Some(json) => Ok(Some(json.to_string())),
            None => Err(Error::CorruptRemoteProfile {
                profile: name.to_string(),
                why: "the item has no profile string".into(),
            }),
        }
    }

    async fn delete_profile(&self, table: &str, name: &str) -> Result<bool> {
        let out = match self
            .client
            .delete_item()
            .table_name(table)
            .key("type", s(PROFILE_TYPE))
            .key("name", s(name))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Ok(false)
            }
            Err(e) if code(&e) == Some("ValidationException") => return Err(legacy(table)),
            Err(e) => return Err(aws("remove profile from table", table, e)),
        };
        Ok(out.attributes().is_some_and(|a| !a.is_empty()))
    }

    async fn profiles(&self, table: &str) -> Result<Vec<String>> {
        let items = self.partition_items(table, PROFILE_TYPE).await?;
        Ok(items
            .iter()
            .filter_map(|i| text(i, "name"))
            .map(str::to_string)
            .collect())
    }
}

impl DynamoDb {
    /// One item, read consistently; None when it or the table does not exist.
    async fn item(
        &self,
        table: &str,
        kind: &str,
        name: &str,
        action: &str,
    ) -> Result<Option<Item>> {
        let read = self
            .client
            .get_item()
            .table_name(table)
            .key("type", s(kind))
            .key("name", s(name))
            .consistent_read(true)
            .send()
            .await;
        match read {
            Ok(out) => Ok(out.item),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) if code(&e) == Some("ValidationException") => Err(legacy(table)),
            Err(e) => Err(aws(action, table, e)),
        }
    }

    /// A query of one partition: the items whose `type` is `partition`.
    fn partition(&self, table: &str, partition: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(table)
            .key_condition_expression("#t = :v")
            .expression_attribute_names("#t", "type")
            .expression_attribute_values(":v", s(partition))
    }

    /// Every item of one partition; none when the table is missing.
    async fn partition_items(&self, table: &str, partition: &str) -> Result<Vec<Item>> {
        match self
            .query_all(self.partition(table, partition), table)
            .await
        {
            Err(Error::Aws { message, .. }) if message.starts_with("ResourceNotFoundException") => {
                Ok(Vec::new())
            }
            other => other,
        }
    }

    async fn query_all(&self, query: QueryFluentBuilder, table: &str) -> Result<Vec<Item>> {
        let mut pages = query.into_paginator().send();
        let mut items = Vec::new();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => items.extend(page.items().iter().cloned()),
                Err(e) if code(&e) == Some("ValidationException") => return Err(legacy(table)),
                Err(e) => return Err(aws("query table", table, e)),
            }
        }
        Ok(items)
    }

    /// `write`, in one transaction with the check that `fence` is held: false, writing nothing,
    /// when it is not.
    async fn fenced(
        &self,
        table: &str,
        fence: &Fence,
        write: TransactWriteItem,
        action: &str,
    ) -> Result<bool> {
        let held = ConditionCheck::builder()
            .table_name(table)
            .key("type", s(LEASE_TYPE))
            .key("name", s(&fence.key))
            .condition_expression("#o = :me")
            .expression_attribute_names("#o", OWNER)
            .expression_attribute_values(":me", s(&fence.owner))
            .build()
            .map_err(invalid_request("build lease check", table))?;
        let written = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(held).build())
            .transact_items(write);
        // Cancelled: the lease's condition failed, another run holds it.
        transact(written, action, table).await
    }

    /// An update of a lease item on the condition that `owner` holds it.
    fn owned_lease_update(&self, table: &str, key: &str, owner: &str) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(table)
            .key("type", s(LEASE_TYPE))
            .key("name", s(key))
            .condition_expression("#o = :me")
            .expression_attribute_names("#o", OWNER)
            .expression_attribute_values(":me", s(owner))
    }

    /// Whether the lease was taken, or None when the table does not exist.
    async fn put_lease(&self, table: &str, claim: &LeaseClaim) -> Result<Option<LeaseTake>> {
        // Free: never held, given up, or given up by eden before 0.3.
        let mut condition = "attribute_not_exists(#o) OR expires_at = :zero".to_string();
        let mut put = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(lease_attributes(
                &claim.key,
                &claim.owner,
                &claim.version,
            )))
            .expression_attribute_names("#o", OWNER)
            .expression_attribute_values(":zero", n(0))
            .return_values(ReturnValue::AllOld)
            // The version of the lease that is held.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match claim
            .takeover
            .as_deref()
            .map(|v| (v, v.strip_prefix("expires_at:")))
        {
            None => {}
            Some((_, Some(expires_at))) => {
                condition.push_str(" OR (attribute_not_exists(#v) AND expires_at = :seen)");
                put = put
                    .expression_attribute_names("#v", VERSION)
                    .expression_attribute_values(
                        ":seen",
                        AttributeValue::N(expires_at.to_string()),
                    );
            }
            Some((seen, None)) => {
                condition.push_str(" OR #v = :seen");
                put = put
                    .expression_attribute_names("#v", VERSION)
                    .expression_attribute_values(":seen", s(seen));
            }
        }
        let put = put.condition_expression(condition).send().await;
        match put {
            Ok(out) => Ok(Some(LeaseTake::Taken(previous_holder(
                out.attributes.as_ref(),
            )))),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                let holder = match e.into_service_error() {
                    PutItemError::ConditionalCheckFailedException(e) => e.item,
                    _ => None,
                };
                Ok(Some(LeaseTake::Held {
                    version: holder.as_ref().map(version_of).unwrap_or_default(),
                }))
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) if code(&e) == Some("ValidationException") => {
                self.ensure_table(table).await?;
                Err(aws("take lease in table", table, e))
            }
            Err(e) => Err(aws("take lease in table", table, e)),
        }
    }

    /// The problem with an existing table, or None when it is missing or fine.
    async fn schema_problem(&self, table: &str) -> Result<Option<Error>> {
        match self.client.describe_table().table_name(table).send().await {
            Ok(out) => Ok(out.table().and_then(|t| schema_problem(table, t))),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(aws("describe table", table, e)),
        }
    }

    async fn create_table(&self, table: &str) -> Result<()> {
        let invalid = invalid_request("build table definition", table);
        let attr = |name: &str, kind: ScalarAttributeType| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(kind)
                .build()
                .map_err(&invalid)
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(&invalid)
        };
        let index = GlobalSecondaryIndex::builder()
            .index_name(KIND_INDEX)
            .key_schema(key("kind", KeyType::Hash)?)
            .key_schema(key("last_updated", KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(&invalid)?;
        let created = self
            .client
            .create_table()
            .table_name(table)
            .attribute_definitions(attr("type", ScalarAttributeType::S)?)
            .attribute_definitions(attr("name", ScalarAttributeType::S)?)
            .attribute_definitions(attr("kind", ScalarAttributeType::S)?)
            .attribute_definitions(attr("last_updated", ScalarAttributeType::N)?)
            .key_schema(key("type", KeyType::Hash)?)
            .key_schema(key("name", KeyType::Range)?)
            .global_secondary_indexes(index)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            // Another eden created it at the same moment.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(aws("create table", table, e)),
        }
    }

    async fn wait_active(&self, table: &str) -> Result<()> {
        let started = std::time::Instant::now();
        let mut announced = false;
        loop {
            let out = self
                .client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(|e| aws("describe table", table, e))?;
            match out.table().and_then(|t| t.table_status()) {
                Some(TableStatus::Active) => return Ok(()),
                Some(TableStatus::Creating | TableStatus::Updating)
                    if started.elapsed() < ACTIVE_WAIT =>
                {
                    if !announced {
                        tracing::info!("Waiting for table creation...");
                        announced = true;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                status => {
                    return Err(Error::StateTable {
                        table: table.to_string(),
                        why: format!(
                            "is {}; retry when it is ACTIVE",
                            status
                                .map(|s| s.as_str().to_string())
                                .unwrap_or_else(|| "unknown".into())
                        ),
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(extra: &[(&str, AttributeValue)]) -> Item {
        let mut item = lease_attributes("api/dev-api-foo", "aa", "v1");
        for (key, value) in extra {
            item.insert(key.to_string(), value.clone());
        }
        item
    }

    #[test]
    fn the_item_a_take_replaced_tells_who_had_the_lease() {
        assert_eq!(previous_holder(None), PreviousHolder::Nobody);
        assert_eq!(previous_holder(Some(&lease(&[]))), PreviousHolder::Expired);
        let mut free = lease(&[(LEFT, s("{}"))]);
        free.remove(OWNER);
        assert_eq!(
            previous_holder(Some(&free)),
            PreviousHolder::Released {
                left: Some("{}".into())
            }
        );
        // As eden before 0.3 left them: given up, and held.
        let mut old = lease(&[("expires_at", n(0)), ("released_at", n(1_500))]);
        old.remove(VERSION);
        assert_eq!(
            previous_holder(Some(&old)),
            PreviousHolder::Released { left: None }
        );
        old.insert("expires_at".into(), n(1_700_000_000));
        assert_eq!(previous_holder(Some(&old)), PreviousHolder::Expired);
        assert_eq!(version_of(&old), "expires_at:1700000000");
        assert_eq!(version_of(&lease(&[])), "v1");
    }
}
