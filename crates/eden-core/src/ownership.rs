//! Which AWS resources are eden's to change or delete. eden finds an environment's resources by
//! their derived names, but a name proves nothing: the reference service, a hand-made look-alike
//! or another profile's environment can have it. A resource is this environment's when its tags
//! say so; one without eden's tags is adopted only when the state table records the environment
//! (the original made its resources untagged). Route 53 records carry no tags: eden's record is
//! the exact alias it writes, at a host the state item records.

use crate::cloud::Tag;

pub const MANAGED_BY: &str = "eden:managed-by";
pub const PROFILE: &str = "eden:profile";
pub const NAME: &str = "eden:name";

/// The tags on everything eden makes: whose it is.
pub fn tags(profile: &str, name: &str) -> Vec<Tag> {
    vec![
        (MANAGED_BY.into(), "eden".into()),
        (PROFILE.into(), profile.into()),
        (NAME.into(), name.into()),
    ]
}

/// What a run may do with a resource that has one of its environment's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Tagged as this profile's and this environment's.
    Ours,
    /// Untagged, of an environment the state table records: made before eden tagged what it
    /// makes. Tagged when a create or deploy touches it.
    Adopt,
    /// Someone else's: never changed or deleted. Says why, in a few words.
    NotOurs(String),
}

impl Claim {
    /// Whose a resource with these tags is. `recorded`: the state table has an item of this
    /// profile and environment.
    pub fn of(tags: &[Tag], profile: &str, name: &str, recorded: bool) -> Self {
        let tag = |key: &str| tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        match (tag(MANAGED_BY), tag(PROFILE), tag(NAME)) {
            (Some("eden"), Some(p), Some(n)) if p == profile && n == name => Claim::Ours,
            (None, None, None) if recorded => Claim::Adopt,
            (None, None, None) => Claim::NotOurs(
                "it carries no eden tags and the state table records no such environment".into(),
            ),
            (_, p, n) => Claim::NotOurs(format!(
                "it is tagged as eden's for profile {} and name {}",
                p.unwrap_or("?"),
                n.unwrap_or("?")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagged(pairs: &[(&str, &str)]) -> Vec<Tag> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_this_profiles_and_names_tags_or_a_recorded_untagged_resource_are_eden_s() {
        let ours = tags("api", "foo");
        assert_eq!(Claim::of(&ours, "api", "foo", false), Claim::Ours);
        assert_eq!(Claim::of(&ours, "api", "foo", true), Claim::Ours);
        assert_eq!(Claim::of(&[], "api", "foo", true), Claim::Adopt);
        let other_tags = [("team", "payments")];
        assert_eq!(
            Claim::of(&tagged(&other_tags), "api", "foo", true),
            Claim::Adopt
        );
        let cases = [
            (
                tags("team2", "api-foo"),
                true,
                "profile team2 and name api-foo",
            ),
            (tags("api", "bar"), true, "name bar"),
            (Vec::new(), false, "no eden tags"),
            (tagged(&[(NAME, "foo")]), true, "profile ? and name foo"),
            (
                tagged(&[(MANAGED_BY, "eden")]),
                true,
                "profile ? and name ?",
            ),
        ];
        for (tags, recorded, why) in cases {
            match Claim::of(&tags, "api", "foo", recorded) {
                Claim::NotOurs(text) => assert!(text.contains(why), "{text}"),
                other => panic!("{tags:?}: {other:?}"),
            }
        }
    }
}
