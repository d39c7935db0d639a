//! Consent listings, searchable profiles and abuse reports.

use mimi_store::{
    ConsentScope, ConsentState, FieldSelector, MatchMode, NewAbuseReport, ProfileFieldRecord,
    Record, SearchCondition, StoreError,
};

use crate::common::{TestDb, at, create_room, on_both_backends, provider, room, user};

on_both_backends!(
    consent_listing,
    profile_search,
    abuse_reports,
    current_room_state
);

async fn consent_listing(db: &TestDb) {
    let store = &db.store;
    let (alice, bob, carol) = (user("alice"), user("bob"), user("carol"));
    let scope = |requester: &mimi_proto::UserId, target: &mimi_proto::UserId, r: Option<&str>| {
        ConsentScope {
            requester: requester.clone(),
            target: target.clone(),
            room: r.map(room),
        }
    };
    store
        .set_consent(&scope(&alice, &bob, None), ConsentState::Requested, at(1))
        .await
        .unwrap();
    store
        .set_consent(
            &scope(&bob, &carol, Some("x")),
            ConsentState::Granted,
            at(2),
        )
        .await
        .unwrap();
    store
        .set_consent(&scope(&carol, &alice, None), ConsentState::Revoked, at(3))
        .await
        .unwrap();
    let of_bob = store.consents_of(&bob).await.unwrap();
    assert_eq!(
        of_bob
            .iter()
            .map(|r| (r.scope.clone(), r.state, r.updated_at))
            .collect::<Vec<_>>(),
        vec![
            (scope(&bob, &carol, Some("x")), ConsentState::Granted, at(2)),
            (scope(&alice, &bob, None), ConsentState::Requested, at(1)),
        ],
        "both directions, newest first"
    );
    assert!(store.consents_of(&user("dave")).await.unwrap().is_empty());
}

fn field(source: u8, name: &str, value: &str, searchable: bool) -> ProfileFieldRecord {
    ProfileFieldRecord {
        source,
        name: name.into(),
        value: value.into(),
        searchable,
    }
}

fn named(fields: &[(u8, &str)]) -> FieldSelector {
    FieldSelector::Named(fields.iter().map(|(s, n)| (*s, (*n).to_owned())).collect())
}

async fn profile_search(db: &TestDb) {
    let store = &db.store;
    let (alice, bob) = (user("alice"), user("bob"));
    for u in [&alice, &bob] {
        store.add_user(u, at(0)).await.unwrap();
    }
    store
        .set_profile(
            &alice,
            &[
                field(7, "email", "alice@a.example", true),
                field(7, "name", "Alice Liddell", true),
                field(7, "phone_number", "+15550001", false),
            ],
        )
        .await
        .unwrap();
    store
        .set_profile(
            &bob,
            &[
                field(7, "email", "bob@a.example", true),
                field(7, "name", "Bob 50%_Off", true),
                field(7, "phone_number", "+15550002", true),
            ],
        )
        .await
        .unwrap();
    assert_eq!(store.profile(&alice).await.unwrap().len(), 3);

    let email = |needle: &str| SearchCondition {
        fields: named(&[(7, "email")]),
        needle: needle.into(),
        mode: MatchMode::ExactIgnoreCase,
    };
    let phone = |needle: &str| SearchCondition {
        fields: named(&[(7, "phone_number")]),
        needle: needle.into(),
        mode: MatchMode::Exact,
    };
    let contains = |needle: &str| SearchCondition {
        fields: FieldSelector::Any,
        needle: needle.into(),
        mode: MatchMode::Contains,
    };
    let search = |c: Vec<SearchCondition>| async move { store.search_profiles(&c, 10).await };

    assert_eq!(
        search(vec![email("Alice@A.example")]).await.unwrap(),
        vec![alice.clone()]
    );
    // A field the user did not make searchable is never matched.
    assert!(search(vec![phone("+15550001")]).await.unwrap().is_empty());
    assert_eq!(
        search(vec![phone("+15550002")]).await.unwrap(),
        vec![bob.clone()]
    );
    // Substring over every searchable field, case-insensitive.
    assert_eq!(
        search(vec![contains("a.example")]).await.unwrap(),
        vec![alice.clone(), bob.clone()]
    );
    assert_eq!(
        search(vec![contains("LIDDELL")]).await.unwrap(),
        vec![alice.clone()]
    );
    // AND: each condition must hold.
    assert_eq!(
        search(vec![contains("a.example"), contains("liddell")])
            .await
            .unwrap(),
        vec![alice.clone()]
    );
    assert!(
        search(vec![email("alice@a.example"), phone("+15550002")])
            .await
            .unwrap()
            .is_empty()
    );
    // LIKE wildcards in the needle are literal.
    assert_eq!(
        search(vec![contains("50%_")]).await.unwrap(),
        vec![bob.clone()]
    );
    assert!(search(vec![contains("5%o")]).await.unwrap().is_empty());
    // No condition matches nobody; a limit bounds the answer.
    assert!(search(vec![]).await.unwrap().is_empty());
    assert_eq!(
        store
            .search_profiles(&[contains("example")], 1)
            .await
            .unwrap(),
        vec![alice.clone()]
    );
    assert!(matches!(
        store
            .search_profiles(
                &[SearchCondition {
                    fields: FieldSelector::Named(vec![]),
                    needle: "x".into(),
                    mode: MatchMode::Exact
                }],
                1
            )
            .await,
        Err(StoreError::InvalidInput(_))
    ));

    // Replacing a profile drops the old fields.
    store
        .set_profile(&alice, &[field(7, "email", "alice@a.example", false)])
        .await
        .unwrap();
    assert!(
        search(vec![email("alice@a.example")])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.profile(&alice).await.unwrap(),
        vec![field(7, "email", "alice@a.example", false)]
    );
}

async fn abuse_reports(db: &TestDb) {
    let store = &db.store;
    let report = |n: u8| NewAbuseReport {
        room: room("x"),
        reporter: provider("b.example"),
        reporting_user: n
            .is_multiple_of(2)
            .then(|| "mimi://b.example/u/bob".to_owned()),
        alleged_abuser: "mimi://c.example/u/mallory".into(),
        reason_code: n,
        note: format!("note {n}"),
        message_count: u32::from(n),
        body: vec![n; 4],
        received_at: at(u64::from(n)),
    };
    let first = store.add_abuse_report(&report(1)).await.unwrap();
    let second = store.add_abuse_report(&report(2)).await.unwrap();
    assert!(second > first);
    let all = store.abuse_reports(0, 10).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id, first);
    assert_eq!(all[0].report, report(1));
    assert_eq!(all[1].report, report(2));
    let page = store.abuse_reports(first, 10).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, second);
    assert_eq!(store.abuse_reports(0, 1).await.unwrap().len(), 1);
}

async fn current_room_state(db: &TestDb) {
    let store = &db.store;
    let r = room("assets");
    assert!(matches!(
        store.current_room_state(&r).await,
        Err(StoreError::NotFound(Record::Room))
    ));
    create_room(store, &r).await;
    assert_eq!(store.current_room_state(&r).await.unwrap(), b"state@0");
}
