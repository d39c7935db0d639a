//! KeyPackages: reserve once, never expired, filtered by cipher suite; a last-resort
//! KeyPackage served again once the rest are gone; claimed ones expire after a set time.

use std::collections::HashSet;

use mimi_proto::{ClientId, UserId};

use mimi_store::{
    ClaimRequest, ClientClaim, Conflict, KeyPackageStock, NewKeyPackage, Record, StoreError,
    Timestamp,
};

use crate::common::{TestDb, add_client, at, on_both_backends, user};

on_both_backends!(
    claims_are_once_and_skip_expired,
    claims_for_a_user_cover_each_client,
    publication_errors,
    fifty_parallel_claims_for_ten_key_packages,
    last_resort_is_served_when_the_rest_are_gone_and_never_deleted_on_claim,
    claimed_key_packages_expire_after_the_claim_ttl,
);

/// `at(0)` is 1_700_000_000 s; KeyPackages valid until `+1 day` unless said otherwise.
fn kp(tag: &str, suite: u16, not_after: u64) -> NewKeyPackage {
    NewKeyPackage {
        key_package_ref: format!("ref:{tag}").into_bytes(),
        cipher_suite: suite,
        not_after,
        key_package: format!("kp:{tag}").into_bytes(),
        last_resort: false,
    }
}

fn last_resort(tag: &str, not_after: u64) -> NewKeyPackage {
    NewKeyPackage {
        last_resort: true,
        ..kp(tag, 1, not_after)
    }
}

const VALID: u64 = 1_700_000_000 + 86_400;

/// User alice and her client phone, registered.
async fn alice_phone(store: &mimi_store::Store) -> (UserId, ClientId) {
    let alice = user("alice");
    let phone = add_client(store, &alice, "phone").await;
    (alice, phone)
}

/// Whether a claim of `client`'s KeyPackages under `request` finds none.
async fn exhausted(store: &mimi_store::Store, client: &ClientId, request: &ClaimRequest) -> bool {
    matches!(
        store.claim_key_package(client, request).await,
        Err(StoreError::Exhausted)
    )
}

fn request(now: Timestamp, suites: &[u16]) -> ClaimRequest {
    ClaimRequest {
        requester: user("carol"),
        cipher_suites: suites.to_vec(),
        now,
    }
}

async fn claims_are_once_and_skip_expired(db: &TestDb) {
    let store = &db.store;
    let (_, phone) = alice_phone(store).await;
    store
        .publish_key_packages(
            &phone,
            &[
                kp("expired", 1, 1_700_000_000), // not_after == now: expired
                kp("suite3", 3, VALID),
                kp("a", 1, VALID),
                kp("b", 1, VALID),
            ],
            at(0),
        )
        .await
        .unwrap();
    assert_eq!(
        store.available_key_packages(&phone, at(0)).await.unwrap(),
        3
    );

    let first = store
        .claim_key_package(&phone, &request(at(0), &[1]))
        .await
        .unwrap();
    let second = store
        .claim_key_package(&phone, &request(at(0), &[1, 2]))
        .await
        .unwrap();
    let mut got = vec![
        first.key_package_ref.clone(),
        second.key_package_ref.clone(),
    ];
    got.sort();
    assert_eq!(got, vec![b"ref:a".to_vec(), b"ref:b".to_vec()]);
    assert_eq!(first.client, phone);
    assert_eq!(
        first.key_package,
        [b"kp:", &first.key_package_ref[4..]].concat()
    );

    // Suite 1 is used up; the expired one is never handed out.
    assert!(exhausted(store, &phone, &request(at(0), &[1])).await);
    let any = store
        .claim_key_package(&phone, &request(at(0), &[]))
        .await
        .unwrap();
    assert_eq!(any.key_package_ref, b"ref:suite3");
    assert_eq!(any.cipher_suite, 3);
    assert!(exhausted(store, &phone, &request(at(0), &[])).await);
    assert_eq!(
        store.available_key_packages(&phone, at(0)).await.unwrap(),
        0
    );

    // Reserved KeyPackages still route Welcomes to their client until they expire.
    assert_eq!(store.key_package_owner(b"ref:a").await.unwrap(), phone);
    let later = Timestamp(VALID * 1000);
    assert_eq!(
        store
            .purge_expired_key_packages(later, Timestamp(0))
            .await
            .unwrap(),
        4
    );
    assert!(matches!(
        store.key_package_owner(b"ref:a").await,
        Err(StoreError::NotFound(Record::KeyPackage))
    ));

    let too_many: Vec<u16> = (0..=mimi_store::MAX_CLAIM_CIPHER_SUITES as u16).collect();
    assert!(matches!(
        store
            .claim_key_package(&phone, &request(at(0), &too_many))
            .await,
        Err(StoreError::InvalidInput(_))
    ));
}

async fn claims_for_a_user_cover_each_client(db: &TestDb) {
    let store = &db.store;
    let alice = user("alice");
    let laptop = add_client(store, &alice, "laptop").await;
    let phone = add_client(store, &alice, "phone").await;
    store
        .publish_key_packages(&phone, &[kp("p1", 1, VALID)], at(0))
        .await
        .unwrap();

    let claims = store
        .claim_key_packages(&alice, &request(at(0), &[1]))
        .await
        .unwrap();
    assert_eq!(claims.len(), 2);
    assert_eq!(claims[0], ClientClaim::Exhausted(laptop.clone()));
    assert!(matches!(&claims[1], ClientClaim::Claimed(c) if c.key_package_ref == b"ref:p1"));

    let again = store
        .claim_key_packages(&alice, &request(at(0), &[1]))
        .await
        .unwrap();
    assert_eq!(
        again,
        vec![
            ClientClaim::Exhausted(laptop),
            ClientClaim::Exhausted(phone)
        ]
    );
    assert!(
        store
            .claim_key_packages(&user("nobody"), &request(at(0), &[]))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn publication_errors(db: &TestDb) {
    let store = &db.store;
    let (alice, phone) = alice_phone(store).await;
    store
        .publish_key_packages(&phone, &[kp("a", 1, VALID)], at(0))
        .await
        .unwrap();
    // All or nothing: "b" is not stored because "a" is a duplicate.
    assert!(matches!(
        store
            .publish_key_packages(&phone, &[kp("b", 1, VALID), kp("a", 1, VALID)], at(0))
            .await,
        Err(StoreError::Conflict(Conflict::AlreadyExists(
            Record::KeyPackage
        )))
    ));
    assert_eq!(
        store.available_key_packages(&phone, at(0)).await.unwrap(),
        1
    );

    let ghost = alice.client("ghost").unwrap();
    assert!(matches!(
        store
            .publish_key_packages(&ghost, &[kp("c", 1, VALID)], at(0))
            .await,
        Err(StoreError::NotFound(Record::Client))
    ));
    assert!(matches!(
        store
            .publish_key_packages(&phone, &[kp("d", 1, u64::MAX)], at(0))
            .await,
        Err(StoreError::InvalidInput(_))
    ));
}

/// Acceptance: 50 parallel claims, from two instances, for a user with 10 KeyPackages.
async fn fifty_parallel_claims_for_ten_key_packages(db: &TestDb) {
    let alice = user("alice");
    let phone = add_client(&db.store, &alice, "phone").await;
    let kps: Vec<_> = (0..10).map(|i| kp(&format!("k{i}"), 1, VALID)).collect();
    db.store
        .publish_key_packages(&phone, &kps, at(0))
        .await
        .unwrap();
    let instances = [db.store.clone(), db.second_instance().await];

    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = instances[i % 2].clone();
        let phone = phone.clone();
        tasks.push(tokio::spawn(async move {
            store.claim_key_package(&phone, &request(at(0), &[1])).await
        }));
    }
    let mut claimed = Vec::new();
    let mut exhausted = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(kp) => claimed.push(kp.key_package_ref),
            Err(StoreError::Exhausted) => exhausted += 1,
            Err(other) => panic!("unexpected claim error: {other:?}"),
        }
    }
    let distinct: HashSet<_> = claimed.iter().cloned().collect();
    assert_eq!(claimed.len(), 10);
    assert_eq!(distinct.len(), 10, "a KeyPackage was handed out twice");
    assert_eq!(exhausted, 40);
}

async fn last_resort_is_served_when_the_rest_are_gone_and_never_deleted_on_claim(db: &TestDb) {
    let store = &db.store;
    let (alice, phone) = alice_phone(store).await;
    store
        .publish_key_packages(
            &phone,
            &[last_resort("old-lr", VALID), kp("a", 1, VALID)],
            at(0),
        )
        .await
        .unwrap();
    // A newer last resort (uploaded later) is preferred over the older one.
    store
        .publish_key_packages(&phone, &[last_resort("new-lr", VALID)], at(1))
        .await
        .unwrap();
    let stock = store.key_package_stock(&phone, at(1)).await.unwrap();
    assert_eq!(
        stock,
        KeyPackageStock {
            available: 1,
            last_resort: true
        }
    );

    // The regular one goes first, reserved.
    let first = store
        .claim_key_package(&phone, &request(at(1), &[1]))
        .await
        .unwrap();
    assert_eq!(first.key_package_ref, b"ref:a");
    assert!(!first.last_resort);
    // Then the newest last resort, again and again: it is never reserved.
    for _ in 0..3 {
        let again = store
            .claim_key_package(&phone, &request(at(1), &[1]))
            .await
            .unwrap();
        assert_eq!(again.key_package_ref, b"ref:new-lr");
        assert!(again.last_resort);
    }
    // A claim for another suite finds nothing: the last resort is suite 1.
    assert!(exhausted(store, &phone, &request(at(1), &[3])).await);
    let claims = store
        .claim_key_packages(&alice, &request(at(1), &[]))
        .await
        .unwrap();
    assert!(matches!(&claims[..], [ClientClaim::Claimed(c)] if c.key_package_ref == b"ref:new-lr"));
    assert_eq!(
        store.key_package_stock(&phone, at(1)).await.unwrap(),
        KeyPackageStock {
            available: 0,
            last_resort: true
        }
    );
    // Both last resorts still route Welcomes; the claim TTL does not touch them.
    assert_eq!(
        store
            .purge_expired_key_packages(at(2), Timestamp(u64::MAX / 2))
            .await
            .unwrap(),
        1,
        "only the reserved regular KeyPackage goes"
    );
    assert_eq!(store.key_package_owner(b"ref:old-lr").await.unwrap(), phone);
    let by_user = store.key_package_stock_by_user(at(2)).await.unwrap();
    assert_eq!(
        by_user,
        vec![(
            alice.clone(),
            KeyPackageStock {
                available: 0,
                last_resort: true
            },
            1
        )]
    );
    // Expired, a last resort is neither served nor counted.
    let later = Timestamp(VALID * 1000);
    assert!(exhausted(store, &phone, &request(later, &[])).await);
    assert!(
        !store
            .key_package_stock(&phone, later)
            .await
            .unwrap()
            .last_resort
    );
}

async fn claimed_key_packages_expire_after_the_claim_ttl(db: &TestDb) {
    let store = &db.store;
    let (_, phone) = alice_phone(store).await;
    store
        .publish_key_packages(&phone, &[kp("a", 1, VALID), kp("b", 1, VALID)], at(0))
        .await
        .unwrap();
    store
        .claim_key_package(&phone, &request(at(10), &[1]))
        .await
        .unwrap();
    store
        .claim_key_package(&phone, &request(at(20), &[1]))
        .await
        .unwrap();
    // Claims made before `claimed_before` go; the later one, and unexpired
    // unclaimed ones, stay.
    assert_eq!(
        store
            .purge_expired_key_packages(at(30), at(15))
            .await
            .unwrap(),
        1
    );
    assert!(store.key_package_owner(b"ref:a").await.is_err());
    assert_eq!(store.key_package_owner(b"ref:b").await.unwrap(), phone);
}
