//! The naming rules: every AWS name eden uses is derived here, from the profile's prefixes and the
//! user's `--name`, so that `delete` always finds exactly what `create` made.

use sha2::{Digest, Sha256};

use crate::error::Error;

/// AWS caps target group names at 32 characters.
const TARGET_GROUP_MAX: usize = 32;
/// DNS caps one label at 63 characters.
const DNS_LABEL_MAX: usize = 63;
/// Hex digits of the hash that keeps a shortened name unique.
const HASH_LEN: usize = 8;
/// The longest `--name` once DNS-safe: with a profile's prefix (at most [`PREFIX_MAX`]) it
/// still fits ECS's 255-character service and task definition family names.
pub const NAME_MAX: usize = 128;
/// The longest `name_prefix` or `config_name_prefix` a profile may have.
pub const PREFIX_MAX: usize = 64;
/// The longest host name an ALB host-header condition takes (Route 53 would take 253).
pub const HOST_MAX: usize = 128;

/// A user's environment name (`--name`, often a branch), made DNS-safe: lowercase ASCII letters,
/// digits and single hyphens, with no hyphen at either end.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnvName(String);

impl EnvName {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let mut safe = String::with_capacity(raw.len());
        for c in raw.chars() {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                safe.push(c);
            } else if !safe.is_empty() && !safe.ends_with('-') {
                safe.push('-');
            }
        }
        let safe = safe.trim_end_matches('-');
        if safe.is_empty() {
            return Err(Error::InvalidName {
                name: raw.to_string(),
            });
        }
        if safe.len() > NAME_MAX {
            return Err(Error::NameTooLong {
                name: raw.to_string(),
                len: safe.len(),
                max: NAME_MAX,
            });
        }
        if safe != raw {
            tracing::info!("Using name {safe} for {raw:?}: names are made DNS-safe");
        }
        Ok(Self(safe.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EnvName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every name of one environment under one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub env: EnvName,
    /// `{name_prefix}-{name}`: the task definition family and the ECS service.
    pub resource: String,
    /// The resource name, shortened to 32 characters with a stable hash when longer.
    pub target_group: String,
    /// `{domain_name_prefix}-{name}`, shortened to one 63-character DNS label when longer.
    pub host_label: String,
    /// `{config_name_prefix}-{name}`: the object's `name` in the environments file.
    pub file_entry: String,
}

impl Names {
    pub fn new(
        env: EnvName,
        name_prefix: &str,
        domain_name_prefix: &str,
        config_name_prefix: &str,
    ) -> Self {
        let resource = join(name_prefix, env.as_str());
        Self {
            target_group: shorten(&resource, TARGET_GROUP_MAX),
            host_label: shorten(&join(domain_name_prefix, env.as_str()), DNS_LABEL_MAX),
            file_entry: join(config_name_prefix, env.as_str()),
            resource,
            env,
        }
    }

    /// The environment's hostname in the zone, without the trailing dot.
    pub fn fqdn(&self, zone_name: &str) -> String {
        format!("{}.{}", self.host_label, dns_name(zone_name))
    }

    /// The hostname, when it fits in a listener rule's host condition.
    pub fn checked_fqdn(&self, zone_name: &str) -> Result<String, Error> {
        let fqdn = self.fqdn(zone_name);
        if fqdn.len() > HOST_MAX {
            return Err(Error::HostTooLong {
                host: fqdn.clone(),
                len: fqdn.len(),
                max: HOST_MAX,
            });
        }
        Ok(fqdn)
    }
}

/// A DNS name as Route 53 compares it: Route 53 answers with a trailing dot and in any case.
pub fn dns_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// `prefix-name`, or just `name` when the profile has no prefix (the seed's frontend profile).
fn join(prefix: &str, name: &str) -> String {
    let prefix = prefix.trim_end_matches('-');
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}-{name}")
    }
}

/// Keeps `name` when it fits; otherwise cuts it and appends a hash of the whole name, so that two
/// long names that share a beginning still get distinct, repeatable short names.
fn shorten(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let digest = Sha256::digest(name.as_bytes());
    let hash: String = digest
        .iter()
        .take(HASH_LEN / 2)
        .map(|b| format!("{b:02x}"))
        .collect();
    let head = name[..max - HASH_LEN - 1].trim_end_matches('-');
    format!("{head}-{hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_are_made_dns_safe() {
        let cases = [
            ("foo", "foo"),
            ("feature/ABC_1", "feature-abc-1"),
            ("--a..b--", "a-b"),
            ("Üml-ä1", "ml-1"),
            ("release/2024.11", "release-2024-11"),
        ];
        for (raw, want) in cases {
            assert_eq!(EnvName::parse(raw).unwrap().as_str(), want, "{raw}");
        }
    }

    #[test]
    fn names_with_nothing_safe_are_rejected() {
        for raw in ["", "...", "日本語", "--", " / "] {
            assert!(EnvName::parse(raw).is_err(), "{raw:?} should be rejected");
        }
    }

    #[test]
    fn names_too_long_for_aws_are_refused_with_their_length() {
        assert!(EnvName::parse(&"a".repeat(NAME_MAX)).is_ok());
        let e = EnvName::parse(&"a".repeat(NAME_MAX + 1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("129 characters"), "{e}");
        let n = names("foo");
        assert!(n.checked_fqdn("dev.example.com").is_ok());
        let zone = format!("{}.example.com", "z".repeat(120));
        let e = n.checked_fqdn(&zone).unwrap_err().to_string();
        assert!(e.contains("at most 128"), "{e}");
    }

    fn names(env: &str) -> Names {
        Names::new(
            EnvName::parse(env).unwrap(),
            "dev-dynamic",
            "api",
            "servicename-dev",
        )
    }

    #[test]
    fn names_follow_the_seed() {
        let n = names("foo");
        assert_eq!(n.resource, "dev-dynamic-foo");
        assert_eq!(n.target_group, "dev-dynamic-foo");
        assert_eq!(n.fqdn("dev.example.com."), "api-foo.dev.example.com");
        assert_eq!(n.file_entry, "servicename-dev-foo");
    }

    #[test]
    fn an_empty_domain_prefix_gives_the_bare_name() {
        let n = Names::new(EnvName::parse("test").unwrap(), "p", "", "c");
        assert_eq!(n.fqdn("dev.example.com"), "test.dev.example.com");
    }

    #[test]
    fn long_names_are_shortened_stably_and_distinctly() {
        let a = names("a-very-long-branch-name-for-a-feature-one");
        let b = names("a-very-long-branch-name-for-a-feature-two");
        assert!(a.target_group.len() <= 32, "{}", a.target_group);
        assert_eq!(
            a.target_group,
            names("a-very-long-branch-name-for-a-feature-one").target_group
        );
        assert_ne!(a.target_group, b.target_group);
        assert!(!a.target_group.contains("--"));
    }

    #[test]
    fn long_host_labels_fit_in_63_characters() {
        let long = "x".repeat(80);
        let n = names(&long);
        assert!(n.host_label.len() <= 63, "{}", n.host_label);
        assert_ne!(n.host_label, names(&"x".repeat(81)).host_label);
    }
}
