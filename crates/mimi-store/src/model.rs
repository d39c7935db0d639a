//! Domain types the store takes and returns. No sqlx here: rows are mapped at the edge, in
//! the modules that hold the SQL.

use std::time::{SystemTime, UNIX_EPOCH};

use mimi_proto::{ClientId, MimiUri, ProviderId, RoomId, UserId};

/// Milliseconds since the UNIX epoch, the unit of MIMI's `accepted_timestamp` (draft §5.3).
///
/// Every operation that depends on time takes the time from the caller, so tests and the
/// server's clock decide, not the database host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Self {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Self(ms)
    }

    /// The time `ms` milliseconds later (saturating).
    pub fn plus_millis(self, ms: u64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// Whole seconds since the UNIX epoch, the unit of an MLS `Lifetime`.
    pub fn as_secs(self) -> u64 {
        self.0 / 1000
    }
}

/// Where a room's state stands. `epoch` is the MLS epoch; `revision` counts every write to the
/// room's state (also within an epoch, when the hub queues a proposal, which changes the
/// serialized PublicGroup without a new epoch). Cached state is valid only for an equal
/// version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoomVersion {
    /// The MLS epoch.
    pub epoch: u64,
    /// Writes since the room was created.
    pub revision: u64,
}

// ---- identity -------------------------------------------------------------------------------

/// A client to register.
#[derive(Clone, Debug)]
pub struct NewClient {
    /// The client (device).
    pub client: ClientId,
    /// The user it belongs to; must exist.
    pub user: UserId,
    /// The client's MLS credential, serialized.
    pub credential: Vec<u8>,
    /// The signature public key the client authenticates with. Unique across clients.
    pub signature_key: Vec<u8>,
}

/// A registered client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRecord {
    /// The client (device).
    pub client: ClientId,
    /// Its user.
    pub user: UserId,
    /// Its MLS credential, serialized.
    pub credential: Vec<u8>,
    /// Its signature public key.
    pub signature_key: Vec<u8>,
    /// When it was registered.
    pub created_at: Timestamp,
}

/// A KeyPackage to publish. The store does not parse MLS: the caller extracts the fields.
#[derive(Clone, Debug)]
pub struct NewKeyPackage {
    /// The KeyPackageRef (RFC 9420 §5.2), unique.
    pub key_package_ref: Vec<u8>,
    /// The KeyPackage's cipher suite, for `acceptableCiphersuites` filtering (draft §5.2).
    pub cipher_suite: u16,
    /// `leaf_node.lifetime.not_after`, in seconds since the UNIX epoch.
    pub not_after: u64,
    /// The serialized KeyPackage (MLSMessage or bare KeyPackage, as the caller chooses).
    pub key_package: Vec<u8>,
    /// It carries the `last_resort` extension (RFC 9420 §16.8): served only when the client
    /// has no other usable KeyPackage, and never reserved (decisions KP-4).
    pub last_resort: bool,
}

/// What a claim asks for (draft §5.2 keyMaterial).
#[derive(Clone, Debug)]
pub struct ClaimRequest {
    /// Who the KeyPackage is reserved for; recorded with the reservation.
    pub requester: UserId,
    /// Acceptable cipher suites; empty means any.
    pub cipher_suites: Vec<u16>,
    /// The time of the claim; KeyPackages with `not_after` at or before it are skipped.
    pub now: Timestamp,
}

/// A KeyPackage reserved by a claim. It will never be handed out again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedKeyPackage {
    /// Whose KeyPackage it is.
    pub client: ClientId,
    /// Its KeyPackageRef.
    pub key_package_ref: Vec<u8>,
    /// Its cipher suite.
    pub cipher_suite: u16,
    /// Its expiry, in seconds since the UNIX epoch.
    pub not_after: u64,
    /// The serialized KeyPackage.
    pub key_package: Vec<u8>,
    /// A last-resort KeyPackage, served again to later claims (decisions KP-4).
    pub last_resort: bool,
}

/// A client's KeyPackages on its provider: what others can still claim.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyPackageStock {
    /// Unreserved, unexpired, not last-resort KeyPackages.
    pub available: u64,
    /// Whether an unexpired last-resort KeyPackage is held.
    pub last_resort: bool,
}

/// The outcome of a claim for one client of a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientClaim {
    /// A KeyPackage was reserved.
    Claimed(ClaimedKeyPackage),
    /// The client has no usable KeyPackage (`keyMaterialExhausted`).
    Exhausted(ClientId),
}

/// Who may fetch whose KeyPackages, optionally only for one room (draft §5.7 `ConsentScope`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConsentScope {
    /// The party that will fetch KeyPackages.
    pub requester: UserId,
    /// The party whose KeyPackages are fetched.
    pub target: UserId,
    /// The room the consent is limited to, if any.
    pub room: Option<RoomId>,
}

/// The state of a consent scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentState {
    /// The target granted consent.
    Granted,
    /// The requester asked and nothing was answered yet.
    Requested,
    /// The target revoked consent.
    Revoked,
}

// ---- rooms ----------------------------------------------------------------------------------

/// A room to create (hub side).
#[derive(Clone, Debug)]
pub struct NewRoom {
    /// The room.
    pub room: RoomId,
    /// The hub provider (the room id's authority).
    pub hub: ProviderId,
    /// The MLS epoch the room starts at (0 for a fresh group).
    pub epoch: u64,
    /// The opaque serialized PublicGroup.
    pub mls_state: Vec<u8>,
    /// The current GroupInfo bytes.
    pub group_info: Vec<u8>,
    /// The room-state (components) bytes.
    pub room_state: Vec<u8>,
    /// When the room was created.
    pub created_at: Timestamp,
}

/// Everything stored about a room at its current version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomSnapshot {
    /// The room.
    pub room: RoomId,
    /// The hub provider.
    pub hub: ProviderId,
    /// The version this snapshot is of.
    pub version: RoomVersion,
    /// The opaque serialized PublicGroup.
    pub mls_state: Vec<u8>,
    /// The current GroupInfo bytes.
    pub group_info: Vec<u8>,
    /// The effective room-state (components) bytes.
    pub room_state: Vec<u8>,
    /// The current epoch's proposal queue, in acceptance order.
    pub proposals: Vec<QueuedProposal>,
}

/// A proposal the hub accepted in the current epoch (draft §7.2, returned to joiners as
/// `PendingProposal`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedProposal {
    /// Its ProposalRef.
    pub proposal_ref: Vec<u8>,
    /// The MLS message carrying it.
    pub message: Vec<u8>,
    /// `hub_accepted_time`.
    pub accepted_at: Timestamp,
    /// Who sent it: a client, or the hub itself for its external proposals.
    pub sender: MimiUri,
}

/// What a GroupInfo request needs (draft §5.6): read without locking the room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinInfo {
    /// The version read.
    pub version: RoomVersion,
    /// The current GroupInfo bytes.
    pub group_info: Vec<u8>,
    /// The current epoch's proposal queue.
    pub proposals: Vec<QueuedProposal>,
}

/// The kind of an accepted event, as recorded in the room event log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// An application message (`submitMessage`).
    Application,
    /// A commit (`update`), possibly with a Welcome.
    Commit,
    /// A proposal (`update`), including the hub's own external proposals.
    Proposal,
}

/// How an accepted event changes the room's stored state.
#[derive(Clone, Debug)]
pub enum StateChange {
    /// Nothing but the log and deliveries (application messages).
    Unchanged,
    /// Same epoch, new serialized state (the hub queued a proposal into its PublicGroup and
    /// applied it to the effective room state).
    Update {
        /// The new serialized PublicGroup.
        mls_state: Vec<u8>,
        /// The new effective room-state bytes.
        room_state: Vec<u8>,
    },
    /// A commit opened the next epoch. Clears the old epoch's proposal queue.
    NewEpoch {
        /// Must be the locked epoch plus one.
        epoch: u64,
        /// The new serialized PublicGroup.
        mls_state: Vec<u8>,
        /// The GroupInfo for the new epoch.
        group_info: Vec<u8>,
        /// The new room-state bytes.
        room_state: Vec<u8>,
    },
}

/// One fan-out message to a follower provider (draft §5.5 `notify`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fanout {
    /// The follower provider.
    pub destination: ProviderId,
    /// The encoded FanoutMessage.
    pub payload: Vec<u8>,
}

/// One entry for a local client's mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxDelivery {
    /// The local client.
    pub client: ClientId,
    /// The room it concerns, if any.
    pub room: Option<RoomId>,
    /// What the client receives.
    pub payload: Vec<u8>,
}

/// Everything the hub writes when it accepts an event: applied together in one transaction
/// by [`RoomTxn::commit`](crate::RoomTxn::commit), or not at all.
#[derive(Clone, Debug)]
pub struct AcceptedEvent {
    /// The room version the hub step ran against. The commit fails with
    /// [`Conflict::Stale`](crate::Conflict::Stale) unless the locked row is still at it.
    pub base: RoomVersion,
    /// What was accepted.
    pub kind: EventKind,
    /// `accepted_timestamp`.
    pub accepted_at: Timestamp,
    /// The bytes appended to the room event log (what history sync returns).
    pub log_payload: Vec<u8>,
    /// The state change.
    pub change: StateChange,
    /// Proposals to queue (after the change, so in the new epoch for a commit).
    pub new_proposals: Vec<QueuedProposal>,
    /// Fan-out to followers; order per destination is kept.
    pub fanout: Vec<Fanout>,
    /// Local mailbox entries; order per client is kept.
    pub local: Vec<MailboxDelivery>,
    /// KeyPackageRefs whose routing entry is no longer needed (the Welcome was routed).
    pub forget_key_package_refs: Vec<Vec<u8>>,
}

impl AcceptedEvent {
    /// An event of `kind` at `base` with nothing to write yet.
    pub fn new(base: RoomVersion, kind: EventKind, accepted_at: Timestamp) -> Self {
        Self {
            base,
            kind,
            accepted_at,
            log_payload: Vec::new(),
            change: StateChange::Unchanged,
            new_proposals: Vec::new(),
            fanout: Vec::new(),
            local: Vec::new(),
            forget_key_package_refs: Vec::new(),
        }
    }
}

/// What a successful [`RoomTxn::commit`](crate::RoomTxn::commit) did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The event's sequence number in the room event log.
    pub seq: u64,
    /// The room's version after the commit (key for the state cache).
    pub version: RoomVersion,
}

/// Routing entry for a KeyPackage the hub relayed (draft §4.3.1: KeyPackageRef → provider).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPackageRoute {
    /// The KeyPackageRef.
    pub key_package_ref: Vec<u8>,
    /// The provider that owns the client.
    pub provider: ProviderId,
    /// When the entry may be dropped, in seconds since the UNIX epoch.
    pub not_after: u64,
}

/// An entry of the room event log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedEvent {
    /// Position in the room's total order, from 1.
    pub seq: u64,
    /// The epoch the event was accepted in (for a commit: the epoch it opened).
    pub epoch: u64,
    /// What it was.
    pub kind: EventKind,
    /// `accepted_timestamp`.
    pub accepted_at: Timestamp,
    /// The logged bytes.
    pub payload: Vec<u8>,
}

// ---- delivery -------------------------------------------------------------------------------

/// A batch claimed from the head of one (room, destination) outbox queue.
#[derive(Debug)]
pub struct OutboxBatch {
    /// The room.
    pub room: RoomId,
    /// The follower to deliver to.
    pub destination: ProviderId,
    /// Earlier failed attempts at this queue's head.
    pub attempts: u32,
    /// The entries, in delivery order.
    pub entries: Vec<OutboxEntry>,
    /// Proves the claim when acknowledging.
    pub(crate) lease: i64,
}

/// One queued fan-out message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The room event it belongs to.
    pub event_seq: u64,
    /// Its position among that event's messages to this destination.
    pub part: u32,
    /// The encoded FanoutMessage.
    pub payload: Vec<u8>,
    /// When it was enqueued.
    pub enqueued_at: Timestamp,
}

/// A received `notify` body and what it delivers locally (follower side).
#[derive(Clone, Debug)]
pub struct NotifyReceipt {
    /// The hub that sent it (authenticated by mTLS).
    pub hub: ProviderId,
    /// The exact request body, hashed for dedup (draft §5.5).
    pub body: Vec<u8>,
    /// Local mailbox entries to write if the body is new.
    pub deliveries: Vec<MailboxDelivery>,
    /// When it was received.
    pub received_at: Timestamp,
}

/// Whether a `notify` body was new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyOutcome {
    /// Seen before from this hub: answer 201 and skip it.
    Duplicate,
    /// New: its deliveries were written.
    New,
}

/// One entry in a client's mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxEntry {
    /// Increases with every entry for this client, in commit order; the client resumes after
    /// the last one it processed.
    pub cursor: u64,
    /// The room it concerns, if any.
    pub room: Option<RoomId>,
    /// What the client receives.
    pub payload: Vec<u8>,
    /// When it was enqueued.
    pub enqueued_at: Timestamp,
}
