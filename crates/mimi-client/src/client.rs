//! The client: an identity, its OpenMLS provider, its rooms, and (optionally)
//! the home directory that keeps all of it across restarts.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use openmls::prelude::{GroupId, KeyPackage, MlsGroup};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider as _;

use mimi_content::MessageId;
use mimi_proto::codec::decode_exact;
use mimi_proto::messages::Frank;
use mimi_proto::mls_profile::CIPHERSUITE;
use mimi_proto::{ClientId, Clock, RoomId, SystemClock, UserId};

use crate::client_room::{ClientRoom, History, RoomStatus, StoredMessage};
use crate::error::ClientError;
use crate::identity::Identity;
use crate::policy::committed_state;
use crate::storage::{Batch, MessageRow, RoomRow, Storage};
use crate::store::SqliteStore;

/// Meta keys.
const META_CLIENT: &str = "client_id";
const META_SIGNATURE_KEY: &str = "signature_public_key";
const META_CURSOR: &str = "cursor";

/// A MIMI client.
pub struct Client {
    pub(crate) identity: Identity,
    pub(crate) provider: OpenMlsRustCrypto,
    pub(crate) rooms: BTreeMap<RoomId, ClientRoom>,
    store: Option<Box<dyn Storage>>,
    /// OpenMLS's records as last written to the store: each operation writes
    /// only what differs.
    saved: HashMap<Vec<u8>, Vec<u8>>,
    cursor: Option<u64>,
    pub(crate) clock: Box<dyn Clock>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client", self.identity.client())
            .field("rooms", &self.rooms.len())
            .field("persistent", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client that keeps its state in memory only.
    ///
    /// # Errors
    /// [`ClientError::NoUser`] or [`ClientError::Crypto`] from
    /// [`Identity::generate`].
    pub fn in_memory(client: ClientId) -> Result<Self, ClientError> {
        let identity = Identity::generate(client)?;
        let provider = OpenMlsRustCrypto::default();
        Ok(Self::assemble(identity, provider, None))
    }

    /// Creates a new client with a fresh identity in `home` (which must not
    /// hold a client yet).
    ///
    /// # Errors
    /// [`ClientError::State`] if `home` already holds a client,
    /// [`ClientError::Storage`] if it cannot be written, or the errors of
    /// [`Identity::generate`].
    pub fn create(home: &Path, client: ClientId) -> Result<Self, ClientError> {
        let mut store: Box<dyn Storage> = Box::new(SqliteStore::open(home)?);
        if store.load()?.meta.contains_key(META_CLIENT) {
            return Err(ClientError::State("home already holds a client"));
        }
        let identity = Identity::generate(client)?;
        let provider = OpenMlsRustCrypto::default();
        identity
            .signer()
            .store(provider.storage())
            .map_err(|e| ClientError::Storage(format!("storing the signer: {e:?}")))?;
        let mut me = Self::assemble(identity, provider, Some(store));
        let batch = Batch {
            meta: vec![
                (META_CLIENT, me.identity.client().as_bytes().to_vec()),
                (META_SIGNATURE_KEY, me.identity.signer().to_public_vec()),
            ],
            ..Batch::default()
        };
        me.persist(batch)?;
        Ok(me)
    }

    /// Opens the client stored in `home`, with its rooms, history and cursor.
    ///
    /// # Errors
    /// [`ClientError::State`] if `home` holds no client,
    /// [`ClientError::Storage`] if the database is unreadable or inconsistent.
    pub fn open(home: &Path) -> Result<Self, ClientError> {
        let mut store: Box<dyn Storage> = Box::new(SqliteStore::open(home)?);
        let loaded = store.load()?;
        let corrupt = |what: &str| ClientError::Storage(format!("stored {what} is invalid"));
        let client_bytes = loaded
            .meta
            .get(META_CLIENT)
            .ok_or(ClientError::State("home holds no client"))?;
        let client = ClientId::parse_canonical(client_bytes).map_err(|_| corrupt("client id"))?;
        let public = loaded
            .meta
            .get(META_SIGNATURE_KEY)
            .ok_or_else(|| corrupt("signature key"))?;
        let provider = OpenMlsRustCrypto::default();
        provider
            .storage()
            .values
            .write()
            .map_err(|_| ClientError::Internal("storage lock poisoned"))?
            .extend(loaded.kv.clone());
        let signer = SignatureKeyPair::read(
            provider.storage(),
            public,
            CIPHERSUITE.signature_algorithm(),
        )
        .ok_or_else(|| corrupt("signer"))?;
        let identity = Identity::from_parts(client, signer)?;
        let mut me = Self::assemble(identity, provider, Some(store));
        me.saved = loaded.kv;
        me.cursor = loaded
            .meta
            .get(META_CURSOR)
            .map(|b| <[u8; 8]>::try_from(b.as_slice()).map(u64::from_be_bytes))
            .transpose()
            .map_err(|_| corrupt("cursor"))?;
        for row in loaded.rooms {
            let room =
                RoomId::parse_canonical(row.room.as_bytes()).map_err(|_| corrupt("room id"))?;
            let status = RoomStatus::from_code(row.status).ok_or_else(|| corrupt("room status"))?;
            let loaded = MlsGroup::load(me.provider.storage(), &GroupId::from_slice(&row.group_id))
                .map_err(|e| ClientError::Storage(format!("loading group: {e:?}")))?;
            let group = match loaded {
                Some(g) => g,
                // A room we were removed from whose group state went for a
                // rejoin that did not complete: only its stored history is left.
                None if status == RoomStatus::Removed => continue,
                None => return Err(corrupt("group")),
            };
            let state = committed_state(&group)?;
            me.rooms.insert(
                room.clone(),
                ClientRoom {
                    id: room,
                    group,
                    state,
                    status,
                    created_ms: u64::try_from(row.created_ms).unwrap_or(0),
                    pending: None,
                    history: History::default(),
                },
            );
        }
        for row in loaded.messages {
            let room =
                RoomId::parse_canonical(row.room.as_bytes()).map_err(|_| corrupt("room id"))?;
            let message = StoredMessage {
                seq: u64::try_from(row.seq).map_err(|_| corrupt("message"))?,
                message_id: MessageId::from_slice(&row.message_id)
                    .map_err(|_| corrupt("message id"))?,
                sender: UserId::parse_canonical(row.sender.as_bytes())
                    .map_err(|_| corrupt("sender"))?,
                timestamp: u64::try_from(row.timestamp).unwrap_or(0),
                content: row.content,
                frank: row
                    .frank
                    .map(|f| decode_exact::<Frank>(&f, "Frank"))
                    .transpose()
                    .map_err(|_| corrupt("frank"))?,
                own: row.own,
                wire_hash: row
                    .wire_hash
                    .map(|h| <[u8; 32]>::try_from(h.as_slice()))
                    .transpose()
                    .map_err(|_| corrupt("message hash"))?,
            };
            if let Some(r) = me.rooms.get_mut(&room) {
                r.history.push(message);
            }
        }
        Ok(me)
    }

    fn assemble(
        identity: Identity,
        provider: OpenMlsRustCrypto,
        store: Option<Box<dyn Storage>>,
    ) -> Self {
        Self {
            identity,
            provider,
            rooms: BTreeMap::new(),
            store,
            saved: HashMap::new(),
            cursor: None,
            clock: Box::new(SystemClock),
        }
    }

    /// Replaces the time source (tests).
    pub fn set_clock(&mut self, clock: Box<dyn Clock>) {
        self.clock = clock;
    }

    /// The identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        self.identity.client()
    }

    /// The user.
    pub fn user(&self) -> &UserId {
        self.identity.user()
    }

    /// The OpenMLS provider (crypto and storage), read-only.
    pub fn provider(&self) -> &OpenMlsRustCrypto {
        &self.provider
    }

    /// Every room, by id.
    pub fn rooms(&self) -> impl Iterator<Item = &ClientRoom> {
        self.rooms.values()
    }

    /// One room.
    ///
    /// # Errors
    /// [`ClientError::UnknownRoom`].
    pub fn room(&self, room: &RoomId) -> Result<&ClientRoom, ClientError> {
        self.rooms
            .get(room)
            .ok_or_else(|| ClientError::UnknownRoom(room.clone()))
    }

    /// The event cursor last recorded with [`Client::set_cursor`] or
    /// [`Client::process_at`]: the stream position to resume from.
    pub fn cursor(&self) -> Option<u64> {
        self.cursor
    }

    /// Records the event cursor (e.g. after skipping an event).
    ///
    /// # Errors
    /// [`ClientError::Storage`].
    pub fn set_cursor(&mut self, cursor: u64) -> Result<(), ClientError> {
        self.cursor = Some(cursor);
        self.persist(Batch {
            meta: vec![(META_CURSOR, cursor.to_be_bytes().to_vec())],
            ..Batch::default()
        })
    }

    pub(crate) fn cursor_batch(&mut self, cursor: Option<u64>) -> Batch {
        let mut batch = Batch::default();
        if let Some(c) = cursor {
            self.cursor = Some(c);
            batch.meta.push((META_CURSOR, c.to_be_bytes().to_vec()));
        }
        batch
    }

    /// Creates `count` KeyPackages for the provider to hand out. Their private
    /// keys are stored before this returns.
    ///
    /// # Errors
    /// [`ClientError::Mls`] or [`ClientError::Storage`].
    pub fn key_packages(&mut self, count: usize) -> Result<Vec<KeyPackage>, ClientError> {
        let out = (0..count)
            .map(|_| self.identity.key_package(&self.provider))
            .collect::<Result<Vec<_>, _>>()?;
        self.persist(Batch::default())?;
        Ok(out)
    }

    /// Creates a last-resort KeyPackage to upload with the others (RFC 9420
    /// §16.8; decisions KP-4) and persists its private part.
    ///
    /// # Errors
    /// As [`Client::key_packages`].
    pub fn last_resort_key_package(&mut self) -> Result<KeyPackage, ClientError> {
        let key_package = self.identity.last_resort_key_package(&self.provider)?;
        self.persist(Batch::default())?;
        Ok(key_package)
    }

    /// Forgets a room entirely (e.g. the hub refused to create it, or a join
    /// failed), deleting its group state and history.
    ///
    /// # Errors
    /// [`ClientError::UnknownRoom`], [`ClientError::Storage`].
    pub fn forget_room(&mut self, room: &RoomId) -> Result<(), ClientError> {
        let mut r = self
            .rooms
            .remove(room)
            .ok_or_else(|| ClientError::UnknownRoom(room.clone()))?;
        r.group
            .delete(self.provider.storage())
            .map_err(|e| ClientError::Storage(format!("deleting group: {e:?}")))?;
        self.persist(Batch {
            rooms_delete: vec![room.as_str().to_owned()],
            ..Batch::default()
        })
    }

    pub(crate) fn room_mut(&mut self, room: &RoomId) -> Result<&mut ClientRoom, ClientError> {
        self.rooms
            .get_mut(room)
            .ok_or_else(|| ClientError::UnknownRoom(room.clone()))
    }

    /// The row describing a room, for a batch.
    pub(crate) fn room_row(room: &ClientRoom) -> RoomRow {
        RoomRow {
            room: room.id.as_str().to_owned(),
            group_id: room.group.group_id().as_slice().to_vec(),
            status: room.status.code(),
            created_ms: i64::try_from(room.created_ms).unwrap_or(i64::MAX),
        }
    }

    /// Appends a message to a room's history, and to the batch.
    pub(crate) fn record_message(
        room: &mut ClientRoom,
        batch: &mut Batch,
        mut message: StoredMessage,
    ) {
        message.seq = room.history.len() as u64;
        let row_seq = message.seq;
        batch.messages.push(MessageRow {
            room: room.id.as_str().to_owned(),
            seq: i64::try_from(row_seq).unwrap_or(i64::MAX),
            message_id: message.message_id.as_bytes().to_vec(),
            sender: message.sender.as_str().to_owned(),
            timestamp: i64::try_from(message.timestamp).unwrap_or(i64::MAX),
            content: message.content.clone(),
            frank: message.frank.as_ref().and_then(frank_bytes),
            own: message.own,
            wire_hash: message.wire_hash.map(|h| h.to_vec()),
        });
        room.history.push(message);
    }

    /// Writes what this operation changed: `batch` plus every OpenMLS record
    /// that differs from the last write, in one transaction. A client without
    /// a home directory writes nothing.
    pub(crate) fn persist(&mut self, mut batch: Batch) -> Result<(), ClientError> {
        let Some(store) = self.store.as_mut() else {
            return Ok(());
        };
        {
            let values = self
                .provider
                .storage()
                .values
                .read()
                .map_err(|_| ClientError::Internal("storage lock poisoned"))?;
            for (k, v) in values.iter() {
                if self.saved.get(k) != Some(v) {
                    batch.kv_put.push((k.clone(), v.clone()));
                }
            }
            for k in self.saved.keys() {
                if !values.contains_key(k) {
                    batch.kv_delete.push(k.clone());
                }
            }
        }
        store.commit(&batch)?;
        for k in batch.kv_delete {
            self.saved.remove(&k);
        }
        self.saved.extend(batch.kv_put);
        Ok(())
    }
}

/// A frank's wire bytes.
pub(crate) fn frank_bytes(frank: &Frank) -> Option<Vec<u8>> {
    use tls_codec::Serialize as _;
    frank.tls_serialize_detached().ok()
}
