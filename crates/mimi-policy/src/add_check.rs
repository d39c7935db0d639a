//! May this member add that user? Asked before anyone claims the user's
//! KeyPackages: by the adding client before it fetches them, and by the room's
//! hub before it relays a keyMaterial request (protocol-06 §5.2 names the
//! room). A refused add must not use up KeyPackages (decisions KP-1).
//!
//! The answer is the engine's own: the question is put as the proposal bundle
//! the real add would carry (a participant-list entry for an unlisted user,
//! then an Add of one of the user's clients), judged against the effective
//! state. So every rule an add meets (POL-10, POL-13, POL-30, POL-33, the
//! role matrix, the organisation scope, the room's size limits) is checked
//! here by the same code that later judges the commit, and nowhere else.

use mimi_proto::components::{
    AppDataUpdate, AppDataUpdateOperation, BANNED_ROLE, ComponentId, NO_ROLE, ParticipantId,
    ParticipantListUpdate, UserRolePair,
};
use mimi_proto::{ClientId, UserId};

use crate::actor::{Actor, ActorId};
use crate::change::{Change, Proposal};
use crate::claims::Claims;
use crate::denial::{Denial, Rejection};
use crate::engine::Context;
use crate::state::RoomState;

/// Device names tried for the probe client that stands in for the target's
/// real clients (their KeyPackages are not known yet). The probe must not be a
/// member already; a room cannot hold all of these for one user in practice,
/// and if it does the last one's answer (`AlreadyMember`) is still a refusal.
const PROBE_DEVICES: [&str; 4] = ["add-probe", "add-probe-2", "add-probe-3", "add-probe-4"];

impl RoomState {
    /// Whether member client `adder` may add `target`'s clients, listing
    /// `target` in `role` if it is not listed yet. `role: None` asks whether
    /// any role the room defines would do (the hub's question: a keyMaterial
    /// request does not say which role the adder will choose).
    ///
    /// Judge it against the *effective* state (the one new proposals meet).
    ///
    /// # Errors
    /// The [`Rejection`] the add itself would get; with `role: None`, the one
    /// for the lowest-numbered role when no role is allowed.
    pub fn authorize_add(
        &self,
        ctx: &Context<'_>,
        adder: &ClientId,
        target: &UserId,
        role: Option<u32>,
    ) -> Result<(), Rejection> {
        let user = ParticipantId::from(target.clone());
        let sender = Actor::Client(adder.clone());
        let probe = self.probe_client(target);
        let add = Proposal::new(
            sender.clone(),
            Change::add(probe, Claims::basic(user.clone())),
        );
        if self.role_of(&user).is_some() {
            return self.evaluate_proposals(ctx, &[add]).map(drop);
        }
        let candidates: Vec<u32> = match role {
            Some(role) => vec![role],
            None => {
                let mut all: Vec<u32> = self
                    .roles()
                    .roles
                    .iter()
                    .map(|r| r.role_index)
                    .filter(|r| *r != NO_ROLE && *r != BANNED_ROLE)
                    .collect();
                all.sort_unstable();
                all.dedup();
                if all.is_empty() {
                    // Nothing to be added into: ask for role 0 and let the
                    // engine say why that fails.
                    all.push(NO_ROLE);
                }
                all
            }
        };
        let mut first = None;
        for role in candidates {
            let list = Proposal::new(
                sender.clone(),
                Change::AppData(list_entry(adder, &user, role)?),
            );
            match self.evaluate_proposals(ctx, &[list, add.clone()]) {
                Ok(_) => return Ok(()),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        Err(first.expect("at least one candidate role was judged"))
    }

    /// A client id of `target` that is not a member of the room.
    fn probe_client(&self, target: &UserId) -> ClientId {
        let mut probe = None;
        for device in PROBE_DEVICES {
            let client = target
                .client(device)
                .expect("the probe device names are valid path segments");
            let free = self.member(&client).is_none();
            probe = Some(client);
            if free {
                break;
            }
        }
        probe.expect("PROBE_DEVICES is not empty")
    }
}

/// A participant-list update appending `user` in `role`.
fn list_entry(
    adder: &ClientId,
    user: &ParticipantId,
    role: u32,
) -> Result<AppDataUpdate, Rejection> {
    let update = ParticipantListUpdate {
        added_participants: vec![UserRolePair {
            user: user.clone(),
            role_index: role,
        }],
        ..ParticipantListUpdate::default()
    };
    let bytes = update.encode().map_err(|_| {
        Rejection::whole(Denial::MalformedComponent {
            actor: ActorId::Client(adder.clone()),
            component: ComponentId::PARTICIPANT_LIST,
            error: mimi_proto::DecodeError::TooLarge("participant-list update"),
        })
    })?;
    Ok(AppDataUpdate {
        component_id: ComponentId::PARTICIPANT_LIST,
        op: AppDataUpdateOperation::Update(bytes),
    })
}
