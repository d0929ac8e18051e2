//! Listener rule priorities. Each environment starts its search at a priority derived from its
//! hostname, so concurrent creates of different environments rarely want the same one; a lost
//! race (PriorityInUse) moves on to the next free priority.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use crate::cloud::ListenerRule;

/// ALB rule priorities run from 1 to 50000.
const MAX_PRIORITY: u32 = 50_000;

/// The first free priority at or after the host's starting point, wrapping around; None when
/// every priority is taken.
pub fn free_priority(
    host: &str,
    rules: &[ListenerRule],
    also_taken: &BTreeSet<u32>,
) -> Option<u32> {
    let taken: BTreeSet<u32> = rules
        .iter()
        .filter_map(|r| r.priority)
        .chain(also_taken.iter().copied())
        .collect();
    let start = starting_priority(host);
    (0..MAX_PRIORITY)
        .map(|offset| (start - 1 + offset) % MAX_PRIORITY + 1)
        .find(|p| !taken.contains(p))
}

fn starting_priority(host: &str) -> u32 {
    let digest = Sha256::digest(host.as_bytes());
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    n % MAX_PRIORITY + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(priority: u32) -> ListenerRule {
        ListenerRule {
            arn: format!("arn:rule/{priority}"),
            priority: Some(priority),
            hosts: vec![],
            other_conditions: false,
            target_groups: vec![],
        }
    }

    #[test]
    fn the_starting_point_is_stable_and_spread() {
        assert_eq!(
            starting_priority("api-foo.dev.example.com"),
            starting_priority("api-foo.dev.example.com")
        );
        let starts: BTreeSet<u32> = (0..50)
            .map(|i| starting_priority(&format!("api-{i}.dev")))
            .collect();
        assert!(
            starts.len() >= 49,
            "50 hosts should start apart, got {}",
            starts.len()
        );
    }

    #[test]
    fn taken_priorities_are_skipped_and_the_range_wraps() {
        let host = "api-foo.dev.example.com";
        let start = starting_priority(host);
        assert_eq!(free_priority(host, &[], &BTreeSet::new()), Some(start));
        let next = free_priority(host, &[rule(start)], &BTreeSet::new()).unwrap();
        assert_ne!(next, start);
        let tried: BTreeSet<u32> = [next].into();
        let third = free_priority(host, &[rule(start)], &tried).unwrap();
        assert!(third != start && third != next);
        let all: Vec<ListenerRule> = (1..=MAX_PRIORITY).map(rule).collect();
        assert_eq!(free_priority(host, &all, &BTreeSet::new()), None);
        let mut most = all.clone();
        most.remove(0);
        assert_eq!(free_priority(host, &most, &BTreeSet::new()), Some(1));
    }
}
