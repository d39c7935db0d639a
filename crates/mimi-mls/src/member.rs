//! The member side of a room: an OpenMLS `MlsGroup` configured with mimi's
//! profile (protocol-06 §3.1, §4.2), and the commits a member sends to the hub.
//! The client builds its rooms with these; the hub's tests build real members
//! with them too, so the hub never depends on the client library.

use openmls::messages::Welcome;
use openmls::messages::group_info::GroupInfo;
use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    AppDataDictionary, AppDataDictionaryExtension, Extension, Extensions, ExternalSender,
    ExternalSendersExtension, KeyPackage, LeafNodeParameters, MlsGroup, MlsGroupCreateConfig,
    MlsGroupJoinConfig, MlsMessageOut, PURE_PLAINTEXT_WIRE_FORMAT_POLICY, ProtocolVersion,
    RatchetTreeIn,
};
use openmls::prelude::{MlsMessageBodyIn, MlsMessageIn};
use openmls::treesync::RatchetTree;
use openmls_traits::OpenMlsProvider;

use mimi_proto::RoomId;
use mimi_proto::messages::{
    CommitMessage, GroupInfoOption, HandshakeBundle, RatchetTreeOption, UpdateRequest,
};
use mimi_proto::mls_profile::{CIPHERSUITE, leaf_capabilities, required_capabilities};

use crate::error::Error;
use crate::group::group_id_of;
use crate::identity::Identity;

/// A commit ready for the hub's `update` endpoint.
#[derive(Debug)]
pub struct OutgoingCommit {
    /// The commit (PublicMessage).
    pub commit: MlsMessageOut,
    /// The Welcome, when the commit adds members.
    pub welcome: Option<MlsMessageOut>,
    /// The new epoch's GroupInfo, without the ratchet tree.
    pub group_info: MlsMessageOut,
}

/// How every mimi client joins groups: handshakes in the clear so the hub can
/// check them (protocol-06 §4.2), no ratchet tree in GroupInfo (the hub serves it).
pub fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(false)
        .build()
}

/// Creates a room's MLS group at epoch 0 with `identity` as the only member.
///
/// The GroupContext carries the hub in `external_senders`, mimi's
/// `required_capabilities`, and `dictionary` (the room state) in
/// `app_data_dictionary` (protocol-06 §3.1, §7.2).
///
/// # Errors
/// [`Error::Mls`] if OpenMLS refuses the configuration.
pub fn create_group(
    provider: &impl OpenMlsProvider,
    identity: &Identity,
    room: &RoomId,
    hub: ExternalSender,
    dictionary: AppDataDictionary,
) -> Result<MlsGroup, Error> {
    let extensions = Extensions::from_vec(vec![
        Extension::ExternalSenders(ExternalSendersExtension::from(vec![hub])),
        Extension::RequiredCapabilities(required_capabilities()),
        Extension::AppDataDictionary(AppDataDictionaryExtension::new(dictionary)),
    ])
    .map_err(|e| Error::Mls(format!("group context extensions: {e}")))?;
    let config = MlsGroupCreateConfig::builder()
        .ciphersuite(CIPHERSUITE)
        .capabilities(leaf_capabilities())
        .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(false)
        .with_group_context_extensions(extensions)
        .build();
    MlsGroup::new_with_group_id(
        provider,
        identity.signer(),
        &config,
        group_id_of(room),
        identity.credential_with_key(),
    )
    .map_err(|e| Error::Mls(format!("create group: {e}")))
}

/// The GroupInfo and ratchet tree the hub needs to start tracking a new room.
///
/// # Errors
/// [`Error::Mls`] if the GroupInfo cannot be signed.
pub fn export_for_hub(
    provider: &impl OpenMlsProvider,
    identity: &Identity,
    group: &MlsGroup,
) -> Result<(MlsMessageOut, RatchetTree), Error> {
    let group_info = group
        .export_group_info(provider.crypto(), identity.signer(), false)
        .map_err(|e| Error::Mls(format!("export GroupInfo: {e}")))?;
    Ok((group_info, group.export_ratchet_tree()))
}

/// Builds (but does not merge) a commit adding `key_packages`. Merge it with
/// `group.merge_pending_commit` only after the hub answers `success`.
///
/// # Errors
/// [`Error::Mls`] if OpenMLS refuses the commit.
pub fn add_members(
    provider: &impl OpenMlsProvider,
    identity: &Identity,
    group: &mut MlsGroup,
    key_packages: Vec<KeyPackage>,
) -> Result<OutgoingCommit, Error> {
    let bundle = group
        .commit_builder()
        .propose_adds(key_packages)
        .load_psks(provider.storage())
        .map_err(|e| Error::Mls(format!("load PSKs: {e}")))?
        .create_group_info(true)
        .build(
            provider.rand(),
            provider.crypto(),
            identity.signer(),
            |_| true,
        )
        .map_err(|e| Error::Mls(format!("build commit: {e}")))?
        .stage_commit(provider)
        .map_err(|e| Error::Mls(format!("stage commit: {e}")))?;
    outgoing(bundle.into_contents())
}

/// A staged commit's parts as the hub's `update` endpoint takes them.
///
/// # Errors
/// [`Error::Mls`] if the commit produced no GroupInfo.
pub fn outgoing(
    (commit, welcome, group_info): (MlsMessageOut, Option<Welcome>, Option<GroupInfo>),
) -> Result<OutgoingCommit, Error> {
    let group_info = group_info
        .ok_or_else(|| Error::Mls("commit produced no GroupInfo".into()))?
        .into();
    Ok(OutgoingCommit {
        commit,
        welcome: welcome.map(|w| MlsMessageOut::from_welcome(w, ProtocolVersion::Mls10)),
        group_info,
    })
}

/// Joins a room by external commit from the material the hub returned for a
/// GroupInfo request. The group stays pending until the hub accepts the commit
/// (then `merge_pending_commit`).
///
/// # Errors
/// [`Error::Mls`] if the GroupInfo or tree is invalid or the commit
/// cannot be built.
pub fn join_external(
    provider: &impl OpenMlsProvider,
    identity: &Identity,
    group_info: VerifiableGroupInfo,
    ratchet_tree: RatchetTreeIn,
) -> Result<(MlsGroup, OutgoingCommit), Error> {
    let (group, bundle) = MlsGroup::external_commit_builder()
        .with_config(join_config())
        .with_ratchet_tree(ratchet_tree)
        .build_group(provider, group_info, identity.credential_with_key())
        .map_err(|e| Error::Mls(format!("external join: {e}")))?
        .leaf_node_parameters(
            LeafNodeParameters::builder()
                .with_capabilities(leaf_capabilities())
                .build(),
        )
        .load_psks(provider.storage())
        .map_err(|e| Error::Mls(format!("load PSKs: {e}")))?
        .create_group_info(true)
        .build(
            provider.rand(),
            provider.crypto(),
            identity.signer(),
            |_| true,
        )
        .map_err(|e| Error::Mls(format!("build external commit: {e}")))?
        .finalize(provider)
        .map_err(|e| Error::Mls(format!("finalize external commit: {e}")))?;
    Ok((group, outgoing(bundle.into_contents())?))
}

impl OutgoingCommit {
    /// The `update` request body: the commit, its Welcome, the full GroupInfo,
    /// and `distributionService` as the tree option (the hub tracks the tree
    /// from the handshakes it validates).
    ///
    /// # Errors
    /// [`Error::Internal`] if our own objects do not re-read.
    pub fn update_request(&self) -> Result<UpdateRequest, Error> {
        let welcome = match &self.welcome {
            Some(w) => match reread(w)?.extract() {
                MlsMessageBodyIn::Welcome(w) => Some(Box::new(w)),
                _ => return Err(Error::Internal("Welcome is not a Welcome")),
            },
            None => None,
        };
        let MlsMessageBodyIn::GroupInfo(group_info) = reread(&self.group_info)?.extract() else {
            return Err(Error::Internal("GroupInfo is not a GroupInfo"));
        };
        Ok(UpdateRequest {
            bundle: HandshakeBundle::Commit {
                commit: CommitMessage::try_from(reread(&self.commit)?)
                    .map_err(|_| Error::Internal("commit is not a commit"))?,
                welcome,
                group_info_option: GroupInfoOption::Full(Box::new(group_info)),
                ratchet_tree_option: RatchetTreeOption::DistributionService,
            },
        })
    }
}

/// Our own `MLSMessage` as the `…In` form protocol bodies hold.
///
/// # Errors
/// [`Error::Internal`] if it does not re-read.
pub fn reread(message: &MlsMessageOut) -> Result<MlsMessageIn, Error> {
    let bytes = message
        .tls_serialize_detached()
        .map_err(|_| Error::Internal("message does not encode"))?;
    MlsMessageIn::tls_deserialize_exact(bytes)
        .map_err(|_| Error::Internal("message does not decode"))
}
