//! The deployment files: the CloudFormation template passes cfn-lint and builds in moto as eden
//! needs it (moto skips the function URL); the Terraform module parses; both grant the function
//! exactly the actions of `eden iam-policy` (less creating the table, which they do not need).

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;

use std::collections::BTreeSet;

use serde_json::Value;
use support::{lint, venv_bin, workspace, Moto, World};

/// The actions of `eden iam-policy`, but for creating the state table.
fn actions_eden_needs(world: &World) -> BTreeSet<String> {
    let printed = world.eden(&["iam-policy", "-p", "api"]).success();
    let policy: Value = serde_json::from_str(&printed.stdout).unwrap();
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_string())
        .filter(|a| a != "dynamodb:CreateTable")
        .collect()
}

fn strings(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

/// Runs a deploy/ checking script and returns what it printed.
fn check(script: &str, args: &[&str]) -> Value {
    let out = Command::new(venv_bin("python"))
        .arg(workspace().join("scripts").join(script))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_cloudformation_template_lints_and_builds_in_moto() {
    let moto = Moto::start();
    let out = Command::new(venv_bin("python"))
        .arg(workspace().join("scripts/check_cloudformation.py"))
        .args(["--endpoint", &moto.endpoint])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found["runtime"], "provided.al2023");
    assert_eq!(found["handler"], "bootstrap");
    assert_eq!(
        found["environment"],
        serde_json::json!(["EDEN_API_KEYS", "EDEN_TABLE"])
    );
    assert_eq!(found["table_keys"], serde_json::json!(["type", "name"]));
    assert_eq!(
        found["table_index"],
        serde_json::json!(["kind_last_updated_gsi"])
    );
    // Only the calls AWS gives no resource-level permission may name every resource.
    for action in found["actions_on_any_resource"].as_array().unwrap() {
        let action = action.as_str().unwrap();
        let describe = action.starts_with("elasticloadbalancing:Describe");
        let task_definitions = action.starts_with("ecs:") && action.contains("TaskDefinition");
        let stopped_tasks = matches!(action, "ecs:ListTasks" | "ecs:DescribeTasks");
        let tagging = action == "tag:GetResources";
        assert!(
            describe || task_definitions || stopped_tasks || tagging,
            "{action} on every resource"
        );
    }
}

#[test]
fn the_terraform_module_parses_and_grants_what_eden_needs() {
    let world = World::new();
    let found = check("check_terraform.py", &[]);
    assert_eq!(strings(&found["actions"]), actions_eden_needs(&world));
    assert_eq!(found["runtime"], "provided.al2023");
    assert_eq!(found["handler"], "bootstrap");
    let variables = strings(&found["variables"]);
    for seed_input in [
        "name",
        "lambda_package_url",
        "api_domain_name",
        "api_acm_certificate_arn",
        "api_zone_id",
        "endpoints_bucket_name",
        "dynamic_zone_id",
    ] {
        assert!(variables.contains(seed_input), "no variable {seed_input}");
    }
}

#[test]
fn the_github_actions_example_passes_actionlint_and_runs_the_ci_commands() {
    lint("actionlint", &["examples/github-actions/preview.yml"]);
    let workflow =
        std::fs::read_to_string(workspace().join("examples/github-actions/preview.yml")).unwrap();
    for needed in [
        "eden create",
        "--wait",
        "-o json",
        "--ttl",
        "eden delete",
        "gh pr comment",
    ] {
        assert!(workflow.contains(needed), "the example lacks {needed}");
    }
}

/// The CI workflow runs the README's test command (tests/packaging.rs lints every workflow).
#[test]
fn the_ci_workflow_runs_the_readmes_test_command() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let test_command = readme
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("scripts/test"))
        .and_then(|line| line.split('#').next())
        .unwrap()
        .trim();
    let workflow = std::fs::read_to_string(workspace().join(".github/workflows/ci.yml")).unwrap();
    assert!(
        workflow.contains(&format!("run: {test_command}\n")),
        "the CI workflow does not run {test_command}"
    );
}

#[test]
fn the_dockerfile_passes_hadolint_and_runs_as_non_root() {
    lint("hadolint", &["Dockerfile"]);
    let dockerfile = std::fs::read_to_string(workspace().join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("USER 10001"));
}
