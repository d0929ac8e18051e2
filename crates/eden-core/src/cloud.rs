//! The seam between eden's logic and AWS: one narrow trait per service, in eden's own terms.
//! `eden-aws` implements them with the SDK; tests can wrap them to inject faults.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::Error;
use crate::image::ImageUri;
use crate::overrides::EnvVar;

pub type Result<T> = std::result::Result<T, Error>;

/// A resource tag.
pub type Tag = (String, String);

/// A random id of 32 hex characters: a run's owner id, a lease version, a call's idempotency
/// token. No host name, no clock.
pub fn random_id() -> String {
    format!("{:016x}{:016x}", random_u64(), random_u64())
}

/// A random number, from the standard library's random hash keys.
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

/// A reference resource as an adapter read it, opaque to the core: read once while checking,
/// handed back to make the copy, so that the copy waits for no second read.
#[derive(Clone)]
pub struct Template(Arc<dyn Any + Send + Sync>);

impl Template {
    pub fn new<T: Any + Send + Sync>(value: T) -> Self {
        Self(Arc::new(value))
    }

    /// The adapter's own value, when this template is of its type.
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Template(..)")
    }
}

/// A task definition to copy: its ARN and container names, and the adapter's own copy of it.
#[derive(Debug, Clone)]
pub struct TaskTemplate {
    pub arn: String,
    pub containers: Vec<String>,
    pub template: Template,
}

/// What eden reads of an ECS service.
#[derive(Debug, Clone)]
pub struct ServiceInfo {
    pub arn: String,
    pub name: String,
    /// ACTIVE, DRAINING or INACTIVE.
    pub status: String,
    pub task_definition: String,
    pub load_balancers: Vec<ServiceLoadBalancer>,
    pub desired_count: i32,
    /// What a copy takes over (its launch type, network, deployment settings...), in the
    /// adapter's own terms: the core hands it back to make the copy.
    pub settings: Template,
    pub running_count: i32,
    pub pending_count: i32,
    /// Newest first, as ECS lists them.
    pub deployments: Vec<Deployment>,
    /// The latest service events' messages, newest first.
    pub events: Vec<String>,
    /// Who made it (see [`crate::ownership`]).
    pub tags: Vec<Tag>,
    /// The settings a copy does not take over, each with what that means for the copy:
    /// `Service Connect, which a copy does not take over: ...`.
    pub not_copied: Vec<String>,
}

/// One of a service's deployments: the rollout of one task definition.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Deployment {
    pub id: String,
    /// PRIMARY (the newest), ACTIVE (being replaced) or INACTIVE.
    pub status: String,
    pub task_definition: String,
    /// IN_PROGRESS, COMPLETED or FAILED; None where ECS does not track rollouts.
    pub rollout_state: Option<String>,
    pub rollout_reason: Option<String>,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub failed_tasks: i32,
    /// Epoch seconds.
    pub updated_at: Option<i64>,
}

impl ServiceInfo {
    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }

    /// Deleted, while ECS stops its tasks: ECS refuses a new service of its name until then.
    pub fn is_draining(&self) -> bool {
        self.status == "DRAINING"
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLoadBalancer {
    pub target_group_arn: Option<String>,
    pub container_name: Option<String>,
    pub container_port: Option<i32>,
}

/// A new task definition family revision: the reference's, with one container's image replaced.
#[derive(Debug, Clone)]
pub struct TaskDefinitionCopy {
    /// From [`Ecs::task_definition_template`].
    pub template: Template,
    pub family: String,
    pub container: String,
    pub image: String,
    /// Environment variables set or overridden in that container.
    pub environment: Vec<EnvVar>,
    pub tags: Vec<Tag>,
}

/// A new service: the reference's settings, attached to its own target group.
#[derive(Debug, Clone)]
pub struct NewService {
    pub cluster: String,
    pub name: String,
    pub task_definition: String,
    pub target_group_arn: String,
    pub container_name: String,
    pub container_port: i32,
    /// The reference's [`ServiceInfo::settings`].
    pub settings: Template,
    pub tags: Vec<Tag>,
}

/// One target of a target group, as its health checks see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TargetHealth {
    pub id: String,
    /// initial, healthy, unhealthy, unused, draining or unavailable.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[async_trait]
pub trait Ecs: Send + Sync {
    /// Whether the cluster exists and is ACTIVE.
    async fn cluster_exists(&self, cluster: &str) -> Result<bool>;
    /// Why the service's recently stopped tasks of this task definition stopped.
    async fn stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        task_definition: &str,
    ) -> Result<Vec<String>>;
    /// The image of one container of a task definition.
    async fn container_image(
        &self,
        task_definition: &str,
        container: &str,
    ) -> Result<Option<String>>;
    /// The services of these names the cluster has (up to 10), in any order.
    async fn services(&self, cluster: &str, names: &[&str]) -> Result<Vec<ServiceInfo>>;
    /// The service, or None when the cluster has no service of that name.
    async fn service(&self, cluster: &str, service: &str) -> Result<Option<ServiceInfo>> {
        Ok(self.services(cluster, &[service]).await?.into_iter().next())
    }
    /// Reads a task definition to copy, by ARN or by family (its latest ACTIVE revision); None
    /// when there is none.
    async fn task_definition_template(&self, task_definition: &str)
        -> Result<Option<TaskTemplate>>;
    /// Registers the copy; returns its ARN.
    async fn copy_task_definition(&self, copy: &TaskDefinitionCopy) -> Result<String>;
    /// Creates the service; returns its ARN.
    async fn create_service(&self, service: &NewService) -> Result<String>;
    /// Adds or overwrites tags on an ECS resource.
    async fn tag(&self, arn: &str, tags: &[Tag]) -> Result<()>;
    /// Points the service at another task definition.
    async fn deploy(&self, cluster: &str, service: &str, task_definition: &str) -> Result<()>;
    /// Deletes the service with force, so running tasks do not hold it up.
    async fn delete_service(&self, cluster: &str, service: &str) -> Result<()>;
    /// Every ACTIVE revision of the family.
    async fn task_definitions(&self, family: &str) -> Result<Vec<String>>;
    /// The tags of the family's latest ACTIVE revision, or None when it has none: whose the
    /// family is.
    async fn family_tags(&self, family: &str) -> Result<Option<Vec<Tag>>>;
    async fn deregister_task_definition(&self, arn: &str) -> Result<()>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancer {
    pub arn: String,
    pub dns_name: String,
    pub canonical_zone_id: String,
    /// Dual-stack load balancers get an AAAA record too.
    pub dualstack: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub load_balancers: Vec<String>,
    /// Who made it (see [`crate::ownership`]).
    pub tags: Vec<Tag>,
}

/// The reference target group as a copy needs it.
#[derive(Debug, Clone)]
pub struct TargetGroupTemplate {
    /// Its settings as CreateTargetGroup takes them, in the adapter's own terms.
    pub settings: Template,
    /// The attributes a copy takes over: deregistration delay, stickiness...
    pub attributes: Vec<(String, String)>,
}

/// What CreateTargetGroup answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetGroupCreation {
    /// Its ARN. AWS also answers so when a target group of that name and these settings was
    /// there already; moto only for a new one.
    Created(String),
    /// A target group of that name is there with other settings (moto: with any).
    NameTaken,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub arn: String,
    /// ARNs of the listener's certificates, the default one first.
    pub certificates: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerRule {
    pub arn: String,
    /// None for the default rule.
    pub priority: Option<u32>,
    pub hosts: Vec<String>,
    /// Whether it has conditions besides the host header (paths, headers, sources...).
    pub other_conditions: bool,
    pub target_groups: Vec<String>,
}

impl ListenerRule {
    /// Whether the rule matches this host name (host headers are case-insensitive).
    pub fn serves_host(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Whether the rule is of the shape eden makes for this host: this host alone, and no other
    /// condition.
    pub fn is_exactly_for(&self, host: &str) -> bool {
        !self.other_conditions
            && !self.hosts.is_empty()
            && self.hosts.iter().all(|h| h.eq_ignore_ascii_case(host))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRule {
    pub listener: String,
    pub priority: u32,
    pub host: String,
    pub target_group_arn: String,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleCreation {
    Created(String),
    /// Another rule took the priority first; pick another and try again.
    PriorityInUse,
}

#[async_trait]
pub trait Elb: Send + Sync {
    async fn load_balancer(&self, arn: &str) -> Result<Option<LoadBalancer>>;
    /// The HTTPS:443 listener.
    async fn https_listener(&self, load_balancer: &str) -> Result<Option<Listener>>;
    async fn rules(&self, listener: &str) -> Result<Vec<ListenerRule>>;
    /// The tags of each of these rules or target groups.
    async fn tags(&self, arns: &[String]) -> Result<Vec<(String, Vec<Tag>)>>;
    /// Adds or overwrites tags on a rule or target group.
    async fn add_tags(&self, arn: &str, tags: &[Tag]) -> Result<()>;
    async fn target_health(&self, target_group: &str) -> Result<Vec<TargetHealth>>;
    async fn create_rule(&self, rule: &NewRule) -> Result<RuleCreation>;
    /// Deleting a rule that is already gone succeeds.
    async fn delete_rule(&self, arn: &str) -> Result<()>;
    /// The target group of that name, without its tags (empty): one call, where their read
    /// can be left out or made beside others' (see [`Elb::tags`]).
    async fn find_target_group(&self, name: &str) -> Result<Option<TargetGroup>>;
    /// The target group of that name, with its tags.
    async fn target_group(&self, name: &str) -> Result<Option<TargetGroup>> {
        let Some(mut tg) = self.find_target_group(name).await? else {
            return Ok(None);
        };
        let tags = self.tags(std::slice::from_ref(&tg.arn)).await?;
        tg.tags = tags.into_iter().flat_map(|(_, tags)| tags).collect();
        Ok(Some(tg))
    }
    /// Reads the reference target group's settings and attributes.
    async fn target_group_template(&self, arn: &str) -> Result<TargetGroupTemplate>;
    /// Creates `name` with the reference target group's settings.
    async fn copy_target_group(
        &self,
        settings: &Template,
        name: &str,
        tags: &[Tag],
    ) -> Result<TargetGroupCreation>;
    /// Gives a new target group the reference's attributes.
    async fn set_target_group_attributes(
        &self,
        arn: &str,
        attributes: &[(String, String)],
    ) -> Result<()>;
    /// Deleting a target group that is already gone succeeds.
    async fn delete_target_group(&self, arn: &str) -> Result<()>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    A,
    Aaaa,
}

/// An alias record pointing a hostname at the shared load balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasRecord {
    pub name: String,
    pub record_type: RecordType,
    pub target_dns: String,
    pub target_zone: String,
}

/// The records of one host name, as far as eden's records are concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostRecords {
    /// Its A and AAAA alias records.
    pub aliases: Vec<AliasRecord>,
    /// Its other A, AAAA and CNAME records, which eden never made: `A 10.0.0.1`, `CNAME x.`.
    pub others: Vec<String>,
}

#[async_trait]
pub trait Dns: Send + Sync {
    /// The zone's name without the trailing dot, or None when there is no such zone.
    async fn zone_name(&self, zone_id: &str) -> Result<Option<String>>;
    /// The records of exactly this name, read with one page from that name on.
    async fn records(&self, zone_id: &str, name: &str) -> Result<HostRecords>;
    /// Creates the records at once, and returns the change's id; None when one of them exists
    /// already, which Route 53 refuses (moto does not: it takes a CREATE over a different record).
    async fn create(&self, zone_id: &str, records: &[AliasRecord]) -> Result<Option<String>>;
    /// Whether a change has reached every Route 53 name server (INSYNC): until then a resolver
    /// may be told the new name does not exist, and remember that.
    async fn in_sync(&self, change_id: &str) -> Result<bool>;
    /// Deletes the records at once; false when Route 53 has no such records (gone already, or
    /// pointing elsewhere: a DELETE must give a record's exact values).
    async fn delete(&self, zone_id: &str, records: &[AliasRecord]) -> Result<bool>;
}

/// An object's bytes and the ETag to write it back conditionally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub body: Vec<u8>,
    pub etag: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteCondition<'a> {
    /// Only over the version with this ETag.
    IfMatch(&'a str),
    /// Only where no object exists yet.
    IfAbsent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    /// Someone else wrote first: read again and redo the change.
    Conflict,
}

#[async_trait]
pub trait ObjectStore: Send + Sync {
    async fn get(&self, bucket: &str, key: &str) -> Result<Option<Object>>;
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        condition: WriteCondition<'_>,
    ) -> Result<WriteOutcome>;
}

/// One environment in the state table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EnvironmentItem {
    pub profile: String,
    pub name: String,
    pub endpoint: String,
    /// Epoch seconds.
    pub last_updated: i64,
    /// Epoch seconds after which `eden gc` deletes the environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The `--ttl` it was given, so that a deploy extends it by as much.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<i64>,
}

impl EnvironmentItem {
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A take of the lease on one environment, so that two runs never change it at once (see the
/// plan's lease).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseClaim {
    /// `{profile}/{resource name}`.
    pub key: String,
    /// Who takes it: unique per run.
    pub owner: String,
    /// The version the item gets.
    pub version: String,
    /// The version of a held lease that the taker saw unchanged for a lease's lifetime: taken
    /// over on the condition that it is still that.
    pub takeover: Option<String>,
}

/// The lease a write of an environment's item is made under: the write lands only while this
/// owner holds this lease, so that a run that lost its lease overwrites nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// `{profile}/{resource name}`.
    pub key: String,
    pub owner: String,
}

/// What becomes of a lease item when its holder gives it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release<'a> {
    /// The item stays, free, with a new version and what the run left of the environment
    /// (none when the run does not know).
    Free {
        version: &'a str,
        left: Option<&'a str>,
    },
    /// The item goes.
    Dropped,
    /// The environment is gone: the item goes, and the environment's state item with it in the
    /// same write, so that the environment is listed until the last of it is gone.
    WithEnvironment { profile: &'a str, name: &'a str },
}

/// A lease item as it stands in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseItem {
    /// `{profile}/{resource name}`.
    pub key: String,
    /// Its holder; none once given up.
    pub owner: Option<String>,
    pub version: String,
}

/// Who had a lease before this run took it, which tells whether what the run read while
/// taking it can be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviousHolder {
    /// No item: never held, or gone with its environment's state item.
    Nobody,
    /// A run that gave it up, and what it left of the environment, when it said.
    Released { left: Option<String> },
    /// A run that stopped renewing it, taken over.
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseTake {
    Taken(PreviousHolder),
    /// Another run holds it, at this version.
    Held {
        version: String,
    },
}

#[async_trait]
pub trait StateTable: Send + Sync {
    /// Epoch seconds by the state table's own clock, as its latest answer gave it (this
    /// machine's before any answer). Every time eden writes in the table or compares with one
    /// read from it (an environment's last update, its expiry) is by this clock, so that two
    /// machines whose clocks differ agree on when an environment expires.
    fn now(&self) -> i64;
    /// Takes the lease when it is free, or held at `claim.takeover`.
    async fn take_lease(&self, table: &str, claim: &LeaseClaim) -> Result<LeaseTake>;
    /// Gives this owner's lease a new version. False when another run took it.
    async fn renew_lease(&self, table: &str, key: &str, owner: &str, version: &str)
        -> Result<bool>;
    /// Takes a lease this owner gave up at `released` back, with a new version, when nobody
    /// took it since (else false).
    async fn take_back_lease(
        &self,
        table: &str,
        key: &str,
        owner: &str,
        released: &str,
        version: &str,
    ) -> Result<bool>;
    /// Takes a lease given up with its environment's state item back, and puts the item back
    /// when there was one, when neither was made again meanwhile (else false, and nothing is
    /// changed).
    async fn restore_lease(
        &self,
        table: &str,
        claim: &LeaseClaim,
        item: Option<&EnvironmentItem>,
    ) -> Result<bool>;
    /// Gives the lease up, unless another run took it over (then false, and nothing is
    /// changed).
    async fn release_lease(
        &self,
        table: &str,
        key: &str,
        owner: &str,
        release: Release<'_>,
    ) -> Result<bool>;
    /// Every lease item in the table.
    async fn leases(&self, table: &str) -> Result<Vec<LeaseItem>>;
    /// Whether a run holds the lease `key` (or held it, and stopped without giving it up).
    async fn lease_held(&self, table: &str, key: &str) -> Result<bool>;
    /// Whether the table exists.
    async fn table_exists(&self, table: &str) -> Result<bool>;
    /// Creates the table in eden's schema when it is missing, and waits until it is ACTIVE.
    /// Returns true when it had to create it.
    async fn ensure_table(&self, table: &str) -> Result<bool>;
    /// Writes the environment's item while `fence` is held: false, writing nothing, once another
    /// run holds the lease.
    async fn put_environment(
        &self,
        table: &str,
        item: &EnvironmentItem,
        fence: &Fence,
    ) -> Result<bool>;
    /// One environment's item, when there is one.
    async fn environment(
        &self,
        table: &str,
        profile: &str,
        name: &str,
    ) -> Result<Option<EnvironmentItem>>;
    /// Deletes the environment's item while `fence` is held: false, deleting nothing, once
    /// another run holds the lease.
    async fn delete_environment(
        &self,
        table: &str,
        profile: &str,
        name: &str,
        fence: &Fence,
    ) -> Result<bool>;
    /// One profile's environments, or every profile's.
    async fn environments(
        &self,
        table: &str,
        profile: Option<&str>,
    ) -> Result<Vec<EnvironmentItem>>;
    async fn put_profile(&self, table: &str, name: &str, json: &str) -> Result<()>;
    async fn profile(&self, table: &str, name: &str) -> Result<Option<String>>;
    /// Returns false when there was no such profile.
    async fn delete_profile(&self, table: &str, name: &str) -> Result<bool>;
    async fn profiles(&self, table: &str) -> Result<Vec<String>>;
}

/// A resource found by its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedResource {
    pub arn: String,
    pub tags: Vec<Tag>,
}

#[async_trait]
pub trait ResourceTags: Send + Sync {
    /// Every resource of the account and region that has all of these tags.
    async fn tagged(&self, tags: &[Tag]) -> Result<Vec<TaggedResource>>;
}

#[async_trait]
pub trait Certificates: Send + Sync {
    /// The domain names an ACM certificate covers, or None when there is no such certificate.
    async fn domains(&self, arn: &str) -> Result<Option<Vec<String>>>;
}

#[async_trait]
pub trait Registry: Send + Sync {
    /// Whether the ECR image exists; only called for ECR URIs.
    async fn image_exists(&self, image: &ImageUri) -> Result<bool>;
}

/// Every AWS service eden uses, as the core sees them, and what it learned of them.
#[derive(Clone)]
pub struct Cloud {
    /// The region every call goes to.
    pub region: String,
    pub ecs: Arc<dyn Ecs>,
    pub elb: Arc<dyn Elb>,
    pub dns: Arc<dyn Dns>,
    pub store: Arc<dyn ObjectStore>,
    pub table: Arc<dyn StateTable>,
    pub registry: Arc<dyn Registry>,
    pub tags: Arc<dyn ResourceTags>,
    pub certificates: Arc<dyn Certificates>,
}
