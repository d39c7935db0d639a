//! Last-mile delivery to our own clients' mailboxes: which local clients get
//! one fanned-out event of a room.
//!
//! The same rule serves the hub (deliveries addressed to its own domain) and a
//! follower (each FanoutMessage of a `notify`): a Welcome goes to the clients
//! owning its KeyPackageRefs, which thereby join the room's local membership;
//! every other event goes to the room's local members (see [`crate::members`]).

use mimi_proto::{ClientId, ProviderId, RoomId};
use mimi_store::{MailboxDelivery, Record, StoreError};

use crate::api_error::ApiError;
use crate::state::AppState;

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
/// [`ApiError::Store`] / [`ApiError::Internal`] if the store or membership
/// file fails; nothing is delivered then and the caller's request fails.
pub(crate) async fn deliveries(
    state: &AppState,
    room: &RoomId,
    events: &[LocalEvent],
) -> Result<Vec<MailboxDelivery>, ApiError> {
    let mut out = Vec::new();
    for event in events {
        match &event.welcome_refs {
            Some(refs) => {
                for client in welcome_owners(state, refs).await? {
                    state
                        .members
                        .add(room, &client)
                        .await
                        .map_err(|_| ApiError::Internal("membership file write failed"))?;
                    out.push(MailboxDelivery {
                        client,
                        room: Some(room.clone()),
                        payload: event.payload.clone(),
                    });
                }
            }
            None => {
                let members = state
                    .members
                    .of_room(room)
                    .await
                    .map_err(|_| ApiError::Internal("membership file read failed"))?;
                out.extend(members.into_iter().map(|client| MailboxDelivery {
                    client,
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
