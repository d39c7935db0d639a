//! Join links (room-policy-03 §6.2; components `join_link_policy` 0x0029 and
//! `join_links` 0x002A).
//!
//! ```text
//! struct { bool on_request; Uri join_link; bool multiuser; uint32 expiration; } JoinLinkPolicy;
//! struct { opaque join_link<V>; } JoinLink;          // the draft omits <V>
//! JoinLink JoinLinksData<V>;                          // a bare top-level vector
//! struct { uint32 removedIndices<V>; JoinLink added_links<V>; } JoinLinksUpdate;
//! ```

use super::metadata::{MAX_URI_TEXT, Uri};
use crate::codec::{Codec, Reader, Writer, wire_value};
use crate::error::{DecodeError, EncodeError};

/// Most active join links in a room. `on_request` rooms keep one; others a few.
pub const MAX_JOIN_LINKS: usize = 4096;

/// How join links work in the room.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JoinLinkPolicy {
    /// True: at most one link is persisted, requested at `join_link`.
    pub on_request: bool,
    /// Where a client can request an invite code (the text's `link_requests`).
    pub join_link: Uri,
    /// Whether one link may serve several users.
    pub multiuser: bool,
    /// Lifetime of a new link, in seconds.
    pub expiration: u32,
}

impl Codec for JoinLinkPolicy {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            on_request: r.bool("JoinLinkPolicy.on_request")?,
            join_link: Uri::read(r)?,
            multiuser: r.bool("JoinLinkPolicy.multiuser")?,
            expiration: r.u32()?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.bool(self.on_request);
        self.join_link.write(w)?;
        w.bool(self.multiuser);
        w.u32(self.expiration);
        Ok(())
    }
}

/// One active join link (or code), compared byte for byte when presented.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JoinLink {
    /// The link or code.
    pub join_link: Vec<u8>,
}

impl Codec for JoinLink {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            join_link: r.opaque("JoinLink.join_link", MAX_URI_TEXT)?.to_vec(),
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.opaque(&self.join_link)
    }
}

/// `JoinLink JoinLinksData<V>;`: the active links.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct JoinLinksData {
    /// Links in order; update indices refer to this order.
    pub links: Vec<JoinLink>,
}

impl JoinLinksData {
    /// True if `code` is one of the active links.
    pub fn contains(&self, code: &[u8]) -> bool {
        self.links.iter().any(|l| l.join_link == code)
    }
}

impl Codec for JoinLinksData {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            links: r.vector("JoinLinksData", MAX_JOIN_LINKS, JoinLink::read)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.vector(&self.links, |w, l| l.write(w))
    }
}

/// A delta: remove by index (into the list before the update), then append.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct JoinLinksUpdate {
    /// Indices to remove.
    pub removed_indices: Vec<u32>,
    /// Links to append.
    pub added_links: Vec<JoinLink>,
}

impl Codec for JoinLinksUpdate {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            removed_indices: r.vector("JoinLinksUpdate.removedIndices", MAX_JOIN_LINKS, |r| {
                r.u32()
            })?,
            added_links: r.vector(
                "JoinLinksUpdate.added_links",
                MAX_JOIN_LINKS,
                JoinLink::read,
            )?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.vector(&self.removed_indices, |w, i| {
            w.u32(*i);
            Ok(())
        })?;
        w.vector(&self.added_links, |w, l| l.write(w))
    }
}

wire_value!(
    JoinLinkPolicy => "JoinLinkPolicy",
    JoinLink => "JoinLink",
    JoinLinksData => "JoinLinksData",
    JoinLinksUpdate => "JoinLinksUpdate",
);
super::component!(JoinLinkPolicy => JOIN_LINK_POLICY);
super::component!(JoinLinksData => JOIN_LINKS);
