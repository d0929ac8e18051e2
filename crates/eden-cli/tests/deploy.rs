//! The deployment files: the CloudFormation template passes cfn-lint and builds in moto as eden
//! needs it (moto skips the function URL).

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;

use serde_json::Value;
use support::{venv_bin, workspace, Moto};

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
    assert_eq!(
        found["wildcard_actions"],
        serde_json::json!([]),
        "no ecs:* and the like"
    );
    // Only the calls AWS gives no resource-level permission may name every resource.
    for action in found["actions_on_any_resource"].as_array().unwrap() {
        let action = action.as_str().unwrap();
        let describe = action.starts_with("elasticloadbalancing:Describe");
        let task_definitions = action.starts_with("ecs:") && action.contains("TaskDefinition");
        assert!(describe || task_definitions, "{action} on every resource");
    }
}
