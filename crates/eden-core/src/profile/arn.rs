//! The two ARNs a profile names, parsed far enough to catch a pasted wrong value early and to
//! find the reference service's cluster.

use crate::error::Error;

/// `arn:PARTITION:ecs:REGION:ACCOUNT:service/CLUSTER/NAME` (or the old `service/NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceArn {
    pub arn: String,
    pub partition: String,
    pub region: String,
    pub account: String,
    pub cluster: Option<String>,
    pub service: String,
}

impl ServiceArn {
    pub fn parse(arn: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidProfileValue {
            key: "reference_service_arn".into(),
            value: arn.to_string(),
            expected: "arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE",
        };
        let resource = arn_resource(arn, "ecs").ok_or_else(bad)?;
        let path = resource.strip_prefix("service/").ok_or_else(bad)?;
        let (cluster, service) = match path.split('/').collect::<Vec<_>>().as_slice() {
            [service] if !service.is_empty() => (None, service.to_string()),
            [cluster, service] if !cluster.is_empty() && !service.is_empty() => {
                (Some(cluster.to_string()), service.to_string())
            }
            _ => return Err(bad()),
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        Ok(Self {
            arn: arn.to_string(),
            partition: parts[1].to_string(),
            region: parts[3].to_string(),
            account: parts[4].to_string(),
            cluster,
            service,
        })
    }
}

/// Checks `arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID`.
pub fn check_alb_arn(arn: &str) -> Result<(), Error> {
    let resource = arn_resource(arn, "elasticloadbalancing");
    let parts: Vec<&str> = resource.map(|r| r.split('/').collect()).unwrap_or_default();
    match parts.as_slice() {
        ["loadbalancer", "app", name, id] if !name.is_empty() && !id.is_empty() => Ok(()),
        _ => Err(Error::InvalidProfileValue {
            key: "master_alb_arn".into(),
            value: arn.to_string(),
            expected: "arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID",
        }),
    }
}

/// The resource part of an ARN of `service`, when the ARN has all six parts.
fn arn_resource<'a>(arn: &'a str, service: &str) -> Option<&'a str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, svc, _region, _account, resource]
            if partition.starts_with("aws") && *svc == service && !resource.is_empty() =>
        {
            Some(resource)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_arns_give_cluster_and_service() {
        let a = ServiceArn::parse("arn:aws:ecs:ap-northeast-1:123456789012:service/dev/dev01-api")
            .unwrap();
        assert_eq!(a.cluster.as_deref(), Some("dev"));
        assert_eq!(
            (a.partition.as_str(), a.region.as_str()),
            ("aws", "ap-northeast-1")
        );
        assert_eq!(a.account, "123456789012");
        assert_eq!(a.service, "dev01-api");
        let old = ServiceArn::parse("arn:aws:ecs:us-east-1:123456789012:service/api").unwrap();
        assert_eq!(old.cluster, None);
    }

    #[test]
    fn malformed_arns_are_rejected() {
        for bad in [
            "dev01-api",
            "arn:aws:ecs:us-east-1:1:task/dev/x",
            "arn:aws:ec2:us-east-1:1:service/dev/x",
            "arn:aws:ecs:us-east-1:1:service/a/b/c",
            "arn:aws:ecs:us-east-1:1:service/",
        ] {
            assert!(ServiceArn::parse(bad).is_err(), "{bad}");
        }
        assert!(check_alb_arn(
            "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/shared/50dc6c495c0c9188"
        )
        .is_ok());
        assert!(check_alb_arn("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1").is_err());
        assert!(check_alb_arn("loadbalancer/app/shared/1").is_err());
    }
}
