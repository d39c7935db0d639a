//! `mimi client consent …`: who may fetch whose KeyPackages (protocol-06
//! §5.7). Adding a user to a room needs their KeyPackages; a provider whose
//! consent policy is `explicit` (or `contacts-only`) hands them out only with
//! the user's consent, per room or for any room.

use clap::{Args, Subcommand};
use mimi_proto::{RoomId, UserId};
use mimi_session::{Consent, ConsentOperation, ConsentState, Session, SessionError};
use serde_json::json;

use super::{Output, parse_room, parse_user};

pub(super) const AFTER_HELP: &str = "\
You are always the acting user: you ask (request, cancel) as the requester,
and answer (grant, revoke) as the target. Name only the other user; --room
limits the scope to one room, otherwise it covers every room. A room's own
scope is more specific than the room-less one, so `revoke --room` keeps a
grant for the other rooms.

Examples:
  mimi client --home ~/.mimi/bob consent request cathy@y.example
  mimi client --home ~/.mimi/cathy consent list --pending
  mimi client --home ~/.mimi/cathy consent grant bob@x.example --room lunch@x.example
  mimi client --home ~/.mimi/cathy --json consent revoke bob@x.example

Exit codes as for every `mimi client` command; an unknown user is bad input (2).";

/// `mimi client consent` subcommands.
#[derive(Debug, Subcommand)]
pub(super) enum ConsentCommand {
    /// List the consent scopes you take part in: requests waiting for your
    /// answer, your grants and revocations, and your own requests with
    /// their answers.
    List {
        /// Only requests to you that wait for your answer.
        #[arg(long)]
        pending: bool,
    },
    /// Ask a user for consent to fetch their KeyPackages (to add them to rooms).
    Request(Scope),
    /// Withdraw a request of yours that is still pending.
    Cancel(Scope),
    /// Let a user fetch your KeyPackages (add you to rooms).
    Grant(Scope),
    /// Withdraw consent you gave, or refuse a pending request.
    Revoke(Scope),
}

/// The other user and the room of a consent scope.
#[derive(Debug, Args)]
pub(super) struct Scope {
    /// The other user: `bob@x.example` or `mimi://x.example/u/bob`.
    user: String,
    /// Only this room (a name on your provider, `name@domain` or a room URI);
    /// every room by default.
    #[arg(long)]
    room: Option<String>,
}

/// Runs a consent subcommand for the session's user.
pub(super) fn run(s: &Session, command: ConsentCommand) -> Result<Output, SessionError> {
    let me = s.client().user().clone();
    let (operation, scope) = match command {
        ConsentCommand::List { pending } => return list(s, &me, pending),
        ConsentCommand::Request(scope) => (ConsentOperation::Request, scope),
        ConsentCommand::Cancel(scope) => (ConsentOperation::Cancel, scope),
        ConsentCommand::Grant(scope) => (ConsentOperation::Grant, scope),
        ConsentCommand::Revoke(scope) => (ConsentOperation::Revoke, scope),
    };
    let other = parse_user(&scope.user)?;
    let room = scope.room.map(|r| parse_room(s, &r)).transpose()?;
    let room_ref = room.as_ref();
    s.change_consent(operation, &other, room_ref)?;
    let (requester, target) = operation.roles(&me, &other);
    let where_ = room_text(room_ref.map(RoomId::as_str));
    let text = match operation {
        ConsentOperation::Request => format!("asked {other} for consent ({where_})"),
        ConsentOperation::Cancel => format!("withdrew your request to {other} ({where_})"),
        ConsentOperation::Grant => format!("{other} may fetch your KeyPackages ({where_})"),
        ConsentOperation::Revoke => {
            format!("{other} may no longer fetch your KeyPackages ({where_})")
        }
    };
    Ok(Output {
        json: json!({
            "operation": operation.name(),
            "requester": requester.as_str(),
            "target": target.as_str(),
            "room": room_ref.map(RoomId::as_str),
        }),
        text,
    })
}

fn list(s: &Session, me: &UserId, pending: bool) -> Result<Output, SessionError> {
    let consents: Vec<Consent> = s
        .consents()?
        .into_iter()
        .filter(|c| !pending || waits_for(c, me))
        .collect();
    let text = consents
        .iter()
        .map(|c| line(c, me))
        .collect::<Vec<_>>()
        .join("\n");
    let json_consents: Vec<_> = consents
        .iter()
        .map(|c| {
            json!({
                "requester": c.requester,
                "target": c.target,
                "room": c.room,
                "state": c.state,
                "updated_at": c.updated_at,
                "role": if c.target == me.as_str() { "target" } else { "requester" },
            })
        })
        .collect();
    Ok(Output {
        json: json!({ "user": me.as_str(), "consents": json_consents }),
        text: if text.is_empty() {
            if pending {
                "no requests wait for your answer".into()
            } else {
                "no consent requests or answers".into()
            }
        } else {
            text
        },
    })
}

/// A request to `me` that has no answer yet.
fn waits_for(c: &Consent, me: &UserId) -> bool {
    c.state == ConsentState::Requested && c.target == me.as_str()
}

fn line(c: &Consent, me: &UserId) -> String {
    let state = match c.state {
        ConsentState::Granted => "granted",
        ConsentState::Requested => "requested",
        ConsentState::Revoked => "revoked",
    };
    let room = room_text(c.room.as_deref());
    if c.target == me.as_str() {
        let hint = if waits_for(c, me) {
            "  (answer: consent grant|revoke)"
        } else {
            ""
        };
        format!("{} → you  {room}  {state}{hint}", c.requester)
    } else {
        format!("you → {}  {room}  {state}", c.target)
    }
}

fn room_text(room: Option<&str>) -> String {
    room.map_or_else(|| "any room".to_owned(), |r| format!("room {r}"))
}
