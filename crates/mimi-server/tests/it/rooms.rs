//! Users on two followers share a room hosted on a third provider.

use mimi_client::{FrankStatus, RoomEvent};

use crate::common::{Club, received};

/// Bob (b.example) and Cathy (c.example) exchange commits, a Welcome and
/// messages through a.example, although B and C are not configured to know
/// each other: every byte between them went through the hub.
#[tokio::test(flavor = "multi_thread")]
async fn followers_that_do_not_know_each_other_share_a_room_through_the_hub() {
    // Club::new already ran keyMaterial (B → A → C), the add commit (B → A)
    // and the Welcome (A → C), and Cathy joined from it.
    let mut club = Club::new().await;

    let hello = club.cathy.send_text(&club.c, &club.room, "hello bob").await;
    let events = club
        .bob
        .sync_until(&club.b, |e| received(e).contains(&hello))
        .await;
    let message = events
        .iter()
        .find_map(|e| match e {
            RoomEvent::Message(m) => Some(m),
            _ => None,
        })
        .unwrap();
    assert_eq!(message.sender, club.cathy.user_id());
    // The hub franked it, and Bob's client verified the frank.
    assert!(
        matches!(message.frank, FrankStatus::Verified(_)),
        "{:?}",
        message.frank
    );

    let reply = club.bob.send_text(&club.b, &club.room, "hi cathy").await;
    club.cathy
        .sync_until(&club.c, |e| received(e).contains(&reply))
        .await;

    assert_eq!(club.a.metric("mimi_hub_messages_accepted_total").await, 2.0);
    assert_eq!(club.a.metric("mimi_hub_commits_accepted_total").await, 1.0);
}

/// A fan-out queue with steady traffic keeps its hold (decisions FED-19): messages accepted
/// while earlier ones are delivered ride on the same claim, instead of each costing the hub a
/// claim and an acknowledgement, two durable writes on its single writer.
#[tokio::test(flavor = "multi_thread")]
async fn steady_traffic_keeps_the_fan_out_hold() {
    // A linger far longer than any gap between these messages, so the count does not depend
    // on how fast this machine is; the 5 s hold limit may still split the run once per queue.
    let mut club = Club::with_hub_config("linger_ms = 3000\n").await;
    let holds = club.a.metric("mimi_fanout_holds_total").await;
    let mut sent = Vec::new();
    for i in 0..10 {
        sent.push(
            club.bob
                .send_text(&club.b, &club.room, &format!("m{i}"))
                .await,
        );
    }
    club.cathy
        .sync_until(&club.c, |e| {
            let got = received(e);
            sent.iter().all(|m| got.contains(m))
        })
        .await;
    let used = club.a.metric("mimi_fanout_holds_total").await - holds;
    // Two queues (Bob's and Cathy's providers); without the linger each message would be
    // claimed on its own.
    assert!(used <= 4.0, "{used} holds for 10 messages to 2 followers");
    assert!(club.a.metric("mimi_fanout_posts_total").await >= 2.0);
}
