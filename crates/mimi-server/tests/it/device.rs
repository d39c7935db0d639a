//! A client of one provider that talks only to its provider's client API,
//! signing every request with its MLS key, as a real client does.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use mimi_client::{Client, OutgoingCommit, RoomEvent};
use mimi_client_api::routes;
use mimi_client_api::{
    AuthHeader, Base64, ConsentChange, ConsentList, ConsentState, CreateRoomRequest, ErrorBody,
    ErrorCode, EventsPage, HubInfo, KeyPackageCount, KeyPackagesUpload, RegisterProof,
    RegisterRequest,
};
use mimi_policy::Preset;
use mimi_proto::messages::{
    ClientStatus, KeyMaterialRequestTbs, KeyMaterialResponse, RawFanoutMessage,
    SubmitMessageResponse, UpdateOutcome, UpdateRoomResponse,
};
use mimi_proto::mls_profile::{CIPHERSUITE, required_capabilities};
use mimi_proto::{ClientId, RoomId, UserId, WireMessage as _};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{ExternalSender, KeyPackage, MlsMessageBodyIn, ProtocolVersion};
use openmls_basic_credential::SignatureKeyPair;
use openmls_traits::OpenMlsProvider as _;
use openmls_traits::signatures::Signer;
use reqwest::{Method, StatusCode};

use crate::common::{PATIENCE, Server, wire};

/// One client of one provider, talking only to its provider's client API.
pub struct Device {
    pub client: Client,
    pub id: ClientId,
    pub http: reqwest::Client,
    base: String,
    /// The last event cursor processed.
    cursor: u64,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn nonce() -> [u8; 16] {
    rand::random()
}

impl Device {
    pub fn new(uri: &str, home: &Server) -> Self {
        Self::at(uri, home.https().clone(), home.client_url())
    }

    pub fn at(uri: &str, http: reqwest::Client, base: String) -> Self {
        let id = ClientId::parse(uri).unwrap();
        Self {
            client: Client::in_memory(id.clone()).unwrap(),
            id,
            http,
            base,
            cursor: 0,
        }
    }

    pub fn user(&self) -> UserId {
        self.id.user().unwrap()
    }

    pub fn key(&self) -> &SignatureKeyPair {
        self.client.identity().signer()
    }

    /// `Authorization` for a request signed with `signer`.
    pub fn authorization(
        &self,
        signer: &impl Signer,
        method: &Method,
        path: &str,
        body: &[u8],
    ) -> String {
        AuthHeader::sign(
            signer,
            self.id.as_str(),
            method.as_str(),
            path,
            body,
            now_secs(),
            nonce(),
        )
        .unwrap()
        .to_header_value()
    }

    /// A request signed by this client's key.
    pub fn signed(&self, method: Method, path: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        let authorization = self.authorization(self.key(), &method, path, &body);
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("authorization", authorization)
            .body(body)
    }

    pub async fn send(&self, method: Method, path: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let response = self.signed(method, path, body).send().await.unwrap();
        let status = response.status();
        (status, response.bytes().await.unwrap().to_vec())
    }

    pub fn registration(&self, signer: &SignatureKeyPair) -> RegisterRequest {
        let credential = self
            .client
            .identity()
            .credential_with_key()
            .credential
            .tls_serialize_detached()
            .unwrap();
        let key = signer.to_public_vec();
        let timestamp = now_secs();
        let proof =
            RegisterProof::sign(signer, self.id.as_str(), &credential, &key, timestamp).unwrap();
        RegisterRequest {
            client: self.id.as_str().to_owned(),
            credential: Base64(credential),
            signature_key: Base64(key),
            timestamp,
            proof: Base64(proof),
            token: None,
        }
    }

    pub async fn post_register(&self, request: &RegisterRequest) -> (StatusCode, Vec<u8>) {
        let response = self
            .http
            .post(format!("{}{}", self.base, routes::REGISTER))
            .body(serde_json::to_vec(request).unwrap())
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.bytes().await.unwrap().to_vec())
    }

    /// Registers this client and uploads `key_packages` KeyPackages.
    pub async fn register(&mut self, key_packages: usize) {
        let request = self.registration(self.key());
        let (status, body) = self.post_register(&request).await;
        assert_eq!(status, StatusCode::CREATED, "{}", text(&body));
        if key_packages > 0 {
            let upload = KeyPackagesUpload {
                key_packages: self
                    .client
                    .key_packages(key_packages)
                    .unwrap()
                    .iter()
                    .map(|kp| Base64(kp.tls_serialize_detached().unwrap()))
                    .collect(),
            };
            let (status, body) = self
                .send(
                    Method::POST,
                    routes::KEY_PACKAGES,
                    serde_json::to_vec(&upload).unwrap(),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{}", text(&body));
            let count: KeyPackageCount = serde_json::from_slice(&body).unwrap();
            assert_eq!(count.remaining, key_packages as u64);
        }
    }

    pub async fn hub_sender(&self) -> ExternalSender {
        let (status, body) = self.send(Method::GET, routes::HUB, Vec::new()).await;
        assert_eq!(status, StatusCode::OK, "{}", text(&body));
        let info: HubInfo = serde_json::from_slice(&body).unwrap();
        ExternalSender::tls_deserialize_exact(info.external_sender.0).unwrap()
    }

    /// Creates `room` on our own provider (its hub).
    pub async fn create_room(&mut self, room: &RoomId) {
        let sender = self.hub_sender().await;
        let created = self
            .client
            .create_room(room, Preset::PrivateGroup, sender)
            .unwrap();
        // The contract carries the bare GroupInfo, not an MLSMessage.
        let MlsMessageBodyIn::GroupInfo(group_info) = wire(&created.group_info).extract() else {
            panic!("not a GroupInfo")
        };
        let request = CreateRoomRequest {
            room: room.as_str().to_owned(),
            group_info: Base64(group_info.tls_serialize_detached().unwrap()),
            ratchet_tree: Base64(created.ratchet_tree.tls_serialize_detached().unwrap()),
            preset: Some(Preset::PrivateGroup.name().to_owned()),
        };
        let (status, body) = self
            .send(
                Method::POST,
                routes::ROOMS,
                serde_json::to_vec(&request).unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{}", text(&body));
    }

    pub async fn mimi(&self, endpoint: &str, target: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        self.send(Method::POST, &routes::mimi(endpoint, target), body)
            .await
    }

    pub fn key_material_request(
        &self,
        requester: &UserId,
        target: &UserId,
        room: &RoomId,
    ) -> Vec<u8> {
        let cwk = self.client.identity().credential_with_key();
        KeyMaterialRequestTbs {
            requesting_user: requester.clone(),
            target_user: target.clone(),
            room_id: Some(room.clone()),
            acceptable_ciphersuites: vec![CIPHERSUITE.into()],
            required_capabilities: required_capabilities(),
            requester_signature_key: cwk.signature_key,
            requester_credential: cwk.credential,
        }
        .sign(self.key())
        .unwrap()
        .encode()
        .unwrap()
    }

    /// Our keyMaterial request for one KeyPackage per client of `target`,
    /// for `room`; its decoded answer.
    pub async fn key_material(&self, target: &UserId, room: &RoomId) -> KeyMaterialResponse {
        let body = self.key_material_request(&self.user(), target, room);
        let (status, body) = self.mimi("keyMaterial", target.as_str(), body).await;
        assert_eq!(status, StatusCode::OK, "{}", text(&body));
        KeyMaterialResponse::decode(&body).unwrap()
    }

    /// Claims one KeyPackage per client of `target` for `room`.
    pub async fn claim(&self, target: &UserId, room: &RoomId) -> Vec<KeyPackage> {
        self.key_material(target, room)
            .await
            .clients
            .into_iter()
            .filter_map(|c| match c.status {
                ClientStatus::Success(kp) => Some(
                    kp.validate(self.client.provider().crypto(), ProtocolVersion::Mls10)
                        .unwrap(),
                ),
                _ => None,
            })
            .collect()
    }

    pub async fn commit(&mut self, room: &RoomId, out: &OutgoingCommit) -> UpdateOutcome {
        let body = out.update_request().unwrap().encode().unwrap();
        let (status, body) = self.mimi("update", room.as_str(), body).await;
        assert_eq!(status, StatusCode::OK, "{}", text(&body));
        let response = UpdateRoomResponse::decode(&body).unwrap();
        self.client
            .commit_answered(room, &response.outcome)
            .unwrap();
        response.outcome
    }

    /// Adds `joiner`'s user with the claimed `kps` in one commit, which must
    /// succeed, and waits until `joiner` has joined.
    pub async fn add(&mut self, room: &RoomId, joiner: &mut Device, kps: Vec<KeyPackage>) {
        let out = self
            .client
            .add_user(room, &joiner.user(), None, kps)
            .unwrap();
        let outcome = self.commit(room, &out).await;
        assert!(
            matches!(outcome, UpdateOutcome::Success { .. }),
            "{outcome:?}"
        );
        joiner
            .sync_until(|events| events.iter().any(|e| matches!(e, RoomEvent::Joined { .. })))
            .await;
    }

    pub async fn send_text(&mut self, room: &RoomId, text_: &str) -> mimi_content::MessageId {
        let out = self.client.send_text(room, text_).unwrap();
        let body = out.submit_request().unwrap().encode().unwrap();
        let (status, body) = self.mimi("submitMessage", room.as_str(), body).await;
        assert_eq!(status, StatusCode::OK, "{}", text(&body));
        match SubmitMessageResponse::decode(&body).unwrap() {
            SubmitMessageResponse::Accepted {
                accepted_timestamp,
                frank,
            } => self
                .client
                .message_accepted(room, &out.message_id, accepted_timestamp, frank)
                .unwrap(),
            other => panic!("message refused: {other:?}"),
        }
        out.message_id
    }

    /// `POST /client/v1/consent/{operation}` about `other` (and `room`);
    /// the status and body.
    pub async fn consent(
        &self,
        operation: &str,
        other: &UserId,
        room: Option<&RoomId>,
    ) -> (StatusCode, Vec<u8>) {
        let change = ConsentChange {
            user: other.as_str().to_owned(),
            room: room.map(|r| r.as_str().to_owned()),
        };
        self.send(
            Method::POST,
            &format!("{}/{operation}", routes::CONSENT),
            serde_json::to_vec(&change).unwrap(),
        )
        .await
    }

    /// The consent scopes of our user, as `(requester, target, room, state)`.
    pub async fn consents(&self) -> Vec<(String, String, Option<String>, ConsentState)> {
        let (status, body) = self.send(Method::GET, routes::CONSENT, Vec::new()).await;
        assert_eq!(status, StatusCode::OK, "{}", text(&body));
        serde_json::from_slice::<ConsentList>(&body)
            .unwrap()
            .consents
            .into_iter()
            .map(|c| (c.requester, c.target, c.room, c.state))
            .collect()
    }

    /// One long-poll page after our cursor, processed.
    pub async fn poll(&mut self, wait: u64) -> Vec<RoomEvent> {
        let path = format!("{}?after={}&wait={wait}", routes::EVENTS, self.cursor);
        let (status, body) = self.send(Method::GET, &path, Vec::new()).await;
        assert_eq!(status, StatusCode::OK, "{}", text(&body));
        let page: EventsPage = serde_json::from_slice(&body).unwrap();
        let mut events = Vec::new();
        for event in page.events {
            assert!(event.cursor > self.cursor, "cursors only grow");
            let fanout = RawFanoutMessage::decode(&event.payload.0).unwrap();
            events.extend(self.client.process(fanout).unwrap());
            self.cursor = event.cursor;
        }
        events
    }

    /// Long-polls until `done` holds for the events seen so far.
    pub async fn sync_until(
        &mut self,
        mut done: impl FnMut(&[RoomEvent]) -> bool,
    ) -> Vec<RoomEvent> {
        let deadline = Instant::now() + PATIENCE;
        let mut events = Vec::new();
        loop {
            // The server answers as soon as something arrives.
            events.extend(self.poll(10).await);
            if done(&events) {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not get what it waited for; got {events:#?}",
                self.id
            );
        }
    }
}

pub fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

pub fn error_code(body: &[u8]) -> ErrorCode {
    serde_json::from_slice::<ErrorBody>(body)
        .unwrap_or_else(|e| panic!("not an ErrorBody ({e}): {}", text(body)))
        .code
}
