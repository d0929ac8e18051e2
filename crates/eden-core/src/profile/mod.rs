//! Profiles: the settings of one reference service, from the config file, from flags that
//! override it, or from the remote table; and their validation into [`Settings`].

mod arn;
mod file;
mod keys;

use std::collections::BTreeMap;

pub use arn::ServiceArn;
pub use file::ConfigFile;
pub use keys::Key;

use crate::error::Error;
use crate::names::{EnvName, Names, PREFIX_MAX};

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "default";

/// The longest profile name: it is part of the state table's keys and of resource tags.
const PROFILE_NAME_MAX: usize = 128;

/// Refuses a profile name eden cannot keep apart from its own keys: the state table's hash key
/// is the profile name, and `_profile`, `_lease` and any other `_` name are eden's own items;
/// a lease key is `PROFILE/RESOURCE`.
pub fn check_name(name: &str) -> Result<(), Error> {
    let why = if name.is_empty() {
        "it is empty"
    } else if name.starts_with('_') {
        "names starting with '_' are the state table's own keys; choose another name"
    } else if name.len() > PROFILE_NAME_MAX {
        "it is longer than 128 characters"
    } else if name.contains('/') || name.chars().any(char::is_control) {
        "it may not hold '/' or control characters"
    } else {
        return Ok(());
    };
    Err(Error::InvalidProfileName {
        profile: name.to_string(),
        why,
    })
}

/// A profile's raw values, by key, whatever spelling they were read in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    values: BTreeMap<Key, String>,
}

impl Profile {
    /// The value, when set; an empty value counts as unset unless the key may be empty.
    pub fn get(&self, key: Key) -> Option<&str> {
        self.values
            .get(&key)
            .map(String::as_str)
            .filter(|v| key.may_be_empty() || !v.trim().is_empty())
    }

    pub fn set(&mut self, key: Key, value: impl Into<String>) {
        self.values.insert(key, value.into());
    }

    /// Applies flags over the stored values.
    pub fn with_overrides(mut self, overrides: &[(Key, String)]) -> Self {
        for (key, value) in overrides {
            self.set(*key, value.clone());
        }
        self
    }

    pub fn iter(&self) -> impl Iterator<Item = (Key, &str)> {
        self.values.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// The JSON the remote table stores: the later spelling, which the original's API reads.
    pub fn to_remote_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .iter()
            .map(|(k, v)| {
                let name = k.later_name().unwrap_or(k.file_name());
                (name.to_string(), serde_json::Value::String(v.to_string()))
            })
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    /// Reads a remote profile in any of the spellings the original wrote.
    pub fn from_remote_json(name: &str, json: &str) -> Result<Self, Error> {
        let corrupt = |why: String| Error::CorruptRemoteProfile {
            profile: name.to_string(),
            why,
        };
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| corrupt(e.to_string()))?;
        let object = value
            .as_object()
            .ok_or_else(|| corrupt("not a JSON object".into()))?;
        let mut profile = Profile::default();
        for (field, value) in object {
            let Some(key) = Key::from_any(field) else {
                continue;
            };
            let value = value
                .as_str()
                .ok_or_else(|| corrupt(format!("{field} is not a string")))?;
            profile.set(key, value);
        }
        Ok(profile)
    }

    /// Everything wrong with this profile, one line each; empty when it is usable.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for key in Key::ALL {
            if self.get(key).is_none() && !key.is_derived() {
                problems.push(format!("missing key {key}"));
            }
        }
        if let Some(arn) = self.get(Key::ReferenceServiceArn) {
            if let Err(e) = ServiceArn::parse(arn) {
                problems.push(e.to_string());
            }
        }
        if let Some(arn) = self.get(Key::MasterAlbArn) {
            if let Err(e) = arn::check_alb_arn(arn) {
                problems.push(e.to_string());
            }
        }
        if let Some(id) = self.get(Key::DynamicZoneId) {
            if !is_zone_id(id) {
                problems.push(format!(
                    "dynamic_zone_id {id:?} is not a Route 53 zone id (like Z0123456789ABCDEFGHIJ)"
                ));
            }
        }
        for key in [
            Key::NamePrefix,
            Key::DomainNamePrefix,
            Key::ConfigNamePrefix,
        ] {
            if let Some(v) = self.get(key) {
                if !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    problems.push(format!(
                        "{key} {v:?} may hold only letters, digits and '-' (it becomes part of AWS names)"
                    ));
                } else if v.len() > PREFIX_MAX {
                    problems.push(format!(
                        "{key} {v:?} is longer than {PREFIX_MAX} characters, too long for AWS's names"
                    ));
                }
            }
        }
        problems
    }

    /// The validated settings, or the first problem as an error.
    pub fn settings(&self, profile_name: &str) -> Result<Settings, Error> {
        check_name(profile_name)?;
        if let Some(problem) = self.problems().into_iter().next() {
            return Err(Error::InvalidProfile {
                profile: profile_name.to_string(),
                problem,
            });
        }
        let get = |k| self.get(k).unwrap_or_default().to_string();
        let reference = ServiceArn::parse(&get(Key::ReferenceServiceArn))?;
        Ok(Settings {
            profile: profile_name.to_string(),
            name_prefix: get(Key::NamePrefix),
            reference,
            target_cluster: get(Key::TargetCluster),
            domain_name_prefix: get(Key::DomainNamePrefix),
            master_alb_arn: get(Key::MasterAlbArn),
            zone_id: get(Key::DynamicZoneId)
                .trim_start_matches("/hostedzone/")
                .to_string(),
            zone_name: self.get(Key::DynamicZoneName).map(str::to_string),
            listener_arn: self.get(Key::MasterListenerArn).map(str::to_string),
            reference_target_group: self.get(Key::ReferenceTargetGroupArn).map(str::to_string),
            bucket: get(Key::ConfigBucketName),
            key: get(Key::ConfigBucketKey),
            update_key: get(Key::ConfigUpdateKey),
            env_type: get(Key::ConfigEnvType),
            config_name_prefix: get(Key::ConfigNamePrefix),
            container: self.get(Key::TargetContainerName).map(str::to_string),
        })
    }
}

/// What in a set of profiles lets one profile's names be another's, or the reference's, one
/// line each. eden keeps them apart by tags and refuses the reference's names, but a user should
/// know: `dev-dynamic` with `--name api-foo` gives `dev-dynamic-api`'s `foo`.
pub fn name_warnings(profiles: &[(String, Profile)]) -> Vec<String> {
    let prefix = |p: &Profile| {
        p.get(Key::NamePrefix)
            .map(|v| v.trim_end_matches('-').to_string())
    };
    let mut warnings = Vec::new();
    for (name, profile) in profiles {
        let Some(mine) = prefix(profile) else {
            continue;
        };
        let reference = profile
            .get(Key::ReferenceServiceArn)
            .and_then(|arn| ServiceArn::parse(arn).ok());
        if let Some(env) = reference.and_then(|r| {
            r.service
                .strip_prefix(&format!("{mine}-"))
                .map(str::to_string)
        }) {
            warnings.push(format!(
                "name_prefix {mine} of profile {name} with --name {env} gives the reference service's name: eden refuses that name"
            ));
        }
        for (other, other_profile) in profiles {
            let Some(theirs) = prefix(other_profile) else {
                continue;
            };
            if other != name && (theirs == mine || theirs.starts_with(&format!("{mine}-"))) {
                warnings.push(format!(
                    "name_prefix {mine} of profile {name} overlaps {theirs} of profile {other}: some names of one are names of the other; eden keeps them apart by their tags, but prefixes that do not overlap avoid refused runs"
                ));
            }
        }
    }
    warnings
}

fn is_zone_id(id: &str) -> bool {
    let id = id.trim_start_matches("/hostedzone/");
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A complete, checked profile: what create and delete run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub profile: String,
    pub name_prefix: String,
    pub reference: ServiceArn,
    pub target_cluster: String,
    pub domain_name_prefix: String,
    pub master_alb_arn: String,
    pub zone_id: String,
    /// Looked up from the zone id when the profile leaves it out.
    pub zone_name: Option<String>,
    /// The shared ALB's HTTPS:443 listener, when the profile says: a guess, checked in the
    /// same round as the listener is read.
    pub listener_arn: Option<String>,
    /// The reference service's target group, when the profile says: a guess, checked in the
    /// same round as the reference service is read.
    pub reference_target_group: Option<String>,
    pub bucket: String,
    pub key: String,
    pub update_key: String,
    pub env_type: String,
    pub config_name_prefix: String,
    /// Taken from the reference service's load balancer entry when left out.
    pub container: Option<String>,
}

impl Settings {
    /// Refuses calls to a region other than the profile's (its reference service's): every read
    /// there would answer "not found", and the state table there would list nothing.
    pub fn check_region(&self, calls: &str) -> Result<(), Error> {
        if self.reference.region == calls {
            return Ok(());
        }
        Err(Error::OtherRegion {
            profile: self.profile.clone(),
            resources: self.reference.region.clone(),
            calls: calls.to_string(),
        })
    }

    /// Every name of the environment `env` under this profile.
    pub fn names(&self, env: &EnvName) -> Names {
        Names::new(
            env.clone(),
            &self.name_prefix,
            &self.domain_name_prefix,
            &self.config_name_prefix,
        )
    }

    /// The environment whose resources are named `resource` under this profile.
    pub fn env_of(&self, resource: &str) -> Option<EnvName> {
        let prefix = self.name_prefix.trim_end_matches('-');
        let name = match prefix {
            "" => resource,
            _ => resource.strip_prefix(prefix)?.strip_prefix('-')?,
        };
        EnvName::parse(name)
            .ok()
            .filter(|env| self.names(env).resource == resource)
    }

    /// The reference service's cluster: from its ARN, else the target cluster.
    pub fn reference_cluster(&self) -> &str {
        self.reference
            .cluster
            .as_deref()
            .unwrap_or(&self.target_cluster)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The seed's `api` profile, with valid-looking ids.
    pub fn seed_profile() -> Profile {
        let mut p = Profile::default();
        for (k, v) in [
            (Key::NamePrefix, "dev-dynamic"),
            (
                Key::ReferenceServiceArn,
                "arn:aws:ecs:ap-northeast-1:123456789012:service/dev/dev01-api",
            ),
            (Key::TargetCluster, "dev"),
            (Key::DomainNamePrefix, "api"),
            (
                Key::MasterAlbArn,
                "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:loadbalancer/app/dev-alb-api-dynamic/50dc6c495c0c9188",
            ),
            (Key::DynamicZoneId, "Z0123456789ABC"),
            (Key::ConfigBucketName, "servicename-config"),
            (Key::ConfigBucketKey, "endpoints.json"),
            (Key::ConfigUpdateKey, "api_endpoint"),
            (Key::ConfigEnvType, "dev"),
            (Key::ConfigNamePrefix, "servicename-dev"),
        ] {
            p.set(k, v);
        }
        p
    }

    #[test]
    fn a_profile_from_the_seeds_setup_flags_is_complete() {
        let p = seed_profile();
        assert_eq!(p.problems(), Vec::<String>::new());
        let s = p.settings("api").unwrap();
        assert_eq!(s.reference_cluster(), "dev");
        assert_eq!(s.zone_name, None);
        assert_eq!(s.container, None);
    }

    #[test]
    fn resource_names_lead_back_to_their_environment() {
        let s = seed_profile().settings("api").unwrap();
        let env = EnvName::parse("pr-42").unwrap();
        let resource = s.names(&env).resource;
        assert_eq!(s.env_of(&resource), Some(env));
        assert_eq!(s.env_of("other-pr-42"), None);
        assert_eq!(s.env_of(&s.name_prefix), None);
    }

    #[test]
    fn each_problem_is_one_line() {
        let mut p = seed_profile();
        p.set(Key::ConfigBucketKey, "");
        p.set(Key::MasterAlbArn, "dev-alb");
        p.set(Key::DynamicZoneId, "dev.example.com");
        p.set(Key::NamePrefix, "dev_dynamic");
        let problems = p.problems();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains("missing key config_bucket_key"));
        assert!(problems.iter().all(|p| !p.contains('\n')));
        assert!(p.settings("api").is_err());
    }

    #[test]
    fn remote_json_round_trips_and_reads_every_spelling() {
        let p = seed_profile();
        let json = p.to_remote_json();
        assert!(json.contains("\"endpoint_s3_bucket_name\":\"servicename-config\""));
        assert_eq!(Profile::from_remote_json("api", &json).unwrap(), p);

        let original = r#"{"CONFIG_BUCKET": "b", "NAME_PREFIX": "n", "config_bucket_key": "k"}"#;
        let q = Profile::from_remote_json("api", original).unwrap();
        assert_eq!(q.get(Key::ConfigBucketName), Some("b"));
        assert_eq!(q.get(Key::NamePrefix), Some("n"));
        assert_eq!(q.get(Key::ConfigBucketKey), Some("k"));

        for corrupt in ["not json", "[1]", r#"{"NAME_PREFIX": 3}"#] {
            let err = Profile::from_remote_json("api", corrupt).unwrap_err();
            assert!(err.to_string().contains("remote profile api"), "{err}");
        }
    }

    #[test]
    fn only_the_domain_prefix_may_be_empty() {
        let mut p = seed_profile();
        p.set(Key::DomainNamePrefix, "");
        assert!(p.problems().is_empty(), "{:?}", p.problems());
        p.set(Key::NamePrefix, " ");
        assert_eq!(p.problems(), ["missing key name_prefix"]);
    }

    #[test]
    fn profile_names_that_would_be_the_tables_own_keys_are_refused() {
        for bad in ["_profile", "_lease", "_", "", "a/b", "x\n"] {
            let e = check_name(bad).unwrap_err().to_string();
            assert!(e.starts_with("invalid profile name"), "{e}");
            assert!(seed_profile().settings(bad).is_err(), "{bad:?}");
        }
        for good in ["api", "team-2", "default", "a_b"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn overlapping_prefixes_and_the_reference_s_name_are_warned_of() {
        let with_prefix = |prefix: &str| {
            let mut p = seed_profile();
            p.set(Key::NamePrefix, prefix);
            p
        };
        let profiles = vec![
            ("api".to_string(), with_prefix("dev-dynamic-api")),
            ("team2".to_string(), with_prefix("dev-dynamic")),
            ("ref".to_string(), with_prefix("dev01")),
            ("admin".to_string(), with_prefix("dev-dynamic-admin")),
        ];
        let warnings = name_warnings(&profiles);
        assert_eq!(warnings.len(), 3, "{warnings:#?}");
        assert!(warnings[0].starts_with(
            "name_prefix dev-dynamic of profile team2 overlaps dev-dynamic-api of profile api"
        ));
        assert!(
            warnings[2].contains("profile ref with --name api gives the reference service's name")
        );
        assert!(name_warnings(&profiles[..1]).is_empty());
    }

    #[test]
    fn overrides_win_over_the_file() {
        let p = seed_profile().with_overrides(&[(Key::TargetCluster, "other".into())]);
        assert_eq!(p.get(Key::TargetCluster), Some("other"));
    }
}
