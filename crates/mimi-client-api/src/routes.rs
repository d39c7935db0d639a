//! Routes of the client API, relative to the client listener's base URL.
//!
//! Every route but [`REGISTER`], [`HEALTHZ`] and [`METRICS`] needs an
//! [`AUTHORIZATION`](crate::auth::HEADER) header (see [`crate::auth`]).
//! Errors answer with an [`ErrorBody`](crate::types::ErrorBody) and one of
//! 400 (bad input), 401 (missing or bad signature), 403 (authenticated but
//! not allowed: wrong user, wrong domain), 404, 409 (already exists), 502
//! (the room's hub or a peer failed) or 503 (overloaded, with Retry-After).
//!
//! | method and path | body | answer |
//! | --- | --- | --- |
//! | `POST /client/v1/register` | [`RegisterRequest`](crate::RegisterRequest) | 201 |
//! | `GET /client/v1/hub` | – | [`HubInfo`](crate::HubInfo) |
//! | `POST /client/v1/key-packages` | [`KeyPackagesUpload`](crate::KeyPackagesUpload) | 201 [`KeyPackageCount`](crate::KeyPackageCount) |
//! | `GET /client/v1/key-packages` | – | [`KeyPackageCount`](crate::KeyPackageCount) (unclaimed, and whether a last-resort one is held) |
//! | `POST /client/v1/rooms` | [`CreateRoomRequest`](crate::CreateRoomRequest) | 201 |
//! | `POST /client/v1/mimi/{endpoint}/{target}` | a MIMI request body | the hub's status and MIMI response body |
//! | `GET /client/v1/events?after=N&wait=S` | – | [`EventsPage`](crate::EventsPage), long-polling up to `S` seconds (max 60) when empty |
//! | `GET /client/v1/events/stream?after=N` | – | `text/event-stream`: `id: <cursor>`, `event: fanout`, `data: <`[`Event`](crate::Event)` as JSON>`; resumes from `Last-Event-ID` |
//! | `DELETE /client/v1/rooms/{room}/membership` | – | 204: stop delivering the room's events to this client |
//! | `GET /client/v1/consent` | – | [`ConsentList`](crate::ConsentList): the scopes the caller's user takes part in |
//! | `POST /client/v1/consent/request` | [`ConsentChange`](crate::ConsentChange) (the target) | 204: the caller's user asks the target for consent |
//! | `POST /client/v1/consent/cancel` | [`ConsentChange`](crate::ConsentChange) (the target) | 204: withdraws a pending request |
//! | `POST /client/v1/consent/grant` | [`ConsentChange`](crate::ConsentChange) (the requester) | 204: the caller's user consents |
//! | `POST /client/v1/consent/revoke` | [`ConsentChange`](crate::ConsentChange) (the requester) | 204: the caller's user withdraws consent |
//!
//! `/client/v1/mimi/{endpoint}/{target}` takes the protocol-06 endpoint
//! names and targets of [`mimi_proto::directory`] (`keyMaterial/{user}`,
//! `update/{room}`, `submitMessage/{room}`, `groupInfo/{room}`), with the
//! target percent-encoded as one path segment. The server checks the caller
//! may send it (the `keyMaterial` requester is the caller's user; the
//! `submitMessage` sending URI is the caller), then answers it itself when it
//! hosts the room, or relays it to the room's hub over mutual TLS. Either way
//! the caller gets the MIMI response unchanged. A `keyMaterial` request the
//! room's hub refuses (the caller may not add the target there) answers 403
//! `not_allowed`; one the target's provider limits (too many claims of that
//! user's KeyPackages) answers 429 `rate_limited` with Retry-After; neither
//! claimed anything.
//!
//! The consent routes (protocol-06 §5.7) act for the caller's own user, who
//! is the requester of `request` and `cancel` and the target of `grant` and
//! `revoke`; the body names only the other user and, optionally, the room.
//! The caller's provider records the scope and tells the other user's
//! provider directly (`requestConsent` / `updateConsent`). A grant is
//! recorded and enforced before the other provider is told, so a 502 or 503
//! after a grant or revoke means only the notice failed, and the call can be
//! repeated; a request or cancel is recorded only once the other provider
//! accepted it. An unknown other user answers 404, unless its provider hides
//! who exists.

use mimi_proto::directory::percent_encode;

/// `POST`: register a client.
pub const REGISTER: &str = "/client/v1/register";
/// `GET`: the server's domain and hub external-sender key.
pub const HUB: &str = "/client/v1/hub";
/// `POST` (upload) and `GET` (count) the caller's KeyPackages.
pub const KEY_PACKAGES: &str = "/client/v1/key-packages";
/// `POST`: create a room hosted on this server.
pub const ROOMS: &str = "/client/v1/rooms";
/// Prefix of relayed MIMI requests: `{MIMI}/{endpoint}/{target}`.
pub const MIMI: &str = "/client/v1/mimi";
/// `GET`: a page of the caller's events (long-poll).
pub const EVENTS: &str = "/client/v1/events";
/// `GET`: the caller's events as server-sent events.
pub const EVENTS_STREAM: &str = "/client/v1/events/stream";
/// `GET`: the consent scopes of the caller's user.
pub const CONSENT: &str = "/client/v1/consent";
/// `POST`: the caller's user asks another user for consent.
pub const CONSENT_REQUEST: &str = "/client/v1/consent/request";
/// `POST`: the caller's user withdraws a pending request.
pub const CONSENT_CANCEL: &str = "/client/v1/consent/cancel";
/// `POST`: the caller's user consents to another user fetching its
/// KeyPackages.
pub const CONSENT_GRANT: &str = "/client/v1/consent/grant";
/// `POST`: the caller's user withdraws consent.
pub const CONSENT_REVOKE: &str = "/client/v1/consent/revoke";
/// Liveness, unauthenticated.
pub const HEALTHZ: &str = "/healthz";
/// Prometheus metrics, unauthenticated.
pub const METRICS: &str = "/metrics";

/// The longest long-poll a server honours, in seconds.
pub const MAX_WAIT_SECS: u64 = 60;

/// `DELETE`: the path that stops a room's events for the caller.
pub fn membership(room: &mimi_proto::RoomId) -> String {
    format!("{ROOMS}/{}/membership", percent_encode(room.as_str()))
}

/// `POST`: the path relaying `endpoint` for `target` (a user or room URI).
pub fn mimi(endpoint: &str, target: &str) -> String {
    format!("{MIMI}/{endpoint}/{}", percent_encode(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_one_segment() {
        assert_eq!(
            mimi("update", "mimi://y.example/r/lunch"),
            "/client/v1/mimi/update/mimi%3A%2F%2Fy.example%2Fr%2Flunch"
        );
    }
}
