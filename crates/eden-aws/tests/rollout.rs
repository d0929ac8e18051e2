//! `--wait` over rollouts moto cannot show (a deploy replacing an older deployment, targets
//! turning healthy, a circuit breaker failing the rollout), with the SDK's own mock clients:
//! the real ECS and ELB adapters read these answers, and the core's wait decides.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput;
use aws_sdk_ecs::operation::list_tasks::ListTasksOutput;
use aws_sdk_ecs::types::{Container, Deployment, DeploymentRolloutState, Service, Task};
use aws_sdk_elasticloadbalancingv2::operation::describe_tags::DescribeTagsOutput;
use aws_sdk_elasticloadbalancingv2::operation::describe_target_groups::DescribeTargetGroupsOutput;
use aws_sdk_elasticloadbalancingv2::operation::describe_target_health::DescribeTargetHealthOutput;
use aws_sdk_elasticloadbalancingv2::types::{
    TargetDescription, TargetGroup, TargetHealth, TargetHealthDescription, TargetHealthStateEnum,
};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use eden_core::cloud::Cloud;
use eden_core::names::EnvName;
use eden_core::plan::wait::{until_ready, WaitFor};
use eden_core::plan::Stop;
use eden_core::profile::{Key, Profile, Settings};

const OLD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/dev-dynamic-api-pr-1:1";
const NEW: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/dev-dynamic-api-pr-1:2";
const TG: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/dev-dynamic-api-pr-1/1";

fn settings() -> Settings {
    let keys = [
        (Key::NamePrefix, "dev-dynamic-api"),
        (
            Key::ReferenceServiceArn,
            "arn:aws:ecs:us-east-1:123456789012:service/dev/dev01-api",
        ),
        (Key::TargetCluster, "dev"),
        (Key::DomainNamePrefix, "api"),
        (
            Key::MasterAlbArn,
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shared/1",
        ),
        (Key::DynamicZoneId, "Z1"),
        (Key::ConfigBucketName, "bucket"),
        (Key::ConfigBucketKey, "endpoints.json"),
        (Key::ConfigUpdateKey, "api_endpoint"),
        (Key::ConfigEnvType, "dev"),
        (Key::ConfigNamePrefix, "servicename-dev"),
    ]
    .map(|(k, v)| (k, v.to_string()));
    Profile::default()
        .with_overrides(&keys)
        .settings("api")
        .unwrap()
}

fn deployment(td: &str, status: &str, state: DeploymentRolloutState, running: i32) -> Deployment {
    Deployment::builder()
        .id(format!("ecs-svc/{}", td.rsplit(':').next().unwrap()))
        .status(status)
        .task_definition(td)
        .rollout_state(state)
        .desired_count(1)
        .running_count(running)
        .build()
}

fn services(deployments: Vec<Deployment>) -> DescribeServicesOutput {
    let service = Service::builder()
        .service_arn("arn:aws:ecs:us-east-1:123456789012:service/dev/dev-dynamic-api-pr-1")
        .service_name("dev-dynamic-api-pr-1")
        .status("ACTIVE")
        .task_definition(NEW)
        .desired_count(1)
        .set_deployments(Some(deployments))
        .build();
    DescribeServicesOutput::builder().services(service).build()
}

fn health(state: TargetHealthStateEnum) -> DescribeTargetHealthOutput {
    DescribeTargetHealthOutput::builder()
        .target_health_descriptions(
            TargetHealthDescription::builder()
                .target(
                    TargetDescription::builder()
                        .id("10.0.0.7")
                        .port(8080)
                        .build(),
                )
                .target_health(TargetHealth::builder().state(state).build())
                .build(),
        )
        .build()
}

/// A cloud whose ECS and ELB answer from `ecs_rules` and `elb_rules`; the other services are
/// never called by a wait.
fn cloud(ecs_rules: &[&Rule], elb_rules: &[&Rule]) -> Cloud {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    Cloud {
        region: "us-east-1".into(),
        ecs: Arc::new(eden_aws::Ecs(mock_client!(
            aws_sdk_ecs,
            RuleMode::MatchAny,
            ecs_rules
        ))),
        elb: Arc::new(eden_aws::Elb(mock_client!(
            aws_sdk_elasticloadbalancingv2,
            RuleMode::MatchAny,
            elb_rules
        ))),
        dns: Arc::new(eden_aws::Route53(aws_sdk_route53::Client::new(&sdk))),
        store: Arc::new(eden_aws::S3(aws_sdk_s3::Client::new(&sdk))),
        table: Arc::new(eden_aws::DynamoDb::new(aws_sdk_dynamodb::Client::new(&sdk))),
        tags: Arc::new(eden_aws::Tagging(
            aws_sdk_resourcegroupstagging::Client::new(&sdk),
        )),
        certificates: Arc::new(eden_aws::Acm(aws_sdk_acm::Client::new(&sdk))),
        registry: Arc::new(eden_aws::Ecr::new(sdk)),
    }
}

/// The environment's target group, and its (no) tags.
fn target_group_rules() -> [Rule; 2] {
    let described = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_groups)
        .then_output(|| {
            DescribeTargetGroupsOutput::builder()
                .target_groups(
                    TargetGroup::builder()
                        .target_group_arn(TG)
                        .target_group_name("dev-dynamic-api-pr-1")
                        .build(),
                )
                .build()
        });
    let tags = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_tags)
        .then_output(|| DescribeTagsOutput::builder().build());
    [described, tags]
}

async fn wait(cloud: &Cloud) -> (Result<(), eden_core::Error>, Vec<String>) {
    let s = settings();
    let names = s.names(&EnvName::parse("pr-1").unwrap());
    let until = WaitFor {
        names: &names,
        task_definition: NEW,
        records_change: None,
        timeout: Duration::from_secs(5),
        poll: Duration::from_millis(5),
    };
    let mut seen = Vec::new();
    let outcome = until_ready(cloud, &s, &until, &Stop::default(), &mut |state: &str| {
        seen.push(state.to_string())
    })
    .await;
    (outcome, seen)
}

#[tokio::test]
async fn a_deploy_is_ready_once_the_old_deployment_drained_and_targets_are_healthy() {
    let rollout = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| {
            services(vec![
                deployment(NEW, "PRIMARY", DeploymentRolloutState::InProgress, 0),
                deployment(OLD, "ACTIVE", DeploymentRolloutState::Completed, 1),
            ])
        })
        .times(2)
        .output(|| {
            services(vec![deployment(
                NEW,
                "PRIMARY",
                DeploymentRolloutState::Completed,
                1,
            )])
        })
        .repeatedly()
        .build();
    let targets = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_health)
        .sequence()
        .output(|| health(TargetHealthStateEnum::Initial))
        .output(|| health(TargetHealthStateEnum::Healthy))
        .build();
    let [tg, tags] = target_group_rules();
    let cloud = cloud(&[&rollout], &[&tg, &tags, &targets]);
    let (outcome, seen) = wait(&cloud).await;
    outcome.unwrap();
    assert_eq!(
        seen,
        [
            "rollout IN_PROGRESS: 0/1 running, 1 older deployment(s) draining",
            "targets 0/1 healthy: 10.0.0.7:8080 initial",
            "ready",
        ]
    );
    assert_eq!(rollout.num_calls(), 4, "a read per poll, no more");
    assert_eq!(
        targets.num_calls(),
        2,
        "target health only once the rollout is done"
    );
}

#[tokio::test]
async fn a_circuit_breaker_failure_ends_the_wait_with_the_stopped_tasks_reasons() {
    let rollout = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
        let mut failed = deployment(NEW, "PRIMARY", DeploymentRolloutState::Failed, 0);
        failed.rollout_state_reason =
            Some("ECS deployment circuit breaker: tasks failed to start.".into());
        failed.failed_tasks = 3;
        services(vec![failed])
    });
    let listed = mock!(aws_sdk_ecs::Client::list_tasks).then_output(|| {
        ListTasksOutput::builder()
            .task_arns("task/1")
            .task_arns("task/2")
            .build()
    });
    let described = mock!(aws_sdk_ecs::Client::describe_tasks).then_output(|| {
        let crashed = |arn: &str| {
            Task::builder()
                .task_arn(arn)
                .task_definition_arn(NEW)
                .stopped_reason("Essential container in task exited")
                .containers(Container::builder().name("api").exit_code(1).build())
                .build()
        };
        DescribeTasksOutput::builder()
            .tasks(crashed("task/1"))
            .tasks(crashed("task/2"))
            .build()
    });
    let [tg, tags] = target_group_rules();
    let cloud = cloud(&[&rollout, &listed, &described], &[&tg, &tags]);
    let (outcome, seen) = wait(&cloud).await;
    assert_eq!(
        outcome.unwrap_err().to_string(),
        "environment dev-dynamic-api-pr-1 is not ready: rollout failed: ECS deployment circuit \
         breaker: tasks failed to start.; stopped tasks: Essential container in task exited \
         (api: exit code 1); see `eden status -p api --name pr-1` for its state"
    );
    assert_eq!(seen.len(), 1);
}

#[tokio::test]
async fn a_deploy_rolled_back_to_the_old_task_definition_is_a_failure() {
    let rollout = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
        services(vec![deployment(
            OLD,
            "PRIMARY",
            DeploymentRolloutState::InProgress,
            1,
        )])
    });
    let listed =
        mock!(aws_sdk_ecs::Client::list_tasks).then_output(|| ListTasksOutput::builder().build());
    let [tg, tags] = target_group_rules();
    let cloud = cloud(&[&rollout, &listed], &[&tg, &tags]);
    let (outcome, _) = wait(&cloud).await;
    let error = outcome.unwrap_err().to_string();
    assert!(error.contains("rolled back or replaced"), "{error}");
}
