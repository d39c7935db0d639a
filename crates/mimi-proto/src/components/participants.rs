//! The participant list (protocol-06 §7.5; component `participant_list`, 0x0022).
//!
//! ```text
//! struct { opaque user<V>; uint32 role_index; } UserRolePair;
//! struct { UserRolePair participants<V>; } ParticipantListData;
//! struct { uint32 user_index; uint32 role_index; } UserindexRolePair;
//! struct {
//!   UserindexRolePair changedRoleParticipants<V>;
//!   uint32 removedIndices<V>;
//!   UserRolePair addedParticipants<V>;
//! } ParticipantListUpdate;
//! ```
//!
//! Decoding checks the wire shape only. Whether indices are in range, roles
//! exist or a user appears twice is room policy (`mimi-policy`), because it
//! depends on the current list.

use std::fmt;
use std::str::FromStr;

use crate::codec::{Codec, Reader, Writer, wire_value};
use crate::error::{DecodeError, EncodeError, IdError};
use crate::id::{MimiUri, PseudonymId, UriKind, UserId};

/// Most entries in one participant list or update. A 100 000-user room is far
/// past any deployment we know of; the cap bounds the per-entry identifier
/// parsing and the memory one component can make us hold.
pub const MAX_PARTICIPANTS: usize = 100_000;

/// Who a participant-list entry names: a user URI (`mimi://a.example/u/alice`)
/// or, in minimal-metadata rooms (protocol-06 §6), a pseudonym URI
/// (`mimi://a.example/p/crazykoala75`). No other identifier kind may be listed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId(MimiUri);

impl ParticipantId {
    /// Parses text leniently (see [`MimiUri::parse`]) and checks the kind.
    ///
    /// # Errors
    /// An [`IdError`], [`IdError::WrongKind`] if it is neither a user nor a pseudonym.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        MimiUri::parse(s)?.try_into()
    }

    /// Parses canonical wire bytes and checks the kind.
    ///
    /// # Errors
    /// As [`MimiUri::parse_canonical`], or [`IdError::WrongKind`].
    pub fn parse_canonical(bytes: &[u8]) -> Result<Self, IdError> {
        MimiUri::parse_canonical(bytes)?.try_into()
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The canonical bytes, as listed on the wire.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The provider domain.
    pub fn domain(&self) -> &str {
        self.0.domain()
    }

    /// The untyped identifier.
    pub fn as_uri(&self) -> &MimiUri {
        &self.0
    }

    /// True for a pseudonym (`/p/`), false for a user (`/u/`).
    pub fn is_pseudonym(&self) -> bool {
        self.0.kind() == UriKind::Pseudonym
    }

    /// The user, unless this is a pseudonym.
    pub fn user(&self) -> Option<UserId> {
        UserId::try_from(self.0.clone()).ok()
    }
}

impl TryFrom<MimiUri> for ParticipantId {
    type Error = IdError;
    fn try_from(uri: MimiUri) -> Result<Self, IdError> {
        match uri.kind() {
            UriKind::User | UriKind::Pseudonym => Ok(Self(uri)),
            found => Err(IdError::WrongKind {
                expected: UriKind::User,
                found,
            }),
        }
    }
}

impl From<UserId> for ParticipantId {
    fn from(user: UserId) -> Self {
        Self(user.into_uri())
    }
}

impl From<PseudonymId> for ParticipantId {
    fn from(p: PseudonymId) -> Self {
        Self(p.into_uri())
    }
}

impl FromStr for ParticipantId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::parse(s)
    }
}

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Codec for ParticipantId {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let raw = r.opaque("participant", crate::id::MAX_URI_LEN)?;
        Ok(Self::parse_canonical(raw)?)
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.opaque(self.as_bytes())
    }
}

/// One participant-list entry: `struct { opaque user<V>; uint32 role_index; }`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserRolePair {
    /// The listed user (or pseudonym).
    pub user: ParticipantId,
    /// Its role in `roles_list`. Role 0 means "not listed", so policy rejects it here.
    pub role_index: u32,
}

impl Codec for UserRolePair {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            user: ParticipantId::read(r)?,
            role_index: r.u32()?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.user.write(w)?;
        w.u32(self.role_index);
        Ok(())
    }
}

/// `struct { UserRolePair participants<V>; } ParticipantListData;`
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParticipantListData {
    /// The entries in list order; update indices refer to this order.
    pub participants: Vec<UserRolePair>,
}

impl ParticipantListData {
    /// Encodes a participant list from borrowed entries, exactly as
    /// [`ParticipantListData::encode`] would encode the same entries, without
    /// cloning every identifier into a `ParticipantListData` first. The policy
    /// engine uses this on the commit path.
    ///
    /// # Errors
    /// [`EncodeError::TooLong`] past the MLS length limit.
    pub fn encode_entries<'a>(
        entries: impl IntoIterator<Item = (&'a ParticipantId, u32)>,
    ) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new();
        w.vector_with(|w| {
            entries.into_iter().try_for_each(|(user, role)| {
                user.write(w)?;
                w.u32(role);
                Ok(())
            })
        })?;
        Ok(w.into_bytes())
    }
}

impl Codec for ParticipantListData {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            participants: r.vector(
                "ParticipantListData.participants",
                MAX_PARTICIPANTS,
                UserRolePair::read,
            )?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.vector(&self.participants, |w, p| p.write(w))
    }
}

/// `struct { uint32 user_index; uint32 role_index; } UserindexRolePair;`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserindexRolePair {
    /// Index into the participant list as it was before this update.
    pub user_index: u32,
    /// The new role.
    pub role_index: u32,
}

impl Codec for UserindexRolePair {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            user_index: r.u32()?,
            role_index: r.u32()?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u32(self.user_index);
        w.u32(self.role_index);
        Ok(())
    }
}

/// A delta to the participant list, applied as role changes, then removals,
/// then appends (protocol-06 §7.5; index reading in `docs/decisions.md` RSC-6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParticipantListUpdate {
    /// Role changes by index.
    pub changed_role_participants: Vec<UserindexRolePair>,
    /// Indices of entries to remove.
    pub removed_indices: Vec<u32>,
    /// Entries appended at the end.
    pub added_participants: Vec<UserRolePair>,
}

impl Codec for ParticipantListUpdate {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            changed_role_participants: r.vector(
                "ParticipantListUpdate.changedRoleParticipants",
                MAX_PARTICIPANTS,
                UserindexRolePair::read,
            )?,
            removed_indices: r.vector(
                "ParticipantListUpdate.removedIndices",
                MAX_PARTICIPANTS,
                |r| r.u32(),
            )?,
            added_participants: r.vector(
                "ParticipantListUpdate.addedParticipants",
                MAX_PARTICIPANTS,
                UserRolePair::read,
            )?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.vector(&self.changed_role_participants, |w, c| c.write(w))?;
        w.vector(&self.removed_indices, |w, i| {
            w.u32(*i);
            Ok(())
        })?;
        w.vector(&self.added_participants, |w, p| p.write(w))
    }
}

wire_value!(
    ParticipantId => "participant",
    UserRolePair => "UserRolePair",
    ParticipantListData => "ParticipantListData",
    UserindexRolePair => "UserindexRolePair",
    ParticipantListUpdate => "ParticipantListUpdate",
);

super::component!(ParticipantListData => PARTICIPANT_LIST);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn participant_kinds() {
        assert!(ParticipantId::parse("mimi://a.example/u/alice").is_ok());
        let p = ParticipantId::parse("mimi://a.example/p/koala").unwrap();
        assert!(p.is_pseudonym());
        assert_eq!(p.user(), None);
        assert!(matches!(
            ParticipantId::parse("mimi://a.example/d/alice/phone"),
            Err(IdError::WrongKind {
                found: UriKind::Client,
                ..
            })
        ));
    }

    #[test]
    fn encode_entries_matches_encode() {
        let list = ParticipantListData {
            participants: (0..70)
                .map(|i| UserRolePair {
                    user: ParticipantId::parse(&format!("mimi://a.example/u/user{i}")).unwrap(),
                    role_index: i % 4,
                })
                .collect(),
        };
        let borrowed = ParticipantListData::encode_entries(
            list.participants.iter().map(|p| (&p.user, p.role_index)),
        )
        .unwrap();
        assert_eq!(borrowed, list.encode().unwrap());
    }

    #[test]
    fn rejects_a_client_uri_in_the_list() {
        let mut bytes = vec![0x00];
        let entry = UserRolePair {
            user: ParticipantId::parse("mimi://a.example/u/a").unwrap(),
            role_index: 2,
        }
        .encode()
        .unwrap();
        bytes[0] = entry.len() as u8;
        bytes.extend(entry);
        // Rewrite "/u/" to "/d/": a valid URI, but not a participant.
        let pos = bytes.windows(3).position(|w| w == b"/u/").unwrap();
        bytes[pos + 1] = b'd';
        assert!(matches!(
            ParticipantListData::decode(&bytes),
            Err(DecodeError::Identifier(IdError::WrongKind { .. }))
        ));
    }
}
