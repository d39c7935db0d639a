//! `mimi client --home DIR <subcommand>`: one user's client against its
//! provider's client API, with state in a home directory (the client
//! database and `session.toml`), so each command resumes where the last one
//! stopped.
//!
//! Every subcommand prints one result: readable text, or with `--json` one
//! JSON document on stdout. Errors go to stderr (and, with `--json`, as
//! `{"error": {...}}` on stdout) with the exit codes of [`crate::exit`]'s
//! client section.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use mimi_content::MessageId;
use mimi_policy::Preset;
use mimi_proto::{ClientId, RoomId, UserId};
use mimi_session::{EventView, RegisterOptions, Session, SessionError};
use serde_json::{Value, json};

use crate::exit;

mod consent;
mod keys;

const AFTER_HELP: &str = "\
Exit codes:
  0  ok
  1  local state or storage failed
  2  bad input or usage: an argument does not parse, names an unknown room, user,
     message or provider, or the home was never registered
  3  refused by room policy or by the protocol (the hub's or the provider's answer;
     also when another commit won the race and ours no longer applies)
  4  network: the provider or the room's hub could not be reached, or failed

With --json, a failure prints {\"error\": {\"kind\", \"code\", \"message\"}} on stdout too.
Message IDs: all 64 hex digits or any unique prefix of at least 4 (as `history` shows).

Names: a user is `bob@x.example` or `mimi://x.example/u/bob`; a client is
`alice/laptop@x.example` or `mimi://x.example/d/alice/laptop`; a room is `lunch`
(on your own provider), `lunch@y.example` or `mimi://y.example/r/lunch`.

Examples:
  mimi client --home ~/.mimi/alice register alice/laptop@x.example \\
      --server https://x.example:8080 --ca pki/ca.pem --connect 127.0.0.1:8080
  mimi client --home ~/.mimi/alice create-room lunch
  mimi client --home ~/.mimi/alice add lunch bob@x.example
  mimi client --home ~/.mimi/alice send lunch 'Shall we meet at noon?'
  mimi client --home ~/.mimi/bob sync --wait 10
  mimi client --home ~/.mimi/bob --json history lunch@x.example
  mimi client --home ~/.mimi/bob consent grant alice@x.example";

/// Arguments of `mimi client`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ClientArgs {
    /// The client's home directory (database and session.toml).
    #[arg(long, value_name = "DIR", env = "MIMI_HOME", global = true)]
    home: Option<PathBuf>,
    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: ClientCommand,
}

/// Subcommands of `mimi client`.
#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Create the home, register a new client with its provider, upload KeyPackages.
    Register {
        /// The client: `user/device@domain` or `mimi://domain/d/user/device`.
        client: String,
        /// The provider's client API, `https://<domain>:<port>`.
        #[arg(long, value_name = "URL")]
        server: String,
        /// The CA certificate the server's certificate chains to.
        #[arg(long, value_name = "FILE")]
        ca: PathBuf,
        /// Connect to this address instead of resolving the server's host.
        #[arg(long, value_name = "ADDR")]
        connect: Option<SocketAddr>,
        /// The provider's registration token, if it requires one.
        #[arg(long, env = "MIMI_REGISTRATION_TOKEN")]
        token: Option<String>,
        /// KeyPackages to upload.
        #[arg(long, default_value_t = mimi_session::KEY_PACKAGE_STOCK)]
        key_packages: usize,
    },
    /// Create a room on your own provider (its hub), from a policy preset.
    CreateRoom {
        /// The room: a name, `name@your.domain` or a room URI.
        room: String,
        /// The preset: private-group, public-channel, cooperative, moderated, …
        #[arg(long, default_value = "private-group")]
        preset: String,
    },
    /// Add a user with all of their clients (KeyPackages claimed through the hub).
    Add {
        /// The room.
        room: String,
        /// The user.
        user: String,
        /// Their role (name or number); the room's member role by default.
        #[arg(long)]
        role: Option<String>,
    },
    /// Send a Markdown text message.
    Send {
        /// The room.
        room: String,
        /// The text.
        text: String,
    },
    /// Reply to a message.
    Reply {
        /// The room.
        room: String,
        /// The message ID replied to: a unique prefix (as `history` shows) or all 64 hex digits.
        message: String,
        /// The text.
        text: String,
    },
    /// React to a message.
    React {
        /// The room.
        room: String,
        /// The message ID reacted to: a unique prefix or all 64 hex digits.
        message: String,
        /// The reaction, e.g. 👍.
        reaction: String,
    },
    /// Replace one of your messages with a new text.
    Edit {
        /// The room.
        room: String,
        /// The message ID of its first version: a unique prefix or all 64 hex digits.
        message: String,
        /// The new text.
        text: String,
    },
    /// Delete a message.
    Delete {
        /// The room.
        room: String,
        /// The message ID: a unique prefix or all 64 hex digits.
        message: String,
    },
    /// Propose to leave a room; the next committer removes you.
    Leave {
        /// The room.
        room: String,
    },
    /// Remove a user and all their clients from a room.
    Remove {
        /// The room.
        room: String,
        /// The user.
        user: String,
    },
    /// Remove all of a user's clients, keeping them listed.
    Kick {
        /// The room.
        room: String,
        /// The user.
        user: String,
    },
    /// Ban a user (role "banned"; all their clients removed).
    Ban {
        /// The room.
        room: String,
        /// The user.
        user: String,
    },
    /// Lift a ban.
    Unban {
        /// The room.
        room: String,
        /// The user.
        user: String,
        /// Their new role; the room's member role by default.
        #[arg(long)]
        role: Option<String>,
    },
    /// Change a user's role.
    Role {
        /// The room.
        room: String,
        /// The user.
        user: String,
        /// The role, by name (member, admin, …) or number.
        role: String,
    },
    /// Update your own keys in a room: a commit with a fresh leaf (self-update).
    Update {
        /// The room.
        room: String,
    },
    /// Join a room with this new client of a listed user (external commit).
    Join {
        /// The room.
        room: String,
    },
    /// Fetch and process new events.
    Sync {
        /// Wait up to this many seconds for something to arrive.
        #[arg(long, value_name = "SECS")]
        wait: Option<u64>,
        /// Then commit proposals the hub queued (e.g. a member's leave).
        #[arg(long)]
        commit_pending: bool,
    },
    /// List your rooms.
    Rooms,
    /// List a room's participants, roles and clients.
    Members {
        /// The room.
        room: String,
    },
    /// Show a room's messages.
    History {
        /// The room.
        room: String,
        /// Only the last N messages.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// See and answer consent: who may fetch whose KeyPackages to add them to rooms.
    #[command(subcommand, after_help = consent::AFTER_HELP)]
    Consent(consent::ConsentCommand),
    /// Show this client's KeyPackages on its provider (what others can claim
    /// to add you), or upload more with `keys refill`.
    #[command(after_help = keys::AFTER_HELP)]
    Keys {
        #[command(subcommand)]
        command: Option<keys::KeysCommand>,
    },
}

/// A command's result: its JSON document and its text.
struct Output {
    json: Value,
    text: String,
}

/// Runs a `mimi client` subcommand.
pub fn run(args: ClientArgs) -> ExitCode {
    let json_out = args.json;
    let result = match &args.home {
        Some(home) => execute(home, args.command),
        None => Err(SessionError::BadInput(
            "no home directory: pass --home DIR or set MIMI_HOME".into(),
        )),
    };
    match result {
        Ok(out) => {
            if json_out {
                println!("{}", out.json);
            } else if !out.text.is_empty() {
                println!("{}", out.text);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mimi client: {e}");
            if json_out {
                println!("{}", json!({ "error": error_json(&e) }));
            }
            exit_code(&e).into()
        }
    }
}

/// The exit code of a session error.
pub fn exit_code(e: &SessionError) -> exit::Code {
    match e {
        SessionError::BadInput(_) => exit::CLIENT_BAD_INPUT,
        SessionError::Refused { .. } => exit::CLIENT_REFUSED,
        SessionError::Network(_) => exit::CLIENT_NETWORK,
        _ => exit::CLIENT_FAILURE,
    }
}

fn error_json(e: &SessionError) -> Value {
    let kind = match e {
        SessionError::BadInput(_) => "bad_input",
        SessionError::Refused { .. } => "refused",
        SessionError::Network(_) => "network",
        _ => "state",
    };
    json!({ "kind": kind, "code": e.refusal_code(), "message": e.to_string() })
}

/// The `{"error": …}` document for a command line the argument parser
/// refused: bad input (exit 2), with clap's first line as the message.
pub fn usage_error_json(e: &clap::Error) -> Value {
    let rendered = e.render().to_string();
    let first = rendered.lines().next().unwrap_or_default();
    let message = first.strip_prefix("error: ").unwrap_or(first);
    json!({ "error": { "kind": "bad_input", "code": null, "message": message } })
}

fn execute(home: &std::path::Path, command: ClientCommand) -> Result<Output, SessionError> {
    if let ClientCommand::Register {
        client,
        server,
        ca,
        connect,
        token,
        key_packages,
    } = command
    {
        let client = parse_client(&client)?;
        progress(&format!("registering {client} with {server}…"));
        let session = Session::register(
            home,
            RegisterOptions {
                client,
                server,
                ca,
                connect,
                token,
                key_packages,
            },
        )?;
        let left = session.key_packages_left()?;
        return Ok(Output {
            json: json!({ "client": session.client_id().as_str(), "home": home, "key_packages": left }),
            text: format!(
                "registered {} ({left} KeyPackages on the server); home {}",
                session.client_id(),
                home.display()
            ),
        });
    }
    let mut s = Session::open(home)?;
    let me = s.client_id().clone();
    Ok(match command {
        ClientCommand::Register { .. } => {
            return Err(SessionError::State(
                "register runs before a session exists".into(),
            ));
        }
        ClientCommand::CreateRoom { room, preset } => {
            let room = parse_room(&s, &room)?;
            let preset = Preset::from_name(&preset).ok_or_else(|| {
                SessionError::BadInput(format!(
                    "unknown preset {preset:?}; one of: {}",
                    Preset::ALL.map(Preset::name).join(", ")
                ))
            })?;
            s.create_room(&room, preset)?;
            Output {
                json: json!({ "room": room.as_str(), "preset": preset.name(), "epoch": 0 }),
                text: format!(
                    "created {room} ({}) on {}",
                    preset.name(),
                    room.hub_domain()
                ),
            }
        }
        ClientCommand::Add { room, user, role } => {
            let room = parse_room(&s, &room)?;
            let user = parse_user(&user)?;
            let role = role.map(|r| s.role_index(&room, &r)).transpose()?;
            let hub = room.hub_domain().to_owned();
            let done = s.add_user_reporting(&room, &user, role, || {
                progress(&format!("claiming {user}'s KeyPackages through {hub}…"));
            })?;
            committed(&done, &format!("added {user} to {room}"))
        }
        ClientCommand::Send { room, text } => {
            let room = parse_room(&s, &room)?;
            sent(s.send_text(&room, &text)?)
        }
        ClientCommand::Reply {
            room,
            message,
            text,
        } => {
            let room = parse_room(&s, &room)?;
            let message = s.message_id(&room, &message)?;
            sent(s.reply(&room, &message, &text)?)
        }
        ClientCommand::React {
            room,
            message,
            reaction,
        } => {
            let room = parse_room(&s, &room)?;
            let message = s.message_id(&room, &message)?;
            sent(s.react(&room, &message, &reaction)?)
        }
        ClientCommand::Edit {
            room,
            message,
            text,
        } => {
            let room = parse_room(&s, &room)?;
            let message = s.message_id(&room, &message)?;
            sent(s.edit(&room, &message, &text)?)
        }
        ClientCommand::Delete { room, message } => {
            let room = parse_room(&s, &room)?;
            let message = s.message_id(&room, &message)?;
            sent(s.delete(&room, &message)?)
        }
        ClientCommand::Leave { room } => {
            let room = parse_room(&s, &room)?;
            s.leave(&room)?;
            Output {
                json: json!({ "room": room.as_str(), "left": "proposed" }),
                text: format!("proposed to leave {room}; the next commit removes {me}"),
            }
        }
        ClientCommand::Remove { room, user } => {
            let (room, user) = (parse_room(&s, &room)?, parse_user(&user)?);
            committed(
                &s.remove_user(&room, &user)?,
                &format!("removed {user} from {room}"),
            )
        }
        ClientCommand::Kick { room, user } => {
            let (room, user) = (parse_room(&s, &room)?, parse_user(&user)?);
            committed(
                &s.kick(&room, &user)?,
                &format!("kicked {user} from {room}"),
            )
        }
        ClientCommand::Ban { room, user } => {
            let (room, user) = (parse_room(&s, &room)?, parse_user(&user)?);
            committed(&s.ban(&room, &user)?, &format!("banned {user} from {room}"))
        }
        ClientCommand::Unban { room, user, role } => {
            let (room, user) = (parse_room(&s, &room)?, parse_user(&user)?);
            let role = role.map(|r| s.role_index(&room, &r)).transpose()?;
            committed(
                &s.unban(&room, &user, role)?,
                &format!("unbanned {user} in {room}"),
            )
        }
        ClientCommand::Role { room, user, role } => {
            let (room, user) = (parse_room(&s, &room)?, parse_user(&user)?);
            let role = s.role_index(&room, &role)?;
            committed(
                &s.change_role(&room, &user, role)?,
                &format!("{user} has role {role} in {room}"),
            )
        }
        ClientCommand::Update { room } => {
            let room = parse_room(&s, &room)?;
            committed(
                &s.self_update(&room)?,
                &format!("updated {me}'s keys in {room}"),
            )
        }
        ClientCommand::Join { room } => {
            let room = parse_room(&s, &room)?;
            progress(&format!(
                "asking {} for the room's GroupInfo…",
                room.hub_domain()
            ));
            committed(&s.join(&room)?, &format!("{me} joined {room}"))
        }
        ClientCommand::Sync {
            wait,
            commit_pending,
        } => sync(&mut s, wait, commit_pending)?,
        ClientCommand::Rooms => {
            let rooms = s.rooms();
            let text = rooms
                .iter()
                .map(|r| {
                    format!(
                        "{}  {}  epoch {}  {} participants  {} messages",
                        r.room, r.status, r.epoch, r.participants, r.messages
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Output {
                json: json!({ "rooms": rooms }),
                text: if text.is_empty() {
                    "no rooms".into()
                } else {
                    text
                },
            }
        }
        ClientCommand::Members { room } => {
            let room = parse_room(&s, &room)?;
            let members = s.members(&room)?;
            let text = members
                .iter()
                .map(|m| format!("{}  {}  {}", m.user, m.role_name, m.clients.join(" ")))
                .collect::<Vec<_>>()
                .join("\n");
            Output {
                json: json!({ "room": room.as_str(), "members": members }),
                text,
            }
        }
        ClientCommand::Consent(command) => consent::run(&s, command)?,
        ClientCommand::Keys { command } => keys::run(&mut s, command)?,
        ClientCommand::History { room, limit } => {
            let room = parse_room(&s, &room)?;
            let mut items = s.history(&room)?;
            if let Some(n) = limit {
                items.drain(..items.len().saturating_sub(n));
            }
            let text = items
                .iter()
                .map(|m| {
                    let target = m
                        .replaces
                        .or(m.in_reply_to)
                        .map_or(String::new(), |t| format!(" → {}", short(&t)));
                    format!(
                        "{}  {}  {}{}  {}",
                        short(&m.message_id),
                        m.sender,
                        m.kind,
                        target,
                        m.text.as_deref().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Output {
                json: json!({ "room": room.as_str(), "messages": items }),
                text,
            }
        }
    })
}

fn sync(s: &mut Session, wait: Option<u64>, commit_pending: bool) -> Result<Output, SessionError> {
    let report = s.sync(wait.map(Duration::from_secs))?;
    let mut events: Vec<EventView> = report.events.iter().map(EventView::from).collect();
    let mut commits = Vec::new();
    if commit_pending {
        let rooms: Vec<RoomId> = s
            .client()
            .rooms()
            .filter(|r| r.status() == mimi_client::RoomStatus::Active)
            .map(|r| r.id().clone())
            .collect();
        for room in rooms {
            if let Some(done) = s.commit_pending(&room)? {
                commits.push(done);
            }
        }
        events.extend(s.sync(None)?.events.iter().map(EventView::from));
    }
    let text = events
        .iter()
        .map(event_line)
        .chain(commits.iter().map(|c| {
            format!(
                "committed queued proposals in {}: epoch {}",
                c.room, c.epoch
            )
        }))
        .chain(
            report
                .skipped
                .iter()
                .map(|(c, why)| format!("skipped event {c}: {why}")),
        )
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Output {
        json: json!({
            "fetched": report.fetched,
            "cursor": s.client().cursor(),
            "events": events,
            "commits": commits,
            "skipped": report.skipped.iter().map(|(c, why)| json!({"cursor": c, "error": why})).collect::<Vec<_>>(),
            "key_packages_uploaded": report.refilled,
        }),
        text: if text.is_empty() {
            "nothing new".into()
        } else {
            text
        },
    })
}

fn event_line(e: &EventView) -> String {
    match e {
        EventView::Joined { room, epoch } => format!("joined {room} at epoch {epoch}"),
        EventView::Committed {
            room,
            epoch,
            committer,
            ..
        } => format!(
            "{room}: commit by {} → epoch {epoch}",
            committer.as_deref().unwrap_or("the hub")
        ),
        EventView::Removed { room, epoch } => format!("removed from {room} at epoch {epoch}"),
        EventView::ProposalsQueued { room, count } => {
            format!("{room}: {count} proposal(s) queued for the next commit")
        }
        EventView::Message {
            room,
            sender,
            message_id,
            kind,
            text,
        } => format!(
            "{room}: {sender} [{kind} {}] {}",
            short(message_id),
            text.as_deref().unwrap_or("")
        ),
        EventView::Other { room, detail } => {
            format!("{}: {detail}", room.as_deref().unwrap_or("-"))
        }
    }
}

fn committed(done: &mimi_session::Committed, what: &str) -> Output {
    Output {
        json: json!(done),
        text: format!("{what}; epoch {}", done.epoch),
    }
}

fn sent(sent: mimi_session::Sent) -> Output {
    Output {
        text: format!("sent {} to {}", sent.message_id, sent.room),
        json: json!(sent),
    }
}

fn short(id: &MessageId) -> String {
    id.to_hex().chars().take(12).collect()
}

fn progress(what: &str) {
    eprintln!("… {what}");
}

/// `bob@x.example` or `mimi://x.example/u/bob`.
pub fn parse_user(text: &str) -> Result<UserId, SessionError> {
    let uri = match text.split_once('@') {
        Some((name, domain)) if !text.starts_with("mimi://") => format!("mimi://{domain}/u/{name}"),
        _ => text.to_owned(),
    };
    UserId::parse(&uri).map_err(|e| SessionError::BadInput(format!("user {text:?}: {e}")))
}

/// `alice/laptop@x.example` or `mimi://x.example/d/alice/laptop`.
pub fn parse_client(text: &str) -> Result<ClientId, SessionError> {
    let uri = match text.split_once('@') {
        Some((path, domain)) if !text.starts_with("mimi://") => format!("mimi://{domain}/d/{path}"),
        _ => text.to_owned(),
    };
    let id = ClientId::parse(&uri)
        .map_err(|e| SessionError::BadInput(format!("client {text:?}: {e}")))?;
    if id.user().is_none() {
        // `bob@b.example` parses as the one-segment client `mimi://b.example/d/bob`:
        // what it lacks is the device, not the user.
        let example = match text.split_once('@') {
            Some((name, domain)) if !text.starts_with("mimi://") => {
                format!("{name}/laptop@{domain}")
            }
            _ => format!("{text}/laptop"),
        };
        return Err(SessionError::BadInput(format!(
            "client {text:?} names no device: use user/device@domain, e.g. {example}"
        )));
    }
    Ok(id)
}

/// `lunch` (our provider), `lunch@y.example` or `mimi://y.example/r/lunch`.
fn parse_room(s: &Session, text: &str) -> Result<RoomId, SessionError> {
    let uri = if text.starts_with("mimi://") {
        text.to_owned()
    } else {
        match text.split_once('@') {
            Some((name, domain)) => format!("mimi://{domain}/r/{name}"),
            None => format!("mimi://{}/r/{text}", s.domain()),
        }
    };
    RoomId::parse(&uri).map_err(|e| SessionError::BadInput(format!("room {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_expand_to_uris() {
        assert_eq!(
            parse_user("bob@x.example").unwrap().as_str(),
            "mimi://x.example/u/bob"
        );
        assert_eq!(
            parse_user("mimi://x.example/u/bob").unwrap().as_str(),
            "mimi://x.example/u/bob"
        );
        assert_eq!(
            parse_client("alice/laptop@x.example").unwrap().as_str(),
            "mimi://x.example/d/alice/laptop"
        );
        assert!(matches!(parse_user("bob"), Err(SessionError::BadInput(_))));
        assert!(matches!(
            parse_client("laptop@x.example"),
            Err(SessionError::BadInput(_))
        ));
    }

    #[test]
    fn error_families_have_their_exit_codes() {
        assert_eq!(
            exit_code(&SessionError::BadInput(String::new())),
            exit::CLIENT_BAD_INPUT
        );
        assert_eq!(
            exit_code(&SessionError::refused("policy", "")),
            exit::CLIENT_REFUSED
        );
        assert_eq!(
            exit_code(&SessionError::Network(String::new())),
            exit::CLIENT_NETWORK
        );
        assert_eq!(
            exit_code(&SessionError::State(String::new())),
            exit::CLIENT_FAILURE
        );
    }
}
