//! Last-mile delivery to our own clients' mailboxes: which local clients get
//! one fanned-out event of a room.
//!
//! The same rule serves the hub (deliveries addressed to its own domain) and a
//! follower (each FanoutMessage of a `notify`): a Welcome goes to the clients
//! owning its KeyPackageRefs, which thereby join the room's local membership;
//! every other event goes to the room's local members.
//!
//! Local membership is the store's `room_members` table, so every instance on
//! one database agrees on it. A follower never sees a room's ratchet tree (it
//! only forwards), so it learns membership from what passes through it: room
//! creation, a Welcome routed to one of its clients, and its client's own
//! requests for the room through the client API; a client leaves it with
//! `DELETE /client/v1/rooms/{room}/membership`. Removals by others are not
//! tracked: a removed client receives ciphertexts it can no longer decrypt,
//! which reveals nothing its own provider does not already see (decisions
//! FED-9). A membership is written before the delivery that depends on it
//! commits, so a crash in between only causes a redelivery; it is never
//! written while the room's store lock is held (SQLite has one writer).

use mimi_proto::{ClientId, ProviderId, RoomId};
use mimi_store::{MailboxDelivery, Record, StoreError, Timestamp};

use crate::setup::http_error::ApiError;
use crate::setup::state::AppState;

/// One event to deliver locally.
#[derive(Debug)]
pub(crate) struct LocalEvent {
    /// The encoded FanoutMessage, which is what the mailbox stores.
    pub(crate) payload: Vec<u8>,
    /// For a Welcome: the KeyPackageRefs of its new members.
    pub(crate) welcome_refs: Option<Vec<Vec<u8>>>,
}

/// The mailbox entries for `events` of `room`, in order. Welcome recipients
/// are added to the room's local membership first, so later events of the
/// same batch reach them too.
///
/// # Errors
/// [`ApiError::Store`] if the store fails; nothing is delivered then and the
/// caller's request fails.
pub(crate) async fn deliveries(
    state: &AppState,
    room: &RoomId,
    events: &[LocalEvent],
) -> Result<Vec<MailboxDelivery>, ApiError> {
    let mut out = Vec::new();
    // Read once per batch, again after a Welcome added someone.
    let mut members: Option<Vec<ClientId>> = None;
    for event in events {
        match &event.welcome_refs {
            Some(refs) => {
                for client in welcome_owners(state, refs).await? {
                    members = None;
                    state
                        .store
                        .add_room_member(room, &client, Timestamp(state.now_ms()))
                        .await?;
                    out.push(MailboxDelivery {
                        client,
                        room: Some(room.clone()),
                        payload: event.payload.clone(),
                    });
                }
            }
            None => {
                if members.is_none() {
                    members = Some(state.store.room_members(room).await?);
                }
                out.extend(members.iter().flatten().map(|client| MailboxDelivery {
                    client: client.clone(),
                    room: Some(room.clone()),
                    payload: event.payload.clone(),
                }));
            }
        }
    }
    Ok(out)
}

/// Our clients that published the KeyPackages a Welcome is encrypted to.
/// Unknown refs are skipped: the Welcome may also be for other providers'
/// clients, or for a KeyPackage we already purged.
async fn welcome_owners(state: &AppState, refs: &[Vec<u8>]) -> Result<Vec<ClientId>, ApiError> {
    let ours: &ProviderId = state.provider();
    let mut owners = Vec::new();
    for r in refs {
        match state.store.key_package_owner(r).await {
            Ok(client) if client.as_uri().provider() == *ours => {
                if !owners.contains(&client) {
                    owners.push(client);
                }
            }
            Ok(_) | Err(StoreError::NotFound(Record::KeyPackage | Record::Client)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(owners)
}
