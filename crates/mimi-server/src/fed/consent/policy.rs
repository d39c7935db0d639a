//! The provider's consent policy and the keyMaterial consent decision
//! (protocol-06 §5.2, §5.7, §8). Pure: the caller loads the scopes.

use mimi_proto::RoomId;
use mimi_proto::messages::KeyMaterialUserCode;
use mimi_store::{ConsentScope, ConsentState};
use serde::Deserialize;

/// When a user's KeyPackages may be fetched by someone else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentPolicy {
    /// Only with a grant from the target, or with implicit consent: the target
    /// contacted the requester first (it asked the requester for consent, or
    /// the requester granted it consent). Decisions RA-2.
    ContactsOnly,
    /// Only with an explicit grant from the target.
    Explicit,
    /// Anyone may fetch (no consent needed). The default, so development
    /// federations work without a consent round trip.
    #[default]
    Open,
}

/// The `[consent]` section of the configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsentSettings {
    /// `open` (default), `contacts-only` or `explicit`.
    pub policy: ConsentPolicy,
    /// Privacy: answer `noConsent` instead of `userUnknown`,
    /// `noConsentForThisRoom` or `userDeleted` (protocol-06 §5.2), and accept
    /// consent requests for unknown users with 201 instead of 404, so a
    /// requester cannot tell who exists.
    pub uniform_refusals: bool,
}

impl ConsentSettings {
    /// The code a refusal is answered with, after the privacy option.
    pub fn refusal(&self, code: KeyMaterialUserCode) -> KeyMaterialUserCode {
        let hidden = matches!(
            code,
            KeyMaterialUserCode::UserUnknown
                | KeyMaterialUserCode::NoConsentForThisRoom
                | KeyMaterialUserCode::UserDeleted
        );
        if self.uniform_refusals && hidden {
            KeyMaterialUserCode::NoConsent
        } else {
            code
        }
    }
}

/// Whether a requester may fetch a target's KeyPackages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// `noConsent`.
    NoConsent,
    /// `noConsentForThisRoom`: consent exists, but for other rooms only.
    NoConsentForThisRoom,
}

/// Decides a keyMaterial request from `requester` for `target` in `room`.
///
/// `granted` are the scopes (requester → target) the store holds; `reverse`
/// the scopes target → requester (for implicit consent under
/// [`ConsentPolicy::ContactsOnly`]). The most specific scope wins: a scope for
/// exactly this room decides before a room-less one, so a user may revoke one
/// room while consenting to the others (decisions RA-3).
pub fn decide(
    policy: ConsentPolicy,
    room: Option<&RoomId>,
    forward: &[(ConsentScope, ConsentState)],
    reverse: &[(ConsentScope, ConsentState)],
) -> Decision {
    if policy == ConsentPolicy::Open {
        return Decision::Allow;
    }
    let for_room = room.and_then(|r| {
        forward
            .iter()
            .find(|(s, _)| s.room.as_ref() == Some(r))
            .map(|(_, state)| *state)
    });
    let anywhere = forward
        .iter()
        .find(|(s, _)| s.room.is_none())
        .map(|(_, state)| *state);
    match for_room.or(anywhere) {
        Some(ConsentState::Granted) => return Decision::Allow,
        // An explicit revocation beats implicit consent.
        Some(ConsentState::Revoked) => return Decision::NoConsent,
        Some(ConsentState::Requested) | None => {}
    }
    if policy == ConsentPolicy::ContactsOnly
        && reverse.iter().any(|(s, state)| {
            matches!(state, ConsentState::Requested | ConsentState::Granted)
                && (s.room.is_none() || s.room.as_ref() == room)
        })
    {
        return Decision::Allow;
    }
    let elsewhere = forward
        .iter()
        .any(|(s, state)| *state == ConsentState::Granted && s.room.is_some());
    if elsewhere && room.is_some() {
        Decision::NoConsentForThisRoom
    } else {
        Decision::NoConsent
    }
}

#[cfg(test)]
mod tests {
    use mimi_proto::UserId;

    use super::*;

    fn scope(from: &str, to: &str, room: Option<&str>) -> ConsentScope {
        ConsentScope {
            requester: UserId::parse(&format!("mimi://{from}")).unwrap(),
            target: UserId::parse(&format!("mimi://{to}")).unwrap(),
            room: room.map(|r| RoomId::parse(&format!("mimi://a.example/r/{r}")).unwrap()),
        }
    }

    fn fwd(room: Option<&str>, state: ConsentState) -> (ConsentScope, ConsentState) {
        (scope("b.example/u/bob", "c.example/u/cathy", room), state)
    }

    fn rev(room: Option<&str>, state: ConsentState) -> (ConsentScope, ConsentState) {
        (scope("c.example/u/cathy", "b.example/u/bob", room), state)
    }

    fn room(r: &str) -> RoomId {
        RoomId::parse(&format!("mimi://a.example/r/{r}")).unwrap()
    }

    use ConsentPolicy::{ContactsOnly, Explicit, Open};
    use ConsentState::{Granted, Requested, Revoked};
    use Decision::{Allow, NoConsent, NoConsentForThisRoom};

    #[test]
    fn open_allows_everything() {
        assert_eq!(decide(Open, None, &[fwd(None, Revoked)], &[]), Allow);
    }

    #[test]
    fn explicit_needs_a_grant_for_the_room_or_for_any_room() {
        let x = room("x");
        let y = room("y");
        assert_eq!(decide(Explicit, Some(&x), &[], &[]), NoConsent);
        assert_eq!(
            decide(Explicit, Some(&x), &[fwd(None, Requested)], &[]),
            NoConsent
        );
        assert_eq!(
            decide(Explicit, Some(&x), &[fwd(None, Granted)], &[]),
            Allow
        );
        assert_eq!(decide(Explicit, None, &[fwd(None, Granted)], &[]), Allow);
        let only_x = [fwd(Some("x"), Granted)];
        assert_eq!(decide(Explicit, Some(&x), &only_x, &[]), Allow);
        assert_eq!(
            decide(Explicit, Some(&y), &only_x, &[]),
            NoConsentForThisRoom
        );
        assert_eq!(decide(Explicit, None, &only_x, &[]), NoConsent);
        // The room's own scope is more specific than the room-less one.
        let all_but_x = [fwd(None, Granted), fwd(Some("x"), Revoked)];
        assert_eq!(decide(Explicit, Some(&x), &all_but_x, &[]), NoConsent);
        assert_eq!(decide(Explicit, Some(&y), &all_but_x, &[]), Allow);
        assert_eq!(
            decide(Explicit, Some(&x), &[fwd(None, Revoked)], &[]),
            NoConsent
        );
        // Implicit consent does not count under `explicit`.
        assert_eq!(
            decide(Explicit, None, &[], &[rev(None, Requested)]),
            NoConsent
        );
    }

    #[test]
    fn contacts_only_accepts_a_target_that_reached_out_first() {
        let x = room("x");
        assert_eq!(decide(ContactsOnly, Some(&x), &[], &[]), NoConsent);
        assert_eq!(
            decide(ContactsOnly, Some(&x), &[], &[rev(None, Requested)]),
            Allow
        );
        assert_eq!(
            decide(ContactsOnly, Some(&x), &[], &[rev(Some("x"), Granted)]),
            Allow
        );
        assert_eq!(
            decide(ContactsOnly, Some(&x), &[], &[rev(Some("y"), Granted)]),
            NoConsent
        );
        assert_eq!(
            decide(ContactsOnly, Some(&x), &[], &[rev(None, Revoked)]),
            NoConsent
        );
        // An explicit revocation beats implicit consent.
        assert_eq!(
            decide(
                ContactsOnly,
                Some(&x),
                &[fwd(None, Revoked)],
                &[rev(None, Requested)]
            ),
            NoConsent
        );
    }

    #[test]
    fn privacy_option_hides_the_reason() {
        let open = ConsentSettings::default();
        let private = ConsentSettings {
            uniform_refusals: true,
            ..open
        };
        for code in [
            KeyMaterialUserCode::UserUnknown,
            KeyMaterialUserCode::NoConsentForThisRoom,
            KeyMaterialUserCode::UserDeleted,
        ] {
            assert_eq!(open.refusal(code), code);
            assert_eq!(private.refusal(code), KeyMaterialUserCode::NoConsent);
        }
        assert_eq!(
            private.refusal(KeyMaterialUserCode::Success),
            KeyMaterialUserCode::Success
        );
    }
}
