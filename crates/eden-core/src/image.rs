//! Image URIs, parsed far enough to reject a wrong value and to check ECR images before use.

use crate::error::Error;

/// The longest image a container definition takes.
const MAX_LEN: usize = 255;

/// `[REGISTRY/]REPOSITORY[:TAG][@DIGEST]`, the Docker reference grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUri {
    pub uri: String,
    pub repository: String,
    pub reference: ImageReference,
    /// Set when the registry is an Amazon ECR registry.
    pub ecr: Option<EcrRegistry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageReference {
    Tag(String),
    Digest(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrRegistry {
    pub account: String,
    pub region: String,
}

impl ImageUri {
    pub fn parse(uri: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::InvalidImageUri {
            uri: uri.to_string(),
            why: why.to_string(),
        };
        if uri.is_empty() || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("it is empty or holds white space"));
        }
        if uri.len() > MAX_LEN {
            return Err(bad("it is longer than the 255 characters ECS takes"));
        }
        let (rest, digest) = match uri.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest)),
            None => (uri, None),
        };
        // A ':' after the last '/' starts the tag; one before it is a registry port.
        let (path, tag) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        let (registry, repository) = match path.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (Some(first), rest)
            }
            _ => (None, path),
        };
        if !repository.split('/').all(is_path_component) {
            return Err(bad(
                "the repository must be lowercase letters, digits and . _ - separated by /",
            ));
        }
        let reference = match (tag, digest) {
            (_, Some(d)) if is_digest(d) => ImageReference::Digest(d.to_string()),
            (_, Some(_)) => return Err(bad("the digest must look like sha256:HEX")),
            (Some(t), None) if is_tag(t) => ImageReference::Tag(t.to_string()),
            (Some(_), None) => return Err(bad("the tag must be 1-128 letters, digits, _ . -")),
            (None, None) => ImageReference::Tag("latest".into()),
        };
        Ok(Self {
            uri: uri.to_string(),
            repository: repository.to_string(),
            reference,
            ecr: registry.and_then(ecr_registry),
        })
    }
}

/// `ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]`
fn ecr_registry(host: &str) -> Option<EcrRegistry> {
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        [account, "dkr", ecr, region, "amazonaws", "com", ..]
            if account.len() == 12
                && account.chars().all(|c| c.is_ascii_digit())
                && ecr.starts_with("ecr") =>
        {
            Some(EcrRegistry {
                account: account.to_string(),
                region: region.to_string(),
            })
        }
        _ => None,
    }
}

fn is_path_component(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn is_tag(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && !s.starts_with(['.', '-'])
}

fn is_digest(s: &str) -> bool {
    match s.split_once(':') {
        Some((algo, hex)) => {
            !algo.is_empty() && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_uris_name_account_region_repository_and_tag() {
        let i = ImageUri::parse("123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/team/api:v1.2")
            .unwrap();
        assert_eq!(i.repository, "team/api");
        assert_eq!(i.reference, ImageReference::Tag("v1.2".into()));
        let ecr = i.ecr.unwrap();
        assert_eq!(
            (ecr.account.as_str(), ecr.region.as_str()),
            ("123456789012", "ap-northeast-1")
        );
    }

    #[test]
    fn other_registries_parse_without_ecr() {
        for (uri, repo) in [
            ("nginx", "nginx"),
            ("public.ecr.aws/nginx/nginx:1.27", "nginx/nginx"),
            ("localhost:5000/app:dev", "app"),
            ("ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "org/app"),
        ] {
            let i = ImageUri::parse(uri).unwrap();
            assert_eq!(i.repository, repo, "{uri}");
            assert!(i.ecr.is_none(), "{uri}");
        }
        assert_eq!(
            ImageUri::parse("nginx").unwrap().reference,
            ImageReference::Tag("latest".into())
        );
    }

    #[test]
    fn malformed_uris_are_rejected() {
        for bad in [
            "",
            "has space:1",
            "UPPER/case:1",
            "repo:",
            "repo:tag:extra",
            "repo@md5",
            "a//b:1",
            "-x:1",
        ] {
            assert!(ImageUri::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("registry.example.com/{}:1", "a".repeat(240));
        let e = ImageUri::parse(&long).unwrap_err().to_string();
        assert!(e.contains("255 characters"), "{e}");
    }
}
