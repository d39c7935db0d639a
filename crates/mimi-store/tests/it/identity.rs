//! Users, clients and consent scopes.

use mimi_store::{Conflict, ConsentScope, ConsentState, NewClient, Record, StoreError};

use crate::common::{TestDb, add_client, at, on_both_backends, room, user};

on_both_backends!(
    users_and_clients,
    client_uniqueness_and_parents,
    consent_scopes
);

async fn users_and_clients(db: &TestDb) {
    let store = &db.store;
    let alice = user("alice");
    assert!(!store.user_exists(&alice).await.unwrap());
    let phone = add_client(store, &alice, "phone").await;
    let laptop = add_client(store, &alice, "laptop").await;
    assert!(store.user_exists(&alice).await.unwrap());

    let record = store.client(&phone).await.unwrap();
    assert_eq!(record.user, alice);
    assert_eq!(record.credential, format!("cred:{phone}").into_bytes());
    assert_eq!(record.created_at, at(0));

    let by_key = store
        .client_by_signature_key(format!("sig:{laptop}").as_bytes())
        .await
        .unwrap();
    assert_eq!(by_key.client, laptop);

    let all: Vec<_> = store
        .clients_of(&alice)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client)
        .collect();
    assert_eq!(
        all,
        vec![laptop.clone(), phone.clone()],
        "ordered by client id"
    );

    store.remove_client(&phone).await.unwrap();
    assert!(matches!(
        store.client(&phone).await,
        Err(StoreError::NotFound(Record::Client))
    ));
    assert!(matches!(
        store.remove_client(&phone).await,
        Err(StoreError::NotFound(Record::Client))
    ));
    assert!(matches!(
        store.client_by_signature_key(b"nobody").await,
        Err(StoreError::NotFound(Record::Client))
    ));
}

async fn client_uniqueness_and_parents(db: &TestDb) {
    let store = &db.store;
    let alice = user("alice");
    let phone = add_client(store, &alice, "phone").await;

    assert!(matches!(
        store.add_user(&alice, at(1)).await,
        Err(StoreError::Conflict(Conflict::AlreadyExists(Record::User)))
    ));

    let again = NewClient {
        client: phone.clone(),
        user: alice.clone(),
        credential: vec![1],
        signature_key: vec![2],
    };
    assert!(matches!(
        store.add_client(&again, at(1)).await,
        Err(StoreError::Conflict(Conflict::AlreadyExists(
            Record::Client
        )))
    ));

    let same_key = NewClient {
        client: alice.client("tablet").unwrap(),
        user: alice.clone(),
        credential: vec![1],
        signature_key: format!("sig:{phone}").into_bytes(),
    };
    assert!(matches!(
        store.add_client(&same_key, at(1)).await,
        Err(StoreError::Conflict(Conflict::AlreadyExists(
            Record::Client
        )))
    ));

    let bob = user("bob");
    let orphan = NewClient {
        client: bob.client("phone").unwrap(),
        user: bob.clone(),
        credential: vec![1],
        signature_key: vec![3],
    };
    assert!(matches!(
        store.add_client(&orphan, at(1)).await,
        Err(StoreError::NotFound(Record::User))
    ));

    let mismatched = NewClient {
        client: bob.client("phone").unwrap(),
        user: alice.clone(),
        credential: vec![1],
        signature_key: vec![4],
    };
    assert!(matches!(
        store.add_client(&mismatched, at(1)).await,
        Err(StoreError::InvalidInput(_))
    ));
}

async fn consent_scopes(db: &TestDb) {
    let store = &db.store;
    let (alice, bob) = (user("alice"), user("bob"));
    let anywhere = ConsentScope {
        requester: alice.clone(),
        target: bob.clone(),
        room: None,
    };
    let in_room = ConsentScope {
        room: Some(room("clubhouse")),
        ..anywhere.clone()
    };
    assert_eq!(store.consent(&anywhere).await.unwrap(), None);

    store
        .set_consent(&in_room, ConsentState::Requested, at(1))
        .await
        .unwrap();
    assert_eq!(
        store.consent(&in_room).await.unwrap(),
        Some(ConsentState::Requested)
    );
    assert_eq!(
        store.consent(&anywhere).await.unwrap(),
        None,
        "scopes are distinct"
    );

    // A cancel only withdraws a pending request.
    assert!(!store.cancel_consent_request(&anywhere).await.unwrap());
    assert!(store.cancel_consent_request(&in_room).await.unwrap());
    assert_eq!(store.consent(&in_room).await.unwrap(), None);

    store
        .set_consent(&anywhere, ConsentState::Granted, at(2))
        .await
        .unwrap();
    assert!(!store.cancel_consent_request(&anywhere).await.unwrap());
    store
        .set_consent(&in_room, ConsentState::Revoked, at(3))
        .await
        .unwrap();
    let between = store.consents_between(&alice, &bob).await.unwrap();
    assert_eq!(
        between,
        vec![
            (anywhere.clone(), ConsentState::Granted),
            (in_room.clone(), ConsentState::Revoked)
        ]
    );
    assert!(
        store
            .consents_between(&bob, &alice)
            .await
            .unwrap()
            .is_empty()
    );

    store
        .set_consent(&anywhere, ConsentState::Revoked, at(4))
        .await
        .unwrap();
    assert_eq!(
        store.consent(&anywhere).await.unwrap(),
        Some(ConsentState::Revoked)
    );
}
