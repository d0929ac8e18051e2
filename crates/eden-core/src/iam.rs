//! The IAM policy eden needs for one profile: every action it calls, scoped to the profile's
//! resources wherever AWS allows a resource or condition for that action.

use serde_json::{json, Value};

use crate::profile::Settings;

/// Target group names keep this many characters of the resource name before a hash suffix.
const TARGET_GROUP_HEAD: usize = 23;

pub fn policy(s: &Settings, table: &str) -> Value {
    let (partition, region, account) = (
        &s.reference.partition,
        &s.reference.region,
        &s.reference.account,
    );
    let arn = |service: &str, resource: &str| {
        format!("arn:{partition}:{service}:{region}:{account}:{resource}")
    };
    let services = arn(
        "ecs",
        &format!("service/{}/{}-*", s.target_cluster, s.name_prefix),
    );
    let cluster = arn("ecs", &format!("cluster/{}", s.target_cluster));
    let task_definitions = arn("ecs", &format!("task-definition/{}-*:*", s.name_prefix));
    let group_head: String = s.name_prefix.chars().take(TARGET_GROUP_HEAD).collect();
    let target_groups = arn(
        "elasticloadbalancing",
        &format!("targetgroup/{group_head}*/*"),
    );
    // loadbalancer/app/NAME/ID -> listener/app/NAME/ID/* and listener-rule/app/NAME/ID/*/*
    let alb = s
        .master_alb_arn
        .split_once(":loadbalancer/")
        .map_or("", |(_, path)| path);
    let listeners = arn("elasticloadbalancing", &format!("listener/{alb}/*"));
    let rules = arn("elasticloadbalancing", &format!("listener-rule/{alb}/*/*"));
    let zone = format!("arn:{partition}:route53:::hostedzone/{}", s.zone_id);
    let table_arn = arn("dynamodb", &format!("table/{table}"));

    let mut statements = vec![
        statement(
            "ReadReferenceAndEnvironmentServices",
            &["ecs:DescribeServices"],
            json!([s.reference.arn, services]),
        ),
        // These ECS calls take no resource-level permissions.
        statement(
            "TaskDefinitions",
            &[
                "ecs:DescribeTaskDefinition",
                "ecs:RegisterTaskDefinition",
                "ecs:ListTaskDefinitions",
                "ecs:DeregisterTaskDefinition",
            ],
            json!("*"),
        ),
        // Whose a service or task definition family is: its tags, read with it.
        statement(
            "ReadOwnershipTags",
            &["ecs:ListTagsForResource"],
            json!([s.reference.arn, services, task_definitions]),
        ),
        json!({
            "Sid": "TagOnCreate",
            "Effect": "Allow",
            "Action": ["ecs:TagResource"],
            "Resource": [task_definitions, services],
            "Condition": {"StringEquals": {"ecs:CreateAction": ["RegisterTaskDefinition", "CreateService"]}},
        }),
        // TagResource also renews the expiry tag of an existing service on a deploy.
        statement(
            "EnvironmentServices",
            &[
                "ecs:CreateService",
                "ecs:UpdateService",
                "ecs:DeleteService",
                "ecs:TagResource",
            ],
            json!([services]),
        ),
        statement("Cluster", &["ecs:DescribeClusters"], json!([cluster])),
        // Why a rollout's tasks stopped, for `--wait`: these take the cluster as a condition.
        json!({
            "Sid": "StoppedTasks",
            "Effect": "Allow",
            "Action": ["ecs:ListTasks", "ecs:DescribeTasks"],
            "Resource": "*",
            "Condition": {"ArnEquals": {"ecs:cluster": cluster}},
        }),
        // `eden gc --orphans`: GetResources takes no resource-level permissions.
        statement("FindTaggedResources", &["tag:GetResources"], json!("*")),
        statement(
            "ReadCertificates",
            &["acm:DescribeCertificate"],
            json!([arn("acm", "certificate/*")]),
        ),
        json!({
            "Sid": "PassTaskRolesToEcs",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": [format!("arn:{partition}:iam::{account}:role/*")],
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        }),
        // Describe calls of Elastic Load Balancing take no resource-level permissions.
        statement(
            "ReadLoadBalancing",
            &[
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeTags",
            ],
            json!("*"),
        ),
        statement(
            "EnvironmentTargetGroups",
            &[
                "elasticloadbalancing:CreateTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:AddTags",
            ],
            json!([target_groups]),
        ),
        statement(
            "SharedListenerRules",
            &[
                "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:DeleteRule",
                "elasticloadbalancing:AddTags",
            ],
            json!([listeners, rules]),
        ),
        statement(
            "ReadZone",
            &["route53:GetHostedZone", "route53:ListResourceRecordSets"],
            json!([zone]),
        ),
        // `--wait`: whether the records' change reached every name server.
        statement(
            "RecordChanges",
            &["route53:GetChange"],
            json!([format!("arn:{partition}:route53:::change/*")]),
        ),
        statement(
            "ReadImages",
            &["ecr:DescribeImages"],
            json!([format!("arn:{partition}:ecr:*:{account}:repository/*")]),
        ),
        statement(
            "EnvironmentsFile",
            &["s3:GetObject", "s3:PutObject"],
            json!([format!("arn:{partition}:s3:::{}/{}", s.bucket, s.key)]),
        ),
        statement(
            "StateTable",
            &[
                "dynamodb:DescribeTable",
                "dynamodb:CreateTable",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                // The lease's renewals and release.
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                // The check, in the same transaction as a state item's write, that the lease
                // is still held.
                "dynamodb:ConditionCheckItem",
                "dynamodb:Query",
            ],
            json!([table_arn, format!("{table_arn}/index/*")]),
        ),
    ];
    // Records may only be changed under the profile's own host names, when the zone is known.
    let mut records = statement(
        "EnvironmentRecords",
        &["route53:ChangeResourceRecordSets"],
        json!([zone]),
    );
    if let Some(zone_name) = &s.zone_name {
        let zone_name = zone_name.trim_end_matches('.');
        let hosts = if s.domain_name_prefix.is_empty() {
            format!("*.{zone_name}")
        } else {
            format!("{}-*.{zone_name}", s.domain_name_prefix)
        };
        records["Condition"] = json!({
            "ForAllValues:StringLike": {"route53:ChangeResourceRecordSetsNormalizedRecordNames": [hosts]}
        });
    }
    statements.push(records);
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn statement(sid: &str, actions: &[&str], resource: Value) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::tests::seed_profile;
    use crate::profile::Key;

    fn statements(zone_name: Option<&str>) -> Vec<Value> {
        let mut profile = seed_profile();
        if let Some(zone) = zone_name {
            profile.set(Key::DynamicZoneName, zone);
        }
        let policy = policy(&profile.settings("api").unwrap(), "eden");
        policy["Statement"].as_array().unwrap().clone()
    }

    fn find<'a>(statements: &'a [Value], sid: &str) -> &'a Value {
        statements.iter().find(|s| s["Sid"] == sid).unwrap()
    }

    #[test]
    fn writes_are_scoped_to_the_profiles_resources() {
        let all = statements(Some("dev.example.com."));
        let services = &find(&all, "EnvironmentServices")["Resource"][0];
        assert_eq!(
            services,
            "arn:aws:ecs:ap-northeast-1:123456789012:service/dev/dev-dynamic-*"
        );
        let groups = &find(&all, "EnvironmentTargetGroups")["Resource"][0];
        assert_eq!(
            groups,
            "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/dev-dynamic*/*"
        );
        let rules = &find(&all, "SharedListenerRules")["Resource"][1];
        assert_eq!(
            rules,
            "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:listener-rule/app/dev-alb-api-dynamic/50dc6c495c0c9188/*/*"
        );
        let file = &find(&all, "EnvironmentsFile")["Resource"][0];
        assert_eq!(file, "arn:aws:s3:::servicename-config/endpoints.json");
        let records = find(&all, "EnvironmentRecords");
        assert_eq!(
            records["Resource"][0],
            "arn:aws:route53:::hostedzone/Z0123456789ABC"
        );
        assert_eq!(
            records["Condition"]["ForAllValues:StringLike"]
                ["route53:ChangeResourceRecordSetsNormalizedRecordNames"][0],
            "api-*.dev.example.com"
        );
        // The tags that say whose a service or task definition is, and DescribeTags for rules
        // and target groups.
        let tags = &find(&all, "ReadOwnershipTags");
        assert_eq!(tags["Action"][0], "ecs:ListTagsForResource");
        assert_eq!(tags["Resource"][1], *services);
        let elb_reads = find(&all, "ReadLoadBalancing")["Action"].to_string();
        assert!(elb_reads.contains("elasticloadbalancing:DescribeTags"));
        let table = &find(&all, "StateTable")["Resource"][0];
        assert_eq!(
            table,
            "arn:aws:dynamodb:ap-northeast-1:123456789012:table/eden"
        );
    }

    #[test]
    fn only_calls_without_resource_permissions_use_a_wildcard() {
        let all = statements(None);
        let wildcards: Vec<&str> = all
            .iter()
            .filter(|s| s["Resource"] == "*")
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(
            wildcards,
            [
                "TaskDefinitions",
                "StoppedTasks",
                "FindTaggedResources",
                "ReadLoadBalancing"
            ]
        );
        let stopped = find(&all, "StoppedTasks");
        assert_eq!(
            stopped["Condition"]["ArnEquals"]["ecs:cluster"],
            "arn:aws:ecs:ap-northeast-1:123456789012:cluster/dev"
        );
        for s in &all {
            for action in s["Action"].as_array().unwrap() {
                let action = action.as_str().unwrap();
                assert!(!action.ends_with('*'), "{action} is a wildcard action");
            }
        }
        assert!(find(&all, "EnvironmentRecords").get("Condition").is_none());
    }
}
