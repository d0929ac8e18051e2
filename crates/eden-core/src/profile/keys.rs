//! The profile keys, in the spellings real files use: the 0.1.x names (`config_bucket_name`),
//! the later `endpoint_*` names that the seed's `config setup` flags use, and the environment
//! variable names under which the original pushed remote profiles.

/// One setting of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    NamePrefix,
    ReferenceServiceArn,
    TargetCluster,
    DomainNamePrefix,
    MasterAlbArn,
    MasterListenerArn,
    ReferenceTargetGroupArn,
    DynamicZoneName,
    DynamicZoneId,
    ConfigBucketName,
    ConfigBucketKey,
    ConfigUpdateKey,
    ConfigEnvType,
    ConfigNamePrefix,
    TargetContainerName,
}

impl Key {
    /// In the order the seed's file lists them.
    pub const ALL: [Key; 15] = [
        Key::NamePrefix,
        Key::ReferenceServiceArn,
        Key::TargetCluster,
        Key::DomainNamePrefix,
        Key::MasterAlbArn,
        Key::MasterListenerArn,
        Key::ReferenceTargetGroupArn,
        Key::DynamicZoneName,
        Key::DynamicZoneId,
        Key::ConfigBucketName,
        Key::ConfigBucketKey,
        Key::ConfigUpdateKey,
        Key::ConfigEnvType,
        Key::ConfigNamePrefix,
        Key::TargetContainerName,
    ];

    /// The 0.1.x spelling, which eden writes.
    pub fn file_name(self) -> &'static str {
        match self {
            Key::NamePrefix => "name_prefix",
            Key::ReferenceServiceArn => "reference_service_arn",
            Key::TargetCluster => "target_cluster",
            Key::DomainNamePrefix => "domain_name_prefix",
            Key::MasterAlbArn => "master_alb_arn",
            Key::MasterListenerArn => "master_listener_arn",
            Key::ReferenceTargetGroupArn => "reference_target_group_arn",
            Key::DynamicZoneName => "dynamic_zone_name",
            Key::DynamicZoneId => "dynamic_zone_id",
            Key::ConfigBucketName => "config_bucket_name",
            Key::ConfigBucketKey => "config_bucket_key",
            Key::ConfigUpdateKey => "config_update_key",
            Key::ConfigEnvType => "config_env_type",
            Key::ConfigNamePrefix => "config_name_prefix",
            Key::TargetContainerName => "target_container_name",
        }
    }

    /// The later spelling, where it differs.
    pub fn later_name(self) -> Option<&'static str> {
        match self {
            Key::ConfigBucketName => Some("endpoint_s3_bucket_name"),
            Key::ConfigBucketKey => Some("endpoint_s3_key"),
            Key::ConfigUpdateKey => Some("endpoint_update_key"),
            Key::ConfigEnvType => Some("endpoint_env_type"),
            Key::ConfigNamePrefix => Some("endpoint_name_prefix"),
            _ => None,
        }
    }

    /// The original's environment variable name, used as the key in its pushed profiles.
    pub fn env_name(self) -> &'static str {
        match self {
            Key::NamePrefix => "NAME_PREFIX",
            Key::ReferenceServiceArn => "REFERENCE_SERVICE_ARN",
            Key::TargetCluster => "TARGET_CLUSTER",
            Key::DomainNamePrefix => "DOMAIN_NAME_PREFIX",
            Key::MasterAlbArn => "MASTER_ALB_ARN",
            Key::MasterListenerArn => "MASTER_LISTENER_ARN",
            Key::ReferenceTargetGroupArn => "REFERENCE_TARGET_GROUP_ARN",
            Key::DynamicZoneName => "DYNAMIC_ZONE_NAME",
            Key::DynamicZoneId => "DYNAMIC_ZONE_ID",
            Key::ConfigBucketName => "CONFIG_BUCKET",
            Key::ConfigBucketKey => "CONFIG_BUCKET_KEY",
            Key::ConfigUpdateKey => "CONFIG_UPDATE_KEY",
            Key::ConfigEnvType => "CONFIG_ENV_TYPE",
            Key::ConfigNamePrefix => "CONFIG_NAME_PREFIX",
            Key::TargetContainerName => "TARGET_CONTAINER_NAME",
        }
    }

    /// Keys that eden looks up in AWS when the profile leaves them out: the zone name from the
    /// zone id, the listener from the ALB, the reference's target group and container from its
    /// load balancer entry. `config check --aws --fix` fills in the first three, which save
    /// a create or delete the round trips that look them up.
    pub fn is_derived(self) -> bool {
        matches!(
            self,
            Key::DynamicZoneName
                | Key::MasterListenerArn
                | Key::ReferenceTargetGroupArn
                | Key::TargetContainerName
        )
    }

    /// The seed's frontend profile has no domain name prefix: its hosts are the bare names.
    pub fn may_be_empty(self) -> bool {
        self == Key::DomainNamePrefix
    }

    /// Reads any of the three spellings.
    pub fn from_any(name: &str) -> Option<Key> {
        Key::ALL
            .into_iter()
            .find(|k| k.file_name() == name || k.later_name() == Some(name) || k.env_name() == name)
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.file_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_reads_back_as_its_key() {
        for key in Key::ALL {
            assert_eq!(Key::from_any(key.file_name()), Some(key));
            assert_eq!(Key::from_any(key.env_name()), Some(key));
            if let Some(later) = key.later_name() {
                assert_eq!(Key::from_any(later), Some(key));
            }
        }
        assert_eq!(Key::from_any("endpoint_s3_key"), Some(Key::ConfigBucketKey));
        assert_eq!(Key::from_any("nonsense"), None);
    }
}
