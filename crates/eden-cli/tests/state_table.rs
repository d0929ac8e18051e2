//! The state table's adapter on moto keeps the lease's promises, which the core's own tests
//! check on its in-memory fake: a lease held (taken, renewed or taken back) is taken by no other
//! run, one given up tells the next holder what its run left, and the state item is written only
//! under it.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use eden_aws::DynamoDb;
use eden_core::cloud::{Fence, LeaseClaim, LeaseTake, PreviousHolder, Release, StateTable};
use support::World;

const TABLE: &str = "eden";
const KEY: &str = "api/dev-dynamic-api-foo";

fn claim(owner: &str, version: &str, takeover: Option<&str>) -> LeaseClaim {
    LeaseClaim {
        key: KEY.into(),
        owner: owner.into(),
        version: version.into(),
        takeover: takeover.map(str::to_string),
    }
}

fn held(take: LeaseTake) -> String {
    match take {
        LeaseTake::Held { version } => version,
        taken => panic!("taken from its holder: {taken:?}"),
    }
}

fn taken(take: LeaseTake) -> PreviousHolder {
    match take {
        LeaseTake::Taken(previous) => previous,
        held => panic!("not taken: {held:?}"),
    }
}

#[tokio::test]
async fn a_lease_is_held_until_given_up_and_tells_the_next_holder_what_was_left() {
    let world = World::new();
    let table = DynamoDb::new(world.aws().await.ddb.clone());
    table.ensure_table(TABLE).await.unwrap();

    let first = table.take_lease(TABLE, &claim("a", "a1", None)).await;
    assert_eq!(taken(first.unwrap()), PreviousHolder::Nobody);
    let seen = held(
        table
            .take_lease(TABLE, &claim("b", "b1", None))
            .await
            .unwrap(),
    );
    assert_eq!(seen, "a1");
    // Renewed: a takeover of the version seen before fails.
    assert!(table.renew_lease(TABLE, KEY, "a", "a2").await.unwrap());
    let take = table.take_lease(TABLE, &claim("b", "b1", Some("a1"))).await;
    assert_eq!(held(take.unwrap()), "a2");
    assert!(!table.renew_lease(TABLE, KEY, "b", "b2").await.unwrap());

    // Given up with what the run left: the next holder is told.
    let free = Release::Free {
        version: "a3",
        left: Some("what a left"),
    };
    assert!(table.release_lease(TABLE, KEY, "a", free).await.unwrap());
    assert!(!table
        .take_back_lease(TABLE, KEY, "a", "a2", "a4")
        .await
        .unwrap());
    assert!(table
        .take_back_lease(TABLE, KEY, "a", "a3", "a4")
        .await
        .unwrap());
    // Taken back, it is held again: no other run takes it.
    let take = table.take_lease(TABLE, &claim("b", "b1", None)).await;
    assert_eq!(held(take.unwrap()), "a4");
    assert_eq!(
        table.leases(TABLE).await.unwrap()[0].owner.as_deref(),
        Some("a")
    );
    let free = Release::Free {
        version: "a5",
        left: Some("what a left"),
    };
    assert!(table.release_lease(TABLE, KEY, "a", free).await.unwrap());
    let take = table.take_lease(TABLE, &claim("b", "b1", None)).await;
    assert_eq!(
        taken(take.unwrap()),
        PreviousHolder::Released {
            left: Some("what a left".into())
        }
    );

    // A holder seen unchanged is taken over; the one it replaced can no longer give it up.
    let take = table.take_lease(TABLE, &claim("c", "c1", Some("b1"))).await;
    assert_eq!(taken(take.unwrap()), PreviousHolder::Expired);
    assert!(!table
        .release_lease(TABLE, KEY, "b", Release::Dropped)
        .await
        .unwrap());
    assert!(table
        .release_lease(TABLE, KEY, "c", Release::Dropped)
        .await
        .unwrap());
    let take = table.take_lease(TABLE, &claim("d", "d1", None)).await;
    assert_eq!(taken(take.unwrap()), PreviousHolder::Nobody);
}

/// A delete gives the lease up with the state item in one write; should its last call fail, both
/// are put back, unless another run made either meanwhile.
#[tokio::test]
async fn a_lease_given_up_with_its_environment_is_put_back_only_where_nobody_came() {
    let world = World::new();
    let table = DynamoDb::new(world.aws().await.ddb.clone());
    table.ensure_table(TABLE).await.unwrap();
    let item = eden_core::cloud::EnvironmentItem {
        profile: "api".into(),
        name: "dev-dynamic-api-foo".into(),
        endpoint: "api-foo.dev.example.com".into(),
        last_updated: 1,
        expires_at: Some(1),
        ttl_seconds: None,
    };
    taken(
        table
            .take_lease(TABLE, &claim("a", "a1", None))
            .await
            .unwrap(),
    );
    // The state item is written only under the lease.
    let fence = |owner: &str| Fence {
        key: KEY.into(),
        owner: owner.into(),
    };
    let (a, b) = (fence("a"), fence("b"));
    assert!(!table.put_environment(TABLE, &item, &b).await.unwrap());
    assert!(table.put_environment(TABLE, &item, &a).await.unwrap());
    let gone = Release::WithEnvironment {
        profile: "api",
        name: "dev-dynamic-api-foo",
    };
    assert!(table.release_lease(TABLE, KEY, "a", gone).await.unwrap());
    let recorded = || table.environment(TABLE, "api", "dev-dynamic-api-foo");
    assert_eq!(recorded().await.unwrap(), None);
    assert!(table.leases(TABLE).await.unwrap().is_empty());

    let back = claim("a", "a2", None);
    assert!(table
        .restore_lease(TABLE, &back, Some(&item))
        .await
        .unwrap());
    assert_eq!(recorded().await.unwrap(), Some(item.clone()));
    held(
        table
            .take_lease(TABLE, &claim("b", "b1", None))
            .await
            .unwrap(),
    );
    // Made again meanwhile: nothing is put back.
    assert!(!table
        .restore_lease(TABLE, &back, Some(&item))
        .await
        .unwrap());
    let (profile, name) = ("api", "dev-dynamic-api-foo");
    let delete = |fence| table.delete_environment(TABLE, profile, name, fence);
    assert!(!delete(&b).await.unwrap());
    assert_eq!(recorded().await.unwrap(), Some(item.clone()));
    assert!(delete(&a).await.unwrap());
    assert_eq!(recorded().await.unwrap(), None);
}
