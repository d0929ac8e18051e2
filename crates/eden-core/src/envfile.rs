//! The environments JSON file that client applications read to discover environments.
//!
//! Only the object eden is asked about changes; other objects, unknown fields and their order are
//! kept as they are.

use serde_json::{Map, Value};

/// What a change did to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing to write.
    Unchanged,
    /// The key was set or removed in an existing object.
    Updated,
    /// A new object was appended.
    Added,
    /// The object had nothing left but `env` and `name`, and was removed.
    Removed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentsFile {
    doc: Map<String, Value>,
}

impl EnvironmentsFile {
    /// A file with no environments, for a key that does not exist yet.
    pub fn empty() -> Self {
        let mut doc = Map::new();
        doc.insert("environments".into(), Value::Array(Vec::new()));
        Self { doc }
    }

    /// Accepts only `{"environments": [objects...]}`; says why otherwise.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
        let Value::Object(doc) = value else {
            return Err("the top level is not a JSON object".into());
        };
        match doc.get("environments") {
            Some(Value::Array(items)) if items.iter().all(Value::is_object) => Ok(Self { doc }),
            Some(Value::Array(_)) => {
                Err("\"environments\" holds something that is not an object".into())
            }
            Some(_) => Err("\"environments\" is not an array".into()),
            None => Err("it has no \"environments\" array".into()),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
        serde::Serialize::serialize(&self.doc, &mut ser).expect("a JSON map always serializes");
        out.push(b'\n');
        out
    }

    fn items_mut(&mut self) -> &mut Vec<Value> {
        match self.doc.get_mut("environments") {
            Some(Value::Array(items)) => items,
            _ => unreachable!("parse and empty guarantee the environments array"),
        }
    }

    fn items(&self) -> &[Value] {
        match self.doc.get("environments") {
            Some(Value::Array(items)) => items,
            _ => &[],
        }
    }

    /// The endpoint recorded under `update_key` for the object named `entry`.
    pub fn endpoint(&self, entry: &str, update_key: &str) -> Option<&str> {
        self.items()
            .iter()
            .filter(|o| o["name"] == entry)
            .find_map(|o| o[update_key].as_str())
    }

    /// Records `fqdn` under `update_key` in the object named `entry`, adding the object if needed.
    pub fn set_endpoint(
        &mut self,
        entry: &str,
        env_type: &str,
        update_key: &str,
        fqdn: &str,
    ) -> Change {
        let items = self.items_mut();
        let mut found = false;
        let mut changed = false;
        for object in items.iter_mut().filter_map(Value::as_object_mut) {
            if object.get("name").and_then(Value::as_str) == Some(entry) {
                found = true;
                if object.get(update_key).and_then(Value::as_str) != Some(fqdn) {
                    object.insert(update_key.into(), fqdn.into());
                    changed = true;
                }
            }
        }
        if found {
            return if changed {
                Change::Updated
            } else {
                Change::Unchanged
            };
        }
        let mut object = Map::new();
        object.insert("env".into(), env_type.into());
        object.insert("name".into(), entry.into());
        object.insert(update_key.into(), fqdn.into());
        items.push(Value::Object(object));
        Change::Added
    }

    /// Removes `update_key` from the object named `entry`, and the object when only `env` and
    /// `name` remain.
    pub fn remove_endpoint(&mut self, entry: &str, update_key: &str) -> Change {
        let items = self.items_mut();
        let mut change = Change::Unchanged;
        items.retain_mut(|item| {
            let Some(object) = item.as_object_mut() else {
                return true;
            };
            if object.get("name").and_then(Value::as_str) != Some(entry)
                || object.remove(update_key).is_none()
            {
                return true;
            }
            let bare = object.keys().all(|k| k == "env" || k == "name");
            change = if bare {
                Change::Removed
            } else {
                Change::Updated
            };
            !bare
        });
        change
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(json: &str) -> EnvironmentsFile {
        EnvironmentsFile::parse(json.as_bytes()).unwrap()
    }

    fn json(f: &EnvironmentsFile) -> Value {
        serde_json::from_slice(&f.to_bytes()).unwrap()
    }

    #[test]
    fn three_profiles_share_one_object_and_leave_it_in_turn() {
        let mut f = EnvironmentsFile::empty();
        assert_eq!(
            f.set_endpoint(
                "svc-dev-foo",
                "dev",
                "api_endpoint",
                "api-foo.dev.example.com"
            ),
            Change::Added
        );
        assert_eq!(
            f.set_endpoint(
                "svc-dev-foo",
                "dev",
                "admin_endpoint",
                "admin-foo.dev.example.com"
            ),
            Change::Updated
        );
        assert_eq!(
            f.set_endpoint(
                "svc-dev-foo",
                "dev",
                "admin_endpoint",
                "admin-foo.dev.example.com"
            ),
            Change::Unchanged
        );
        assert_eq!(
            json(&f),
            serde_json::json!({"environments": [{"env": "dev", "name": "svc-dev-foo",
                "api_endpoint": "api-foo.dev.example.com", "admin_endpoint": "admin-foo.dev.example.com"}]})
        );
        assert_eq!(
            f.remove_endpoint("svc-dev-foo", "api_endpoint"),
            Change::Updated
        );
        assert_eq!(
            f.remove_endpoint("svc-dev-foo", "api_endpoint"),
            Change::Unchanged
        );
        assert_eq!(
            f.remove_endpoint("svc-dev-foo", "admin_endpoint"),
            Change::Removed
        );
        assert_eq!(json(&f), serde_json::json!({"environments": []}));
    }

    #[test]
    fn other_objects_and_unknown_fields_survive_in_order() {
        let mut f = file(
            r#"{"version": 3, "environments": [
                {"name": "other", "env": "dev", "api_endpoint": "x", "owner": "team-a"},
                {"name": "mine", "env": "dev", "zeta": 1, "api_endpoint": "old"}]}"#,
        );
        f.set_endpoint("mine", "dev", "api_endpoint", "new");
        let text = String::from_utf8(f.to_bytes()).unwrap();
        assert!(text.find("\"version\"").unwrap() < text.find("\"environments\"").unwrap());
        assert!(text.find("\"zeta\"").unwrap() < text.find("\"new\"").unwrap());
        assert_eq!(
            f.remove_endpoint("mine", "api_endpoint"),
            Change::Updated,
            "zeta keeps it"
        );
        let v = json(&f);
        assert_eq!(v["environments"][0]["owner"], "team-a");
        assert_eq!(
            v["environments"][1],
            serde_json::json!({"name": "mine", "env": "dev", "zeta": 1})
        );
        assert_eq!(v["version"], 3);
    }

    #[test]
    fn wrong_shapes_are_refused_with_a_reason() {
        for (bad, why) in [
            ("{", "not valid JSON"),
            ("[]", "not a JSON object"),
            ("{}", "no \"environments\""),
            (r#"{"environments": {}}"#, "not an array"),
            (r#"{"environments": [1]}"#, "not an object"),
        ] {
            let err = EnvironmentsFile::parse(bad.as_bytes()).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn endpoint_reads_what_was_set() {
        let mut f = EnvironmentsFile::empty();
        f.set_endpoint("a", "dev", "api_endpoint", "api-a.dev.example.com");
        assert_eq!(
            f.endpoint("a", "api_endpoint"),
            Some("api-a.dev.example.com")
        );
        assert_eq!(f.endpoint("a", "admin_endpoint"), None);
    }
}
