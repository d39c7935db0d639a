//! mimi's private components: ban records (0x8000) and organisation-scoped
//! roles (0x8001). Both are room state that every client must see and confirm,
//! so they live in the `app_data_dictionary` like the draft's components, in the
//! private-use range.
//!
//! ```text
//! struct {
//!   opaque user<V>;              // the banned participant (user or pseudonym URI)
//!   UTF8String reason;           // logged reason, may be empty
//!   optional uint64 expires_at;  // seconds since the UNIX epoch; absent = permanent
//! } BanRecord;
//! struct { BanRecord bans<V>; } BanList;          // 0x8000, sorted by user bytes, unique
//! struct { uint32 role_indexes<V>; } OrgScopedRoles;   // 0x8001, ascending, unique
//! ```
//! Role 1 ("banned") stays the source of truth for *who* is banned; a record
//! adds the reason and expiry the working group asked for (issue #3). Policy
//! keeps the two consistent. Both lists must be strictly ascending, so each has
//! exactly one encoding and needs no separate uniqueness rule.

use super::metadata::{MAX_LONG_TEXT, read_utf8, write_utf8};
use super::participants::{MAX_PARTICIPANTS, ParticipantId};
use super::roles::MAX_ROLES;
use crate::codec::{Codec, Reader, Utf8String, Writer, wire_value};
use crate::error::{DecodeError, EncodeError};

/// Why and until when one user is banned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BanRecord {
    /// The banned participant.
    pub user: ParticipantId,
    /// The logged reason.
    pub reason: Utf8String,
    /// When the ban ends, in seconds since the UNIX epoch; `None` is permanent.
    pub expires_at: Option<u64>,
}

impl BanRecord {
    /// True if the ban has an expiry at or before `now` (UNIX seconds).
    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }
}

impl Codec for BanRecord {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            user: ParticipantId::read(r)?,
            reason: read_utf8(r, "BanRecord.reason", MAX_LONG_TEXT)?,
            expires_at: r.optional("BanRecord.expires_at", |r| r.u64())?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.user.write(w)?;
        write_utf8(w, &self.reason)?;
        w.optional(self.expires_at.as_ref(), |w, t| {
            w.u64(*t);
            Ok(())
        })
    }
}

/// The ban records, sorted by the user's bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct BanList {
    /// One record per banned user that has one.
    pub bans: Vec<BanRecord>,
}

impl BanList {
    /// The record for `user`.
    pub fn record(&self, user: &ParticipantId) -> Option<&BanRecord> {
        self.bans
            .binary_search_by(|b| b.user.as_bytes().cmp(user.as_bytes()))
            .ok()
            .and_then(|i| self.bans.get(i))
    }

    /// Inserts or replaces the record for its user, keeping the order.
    pub fn upsert(&mut self, record: BanRecord) {
        match self
            .bans
            .binary_search_by(|b| b.user.as_bytes().cmp(record.user.as_bytes()))
        {
            Ok(i) => self.bans[i] = record,
            Err(i) => self.bans.insert(i, record),
        }
    }

    /// Removes the record for `user`, if any.
    pub fn remove(&mut self, user: &ParticipantId) -> Option<BanRecord> {
        let i = self
            .bans
            .binary_search_by(|b| b.user.as_bytes().cmp(user.as_bytes()))
            .ok()?;
        Some(self.bans.remove(i))
    }
}

impl Codec for BanList {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bans = r.vector("BanList.bans", MAX_PARTICIPANTS, BanRecord::read)?;
        if !bans
            .windows(2)
            .all(|w| w[0].user.as_bytes() < w[1].user.as_bytes())
        {
            return Err(DecodeError::Invalid {
                what: "BanList",
                reason: "records not sorted by user or duplicated",
            });
        }
        Ok(Self { bans })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.vector(&self.bans, |w, b| b.write(w))
    }
}

/// Roles whose holders may act only on users of their own organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct OrgScopedRoles {
    /// Role indexes, strictly ascending.
    pub role_indexes: Vec<u32>,
}

impl OrgScopedRoles {
    /// True if holders of `role` are limited to their own organisation.
    pub fn contains(&self, role: u32) -> bool {
        self.role_indexes.binary_search(&role).is_ok()
    }
}

impl Codec for OrgScopedRoles {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let role_indexes = r.vector("OrgScopedRoles.role_indexes", MAX_ROLES, |r| r.u32())?;
        if !role_indexes.windows(2).all(|w| w[0] < w[1]) {
            return Err(DecodeError::Invalid {
                what: "OrgScopedRoles",
                reason: "role indexes not strictly ascending",
            });
        }
        Ok(Self { role_indexes })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.vector(&self.role_indexes, |w, i| {
            w.u32(*i);
            Ok(())
        })
    }
}

wire_value!(BanRecord => "BanRecord", BanList => "BanList", OrgScopedRoles => "OrgScopedRoles");
super::component!(BanList => MIMI_BAN_LIST);
super::component!(OrgScopedRoles => MIMI_ORG_SCOPED_ROLES);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn record(user: &str, expires_at: Option<u64>) -> BanRecord {
        BanRecord {
            user: ParticipantId::parse(user).unwrap(),
            reason: Utf8String::new("spam").unwrap(),
            expires_at,
        }
    }

    #[test]
    fn ban_list_keeps_order_and_rejects_unsorted() {
        let mut list = BanList::default();
        list.upsert(record("mimi://b.example/u/z", None));
        list.upsert(record("mimi://a.example/u/y", Some(10)));
        assert!(
            list.record(&ParticipantId::parse("mimi://a.example/u/y").unwrap())
                .unwrap()
                .is_expired(10)
        );
        let bytes = list.encode().unwrap();
        assert_eq!(BanList::decode(&bytes).unwrap(), list);
        let swapped = BanList {
            bans: list.bans.iter().rev().cloned().collect(),
        };
        assert!(matches!(
            BanList::decode(&swapped.encode().unwrap()),
            Err(DecodeError::Invalid {
                what: "BanList",
                ..
            })
        ));
    }

    #[test]
    fn org_scoped_roles_must_ascend() {
        let ok = OrgScopedRoles {
            role_indexes: vec![3, 6],
        };
        assert_eq!(OrgScopedRoles::decode(&ok.encode().unwrap()).unwrap(), ok);
        let dup = OrgScopedRoles {
            role_indexes: vec![6, 6],
        };
        assert!(OrgScopedRoles::decode(&dup.encode().unwrap()).is_err());
    }
}
