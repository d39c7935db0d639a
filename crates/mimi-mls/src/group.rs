//! OpenMLS's view of a group, proposal or commit turned into `mimi-policy`'s:
//! senders become [`Actor`]s, proposals [`Change`]s, a group's members and
//! dictionary a [`RoomState`], and the engine's component updates OpenMLS
//! `AppDataUpdates` again.
//!
//! The hub (over a `PublicGroup`) and every receiving client (over an
//! `MlsGroup`) must compute byte-identical component data: it enters the key
//! schedule, so a different result means a fork. Both therefore feed the same
//! engine with the same change list, built here once and read in commit order
//! from the commit's bytes ([`mimi_proto::messages::parse_commit`]).

use openmls::component::ComponentData;
use openmls::group::{AppDataUpdates, MlsGroup, PublicGroup, QueuedProposal};
use openmls::messages::proposals::{AppDataUpdateOperation as MlsOp, AppDataUpdateProposal};
use openmls::messages::proposals_in::{ProposalIn, ProposalOrRefIn};
use openmls::prelude::hash_ref::ProposalRef;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    Credential, CredentialType, ExternalSender, GroupId, KeyPackageIn, LeafNodeIndex,
    Proposal as MlsProposal, Sender,
};
use tls_codec::{DeserializeBytes as _, VLBytes};

use mimi_policy::{Actor, Change, Claims, Commit, ComponentUpdate, Member, Proposal, RoomState};
use mimi_proto::components::{
    AppDataUpdate, AppDataUpdateOperation, ComponentId, ParticipantId, RoomComponents,
};
use mimi_proto::messages::ParsedCommit;
use mimi_proto::{ClientId, RoomId};

use crate::error::Error;

/// The MLS group id of a room: its group URI (`mimi://<hub>/g/<name>`) as bytes.
pub fn group_id_of(room: &RoomId) -> GroupId {
    GroupId::from_slice(room.group_uri().as_bytes())
}

/// The client id in a leaf credential, if it is a basic credential holding a
/// canonical client URI with a user segment (decision ID-3).
pub fn client_of(credential: &Credential) -> Option<ClientId> {
    // A basic credential's content is its identity (RFC 9420 §5.3); reading it
    // in place spares `BasicCredential::try_from` a copy of the credential.
    if credential.credential_type() != CredentialType::Basic {
        return None;
    }
    let client = ClientId::parse_canonical(credential.serialized_content()).ok()?;
    client.user().is_some().then_some(client)
}

/// The user a client belongs to, as a participant id.
///
/// # Errors
/// [`Error::NotMimiIdentity`] if the client id names no user.
pub fn user_of(client: &ClientId) -> Result<ParticipantId, Error> {
    client
        .user()
        .map(ParticipantId::from)
        .ok_or(Error::NotMimiIdentity("client id names no user"))
}

/// The client and claims of a leaf or KeyPackage credential.
///
/// # Errors
/// [`Error::NotMimiIdentity`] unless it is a basic credential naming a
/// mimi client URI.
pub fn claims_of(credential: &Credential) -> Result<(ClientId, Claims), Error> {
    let client = client_of(credential).ok_or(Error::NotMimiIdentity(
        "credential is not a basic credential with a mimi client URI",
    ))?;
    let user = user_of(&client)?;
    Ok((client, Claims::basic(user)))
}

/// A joining client as an actor: its credential's client and claims, and the
/// join code it presented (only the hub knows one).
///
/// # Errors
/// As [`claims_of`].
pub fn joiner(credential: &Credential, join_code: Option<Vec<u8>>) -> Result<Actor, Error> {
    let (client, claims) = claims_of(credential)?;
    Ok(Actor::Joiner {
        client,
        claims,
        join_code,
    })
}

/// The credential of an `external_senders` entry. OpenMLS 0.9 keeps the
/// accessor crate-private, so this reads it back from the entry's encoding
/// (`SignaturePublicKey signature_key; Credential credential;`).
///
/// # Errors
/// [`Error::Internal`] if OpenMLS's own encoding does not read back.
pub fn external_sender_credential(sender: &ExternalSender) -> Result<Credential, Error> {
    let bytes = sender
        .tls_serialize_detached()
        .map_err(|_| Error::Internal("external sender does not encode"))?;
    let (_key, rest) = VLBytes::tls_deserialize_bytes(&bytes)
        .map_err(|_| Error::Internal("external sender does not decode"))?;
    Credential::tls_deserialize_exact_bytes(rest)
        .map_err(|_| Error::Internal("external sender credential does not decode"))
}

/// The claims of an external sender (the hub or a follower): the user URI its
/// basic credential names (the hub acts as `mimi://<hub-domain>/u/mimi-hub`,
/// decision HUB-5).
///
/// # Errors
/// [`Error::NotMimiIdentity`] unless the credential is basic and names a
/// canonical user URI.
pub fn server_claims(sender: &ExternalSender) -> Result<Claims, Error> {
    let credential = external_sender_credential(sender)?;
    if credential.credential_type() != CredentialType::Basic {
        return Err(Error::NotMimiIdentity(
            "external sender credential is not basic",
        ));
    }
    let user = ParticipantId::parse_canonical(credential.serialized_content())
        .map_err(|_| Error::NotMimiIdentity("external sender credential names no user URI"))?;
    Ok(Claims::basic(user))
}

/// The engine's component updates as OpenMLS `AppDataUpdates` (`None` when
/// the change set updates no component).
pub fn app_data_updates(updates: &[ComponentUpdate]) -> Option<AppDataUpdates> {
    let mut updater = openmls::group::AppDataDictionaryUpdater::new(None);
    for update in updates {
        match &update.data {
            Some(data) => updater.set(ComponentData::from_parts(
                update.component_id.0,
                data.clone().into(),
            )),
            None => updater.remove(&update.component_id.0),
        }
    }
    updater.changes()
}

/// An AppDataUpdate proposal as a policy change.
pub fn app_data_change(update: &AppDataUpdateProposal) -> Change {
    Change::AppData(AppDataUpdate {
        component_id: ComponentId(update.component_id()),
        op: match update.operation() {
            MlsOp::Update(bytes) => AppDataUpdateOperation::Update(bytes.as_slice().to_vec()),
            MlsOp::Remove => AppDataUpdateOperation::Remove,
        },
    })
}

/// The client an actor acts for, if it is a client (member or joiner).
fn acting_client(actor: &Actor) -> Option<&ClientId> {
    match actor {
        Actor::Client(c) | Actor::Joiner { client: c, .. } => Some(c),
        Actor::Server { .. } => None,
    }
}

/// A group as room policy sees it: the hub's `PublicGroup` and a member's
/// `MlsGroup` alike. Everything is read from the public part (tree and
/// GroupContext), so both compute the same policy input.
pub trait RoomGroup {
    /// The group's public part.
    fn public_group(&self) -> &PublicGroup;

    /// The decoded components of the GroupContext's `app_data_dictionary`.
    ///
    /// # Errors
    /// [`Error::Malformed`] if the dictionary is missing or a component does
    /// not decode.
    fn components(&self) -> Result<RoomComponents, Error> {
        let dictionary = self
            .public_group()
            .group_context()
            .extensions()
            .app_data_dictionary()
            .ok_or(Error::Malformed(
                "app_data_dictionary with the room state is missing",
            ))?;
        RoomComponents::from_entries(
            dictionary
                .dictionary()
                .entries()
                .map(|c| (ComponentId(c.id()), c.data())),
        )
        .map_err(|_| Error::Malformed("room-state components do not decode"))
    }

    /// Every member client with its claims.
    ///
    /// # Errors
    /// [`Error::NotMimiIdentity`] if a member's credential is not a mimi client.
    fn policy_members(&self) -> Result<Vec<Member>, Error> {
        self.public_group()
            .members()
            .map(|m| {
                let (client, claims) = claims_of(&m.credential)?;
                Ok(Member { client, claims })
            })
            .collect()
    }

    /// The room state as committed in the current epoch: the dictionary's
    /// components and the member clients.
    ///
    /// # Errors
    /// As [`RoomGroup::components`] and [`RoomGroup::policy_members`];
    /// [`Error::Denied`] if the state is inconsistent (a user listed twice).
    fn committed_state(&self) -> Result<RoomState, Error> {
        RoomState::from_committed(self.components()?, self.policy_members()?)
            .map_err(|d| Error::Denied(Box::new(d)))
    }

    /// The committed state without one client: an external joiner's group
    /// holds its own new leaf before the commit that adds it is merged.
    /// Leaves that are not mimi clients are left out.
    ///
    /// # Errors
    /// As [`RoomGroup::committed_state`].
    fn committed_state_without(&self, client: &ClientId) -> Result<RoomState, Error> {
        let members = self
            .public_group()
            .members()
            .filter_map(|m| claims_of(&m.credential).ok())
            .filter(|(c, _)| c != client)
            .map(|(client, claims)| Member { client, claims })
            .collect();
        RoomState::from_committed(self.components()?, members)
            .map_err(|d| Error::Denied(Box::new(d)))
    }

    /// The credential at a leaf, if the leaf is not blank.
    fn leaf_credential(&self, leaf: LeafNodeIndex) -> Option<&Credential> {
        self.public_group().leaf(leaf).map(|l| l.credential())
    }

    /// The member client at a leaf.
    ///
    /// # Errors
    /// [`Error::Malformed`] for a blank leaf, [`Error::NotMimiIdentity`] if
    /// its credential is not a mimi client.
    fn client_at(&self, leaf: LeafNodeIndex) -> Result<ClientId, Error> {
        let credential = self
            .leaf_credential(leaf)
            .ok_or(Error::Malformed("no member at that leaf"))?;
        claims_of(credential).map(|(c, _)| c)
    }

    /// The actor behind an MLS sender. `joiner` is the [`Actor::Joiner`] of a
    /// new member (from its UpdatePath leaf or the KeyPackage it adds).
    ///
    /// # Errors
    /// [`Error::Malformed`] for an external sender index the group does not
    /// list or a new member without `joiner`; [`Error::NotMimiIdentity`] for
    /// a credential that is not a mimi identity.
    fn actor(&self, sender: &Sender, joiner: Option<Actor>) -> Result<Actor, Error> {
        match sender {
            Sender::Member(leaf) => Ok(Actor::Client(self.client_at(*leaf)?)),
            Sender::External(index) => {
                // OpenMLS keeps the index accessor private; its encoding is a uint32.
                let sender_index = index
                    .tls_serialize_detached()
                    .ok()
                    .and_then(|b| <[u8; 4]>::try_from(b.as_slice()).ok())
                    .map(u32::from_be_bytes)
                    .ok_or(Error::Internal("sender index does not encode"))?;
                let senders = self
                    .public_group()
                    .group_context()
                    .extensions()
                    .external_senders()
                    .ok_or(Error::Malformed("external sender without external_senders"))?;
                let sender = usize::try_from(sender_index)
                    .ok()
                    .and_then(|i| senders.get(i))
                    .ok_or(Error::Malformed("external sender index out of range"))?;
                Ok(Actor::Server {
                    sender_index,
                    claims: server_claims(sender)?,
                })
            }
            Sender::NewMemberCommit | Sender::NewMemberProposal => {
                joiner.ok_or(Error::Malformed("new member without a credential"))
            }
        }
    }

    /// A verified proposal as a policy change. `sender_client` is the
    /// proposer's own client, which a SelfRemove removes.
    ///
    /// # Errors
    /// As [`RoomGroup::client_at`] for a Remove; [`Error::NotMimiIdentity`]
    /// for an added credential that is not a mimi client;
    /// [`Error::Malformed`] for a SelfRemove from a non-member.
    fn change(
        &self,
        proposal: &MlsProposal,
        sender_client: Option<&ClientId>,
    ) -> Result<Change, Error> {
        Ok(match proposal {
            MlsProposal::Add(add) => {
                let (client, claims) = claims_of(add.key_package().leaf_node().credential())?;
                Change::add(client, claims)
            }
            MlsProposal::Remove(remove) => Change::remove(self.client_at(remove.removed())?),
            MlsProposal::SelfRemove => Change::remove(self_removed(sender_client)?),
            MlsProposal::AppDataUpdate(update) => app_data_change(update),
            MlsProposal::ReInit(_) => Change::ReInit,
            other => Change::Other {
                proposal_type: u16::from(other.proposal_type()),
            },
        })
    }

    /// An inline proposal read from a verified commit's bytes as a policy
    /// change. OpenMLS verified the commit (KeyPackages included) before this
    /// runs, so reading an added client's credential without re-validating
    /// is sound.
    ///
    /// # Errors
    /// As [`RoomGroup::change`].
    fn change_inline(
        &self,
        proposal: &ProposalIn,
        sender_client: Option<&ClientId>,
    ) -> Result<Change, Error> {
        Ok(match proposal {
            ProposalIn::Add(add) => {
                // The AddProposal's encoding is its KeyPackage's.
                let bytes = add
                    .tls_serialize_detached()
                    .map_err(|_| Error::Internal("Add does not serialize"))?;
                let key_package = KeyPackageIn::tls_deserialize_exact(bytes)
                    .map_err(|_| Error::Internal("Add does not hold a KeyPackage"))?;
                let (client, claims) = claims_of(&key_package.unverified_credential().credential)?;
                Change::add(client, claims)
            }
            ProposalIn::Remove(remove) => Change::remove(self.client_at(remove.removed())?),
            ProposalIn::SelfRemove => Change::remove(self_removed(sender_client)?),
            ProposalIn::AppDataUpdate(update) => app_data_change(update),
            ProposalIn::ReInit(_) => Change::ReInit,
            other => Change::Other {
                proposal_type: u16::from(other.proposal_type()),
            },
        })
    }

    /// A validated proposal (queued or just received) as a policy proposal.
    /// A new member's own proposal (an external Add) names the joiner
    /// through the KeyPackage it adds.
    ///
    /// # Errors
    /// As [`RoomGroup::actor`] and [`RoomGroup::change`].
    fn policy_proposal(&self, qp: &QueuedProposal) -> Result<Proposal, Error> {
        let joiner = match (qp.sender(), qp.proposal()) {
            (Sender::NewMemberProposal, MlsProposal::Add(add)) => {
                Some(joiner(add.key_package().leaf_node().credential(), None)?)
            }
            _ => None,
        };
        let sender = self.actor(qp.sender(), joiner)?;
        let sender_client = match &sender {
            Actor::Client(c) => Some(c),
            _ => None,
        };
        let change = self.change(qp.proposal(), sender_client)?;
        Ok(Proposal::new(sender, change))
    }

    /// The policy view of a verified commit, from its parsed bytes, in commit
    /// order. `joiner` is the committer's [`Actor::Joiner`] for an external
    /// commit; `queued` resolves by-reference proposals.
    ///
    /// # Errors
    /// [`Error::Malformed`] if a reference names no queued proposal; as
    /// [`RoomGroup::actor`] and [`RoomGroup::change`] otherwise.
    fn policy_commit<'q>(
        &self,
        parsed: &ParsedCommit,
        joiner: Option<Actor>,
        queued: impl Fn(&ProposalRef) -> Option<&'q QueuedProposal>,
    ) -> Result<Commit, Error> {
        let committer = self.actor(&parsed.sender, joiner)?;
        let mut proposals = Vec::with_capacity(parsed.proposals.len());
        for p in &parsed.proposals {
            proposals.push(match p {
                ProposalOrRefIn::Proposal(inline) => Proposal::new(
                    committer.clone(),
                    self.change_inline(inline, acting_client(&committer))?,
                ),
                ProposalOrRefIn::Reference(reference) => {
                    let qp = queued(reference)
                        .ok_or(Error::Malformed("commit references an unknown proposal"))?;
                    self.policy_proposal(qp)?
                }
            });
        }
        Ok(Commit {
            committer,
            proposals,
        })
    }
}

/// The client a SelfRemove removes: its sender's own.
fn self_removed(sender_client: Option<&ClientId>) -> Result<ClientId, Error> {
    sender_client
        .cloned()
        .ok_or(Error::Malformed("SelfRemove from a non-member"))
}

impl RoomGroup for PublicGroup {
    fn public_group(&self) -> &PublicGroup {
        self
    }
}

impl RoomGroup for MlsGroup {
    fn public_group(&self) -> &PublicGroup {
        MlsGroup::public_group(self)
    }
}
