//! JSON bodies of the client API. Binary values are [`Base64`]: standard
//! base64 strings on the wire.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes carried as a standard base64 string.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Base64(pub Vec<u8>);

impl std::fmt::Debug for Base64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Base64({} bytes)", self.0.len())
    }
}

impl From<Vec<u8>> for Base64 {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl Serialize for Base64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Base64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map(Self)
            .map_err(|e| serde::de::Error::custom(format!("not base64: {e}")))
    }
}

/// `POST /client/v1/register`: a new client of a user on this provider.
///
/// The `proof` is a [`RegisterProof`](crate::RegisterProof) signature: the
/// client holds the private half of `signature_key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// The client's `mimi://<domain>/d/<user>/<device>` URI.
    pub client: String,
    /// TLS-encoded MLS `Credential` (a basic credential naming `client`).
    pub credential: Base64,
    /// The MLS signature public key (raw, as in the leaf node).
    pub signature_key: Base64,
    /// Seconds since the Unix epoch when the proof was made.
    pub timestamp: u64,
    /// `SignWithLabel(signature_key, "mimi client register", RegisterProofTBS)`.
    pub proof: Base64,
    /// The provider's registration token, when the server requires one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// `GET /client/v1/hub`: what a client needs to create a room here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubInfo {
    /// This provider's domain.
    pub domain: String,
    /// TLS-encoded MLS `ExternalSender` of the hub (its signing key and
    /// credential), to put in a new room's `external_senders`.
    pub external_sender: Base64,
}

/// `POST /client/v1/key-packages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPackagesUpload {
    /// TLS-encoded `KeyPackage`s (not wrapped in MLSMessage) of the caller.
    pub key_packages: Vec<Base64>,
}

/// How many of the caller's KeyPackages are still unclaimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPackageCount {
    /// Unclaimed KeyPackages, not counting the last-resort one.
    pub remaining: u64,
    /// Whether the provider holds an unexpired last-resort KeyPackage of the
    /// client (decisions KP-4). Absent from older servers: `false`.
    #[serde(default)]
    pub last_resort: bool,
}

/// `POST /client/v1/rooms`: a room whose hub is this server, created by the
/// caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRoomRequest {
    /// The room URI; its domain must be this server's.
    pub room: String,
    /// TLS-encoded MLS `GroupInfo` of epoch 0 (not wrapped in MLSMessage).
    pub group_info: Base64,
    /// TLS-encoded ratchet tree.
    pub ratchet_tree: Base64,
    /// The `mimi-policy` preset name the room was made from; the hub then
    /// also checks the room state matches it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
}

/// One event for a client: a `FanoutMessage` the room's hub sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The event's position in this client's stream; strictly increasing.
    /// Resume with `after = cursor`.
    pub cursor: u64,
    /// The room, when the event belongs to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// The TLS-encoded `FanoutMessage`.
    pub payload: Base64,
}

/// `GET /client/v1/events`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EventsPage {
    /// Events after the requested cursor, oldest first.
    pub events: Vec<Event>,
}

/// What a user does to a consent scope through the client API. The caller's
/// user always acts (decisions CAPI-8): as the requester of a request or a
/// cancel, as the target of a grant or a revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentOperation {
    /// Ask the other user for consent.
    Request,
    /// Withdraw a pending request.
    Cancel,
    /// Consent to the other user fetching the caller's KeyPackages.
    Grant,
    /// Withdraw consent.
    Revoke,
}

impl ConsentOperation {
    /// Its name, as in its route and in logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Cancel => "cancel",
            Self::Grant => "grant",
            Self::Revoke => "revoke",
        }
    }

    /// Its `POST` route.
    pub fn route(self) -> &'static str {
        match self {
            Self::Request => crate::routes::CONSENT_REQUEST,
            Self::Cancel => crate::routes::CONSENT_CANCEL,
            Self::Grant => crate::routes::CONSENT_GRANT,
            Self::Revoke => crate::routes::CONSENT_REVOKE,
        }
    }

    /// `(requester, target)` of the scope when the caller's user is `me` and
    /// the body names `other`.
    pub fn roles<T>(self, me: T, other: T) -> (T, T) {
        match self {
            Self::Request | Self::Cancel => (me, other),
            Self::Grant | Self::Revoke => (other, me),
        }
    }
}

/// `POST /client/v1/consent/{request,cancel,grant,revoke}`: one consent
/// scope, seen from the caller (protocol-06 §5.7).
///
/// The body names only the *other* user: the caller's own user, taken from
/// its authenticated client, is the requester of a `request` or `cancel` and
/// the target of a `grant` or `revoke`. A client therefore cannot speak for
/// another user (decisions CAPI-8). Unknown fields are refused, so a body
/// written for another shape (one naming `requester` and `target`) fails with
/// 400 instead of being read as something else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentChange {
    /// The other user's URI (`mimi://<domain>/u/<user>`): whom the caller
    /// asks (`request`, `cancel`), or who asked the caller (`grant`,
    /// `revoke`).
    pub user: String,
    /// The room the scope is limited to; none for any room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
}

/// `GET /client/v1/consent`: every scope the caller's user takes part in, as
/// requester or as target, most recently changed first, at most 1000.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConsentList {
    /// The scopes.
    pub consents: Vec<Consent>,
}

/// One consent scope and its state, as the caller's provider holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Who asks to fetch KeyPackages (a user URI).
    pub requester: String,
    /// Whose KeyPackages (a user URI).
    pub target: String,
    /// The room the scope is limited to; none for any room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// Where the scope stands.
    pub state: ConsentState,
    /// When it last changed, milliseconds since the Unix epoch.
    pub updated_at: u64,
}

/// Where a consent scope stands (protocol-06 §5.7): asked for, or answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// The target consented.
    Granted,
    /// The requester asked; the target has not answered.
    Requested,
    /// The target withdrew (or refused) consent.
    Revoked,
}

/// Why a request failed, in every non-2xx JSON answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable machine-readable code.
    pub code: ErrorCode,
    /// A sentence for humans.
    pub message: String,
}

/// Stable error codes of the client API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: the body or a parameter does not parse.
    BadRequest,
    /// 401: no signature, a bad one, a stale timestamp or a replayed nonce.
    Unauthenticated,
    /// 403: the caller may not do this (another user's request, another
    /// provider's domain, registration closed).
    Forbidden,
    /// 403: the room's hub refuses a keyMaterial request because room
    /// policy does not let the caller add that user there (MIMI
    /// `notAllowed`); no KeyPackage was claimed.
    NotAllowed,
    /// 404: no such room, client or user.
    NotFound,
    /// 404: the request names a user or room of a provider that the server
    /// (or the room's hub) does not federate with.
    UnknownProvider,
    /// 409: it exists already.
    Conflict,
    /// 502: the room's hub or a peer provider could not be reached or failed.
    Upstream,
    /// 429: the target's provider limits KeyPackage claims for that user by
    /// the caller's user or provider; retry after the `Retry-After` seconds.
    RateLimited,
    /// 503: overloaded; retry after the `Retry-After` seconds.
    Unavailable,
    /// 500: the server failed.
    Internal,
}

#[cfg(test)]
mod tests {

    #[test]
    fn each_consent_operation_has_its_route_and_the_caller_its_role() {
        use ConsentOperation::*;
        for operation in [Request, Cancel, Grant, Revoke] {
            let route = operation.route();
            assert_eq!(route.rsplit('/').next(), Some(operation.name()), "{route}");
        }
        assert_eq!(Request.roles("me", "other"), ("me", "other"));
        assert_eq!(Cancel.roles("me", "other"), ("me", "other"));
        assert_eq!(Grant.roles("me", "other"), ("other", "me"));
        assert_eq!(Revoke.roles("me", "other"), ("other", "me"));
    }

    use super::*;

    #[test]
    fn bytes_travel_as_base64() {
        let page = EventsPage {
            events: vec![Event {
                cursor: 7,
                room: Some("mimi://y.example/r/r1".into()),
                payload: Base64(vec![0, 1, 255]),
            }],
        };
        let json = serde_json::to_string(&page).unwrap();
        assert_eq!(
            json,
            r#"{"events":[{"cursor":7,"room":"mimi://y.example/r/r1","payload":"AAH/"}]}"#
        );
        assert_eq!(serde_json::from_str::<EventsPage>(&json).unwrap(), page);
        assert!(serde_json::from_str::<Base64>("\"***\"").is_err());
    }

    #[test]
    fn consent_bodies_name_the_other_user_only() {
        let change = ConsentChange {
            user: "mimi://c.example/u/cathy".into(),
            room: None,
        };
        let json = serde_json::to_string(&change).unwrap();
        assert_eq!(json, r#"{"user":"mimi://c.example/u/cathy"}"#);
        assert_eq!(
            serde_json::from_str::<ConsentChange>(&json).unwrap(),
            change
        );
        // A body that tries to name the acting user does not parse.
        assert!(
            serde_json::from_str::<ConsentChange>(
                r#"{"user":"mimi://b.example/u/bob","target":"mimi://c.example/u/cathy"}"#
            )
            .is_err()
        );
        let list = ConsentList {
            consents: vec![Consent {
                requester: "mimi://b.example/u/bob".into(),
                target: "mimi://c.example/u/cathy".into(),
                room: Some("mimi://b.example/r/club".into()),
                state: ConsentState::Requested,
                updated_at: 5,
            }],
        };
        let json = serde_json::to_string(&list).unwrap();
        assert!(json.contains(r#""state":"requested""#), "{json}");
        assert_eq!(serde_json::from_str::<ConsentList>(&json).unwrap(), list);
    }

    proptest::proptest! {
        #[test]
        fn consent_json_round_trips(
            requester in "\\PC{0,40}",
            target in "\\PC{0,40}",
            room in proptest::option::of("\\PC{0,40}"),
            state in proptest::sample::select(vec![
                ConsentState::Granted,
                ConsentState::Requested,
                ConsentState::Revoked,
            ]),
            updated_at: u64,
        ) {
            let list = ConsentList {
                consents: vec![Consent { requester: requester.clone(), target, room: room.clone(), state, updated_at }],
            };
            let json = serde_json::to_vec(&list).unwrap();
            proptest::prop_assert_eq!(serde_json::from_slice::<ConsentList>(&json).unwrap(), list);
            let change = ConsentChange { user: requester, room };
            let json = serde_json::to_vec(&change).unwrap();
            proptest::prop_assert_eq!(serde_json::from_slice::<ConsentChange>(&json).unwrap(), change);
        }
    }

    #[test]
    fn error_codes_are_snake_case() {
        let body = ErrorBody {
            code: ErrorCode::Unauthenticated,
            message: "stale".into(),
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"code":"unauthenticated","message":"stale"}"#
        );
    }
}
