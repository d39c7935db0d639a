//! The protocol's example flow on the demo federation, through real client
//! sessions (one home directory each), with a transcript and the checks that
//! decide the demo's exit status.
//!
//! Every client's view is checked against a ledger the demo keeps: which
//! clients were members when each message was sent. A member must have
//! decrypted it, anyone else (removed before it, or joined after it) must
//! not have; and the remaining members must agree on epoch, epoch
//! authenticator, participant list and member clients.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mimi_client::RoomStatus;
use mimi_content::MessageId;
use mimi_policy::Preset;
use mimi_proto::{ClientId, RoomId, UserId};
use mimi_session::{Committed, RegisterOptions, Session, SessionError};

use super::federation::Federation;

/// How long any one wait for delivery may take.
const PATIENCE: Duration = Duration::from_secs(20);
/// One long-poll.
const POLL: Duration = Duration::from_secs(2);

/// The clients of the demo: (name, client URI).
pub const CLIENTS: [(&str, &str); 7] = [
    ("alice", "mimi://x.example/d/alice/laptop"),
    ("bob", "mimi://x.example/d/bob/phone"),
    ("charlie", "mimi://y.example/d/charlie/laptop"),
    ("diana", "mimi://z.example/d/diana/phone"),
    ("evelyn", "mimi://z.example/d/evelyn/tablet"),
    ("diana-laptop", "mimi://z.example/d/diana/laptop"),
    ("alice-phone", "mimi://x.example/d/alice/phone"),
];

/// The room, hosted on y.example.
pub const ROOM: &str = "mimi://y.example/r/clubhouse";
/// The hub's domain.
const HUB: &str = "y.example";

/// A message the demo sent, and who should have it.
struct Ledger {
    id: MessageId,
    by: &'static str,
    what: String,
    expected: BTreeSet<&'static str>,
}

/// The running scenario.
pub struct Scenario<'f> {
    fed: &'f Federation,
    homes: PathBuf,
    room: RoomId,
    sessions: BTreeMap<&'static str, Session>,
    /// Clients in the room now.
    members: BTreeSet<&'static str>,
    /// Clients that were in the room and are not any more.
    removed: BTreeSet<&'static str>,
    sent: Vec<Ledger>,
    step: usize,
}

/// How the scenario ended: checks passed and failed.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Checks that held.
    pub passed: Vec<String>,
    /// Checks that did not.
    pub failed: Vec<String>,
}

impl<'f> Scenario<'f> {
    /// A scenario whose client homes go under `homes`.
    ///
    /// # Errors
    /// If the room id does not parse (it does).
    pub fn new(fed: &'f Federation, homes: &Path) -> Result<Self, String> {
        Ok(Self {
            fed,
            homes: homes.to_path_buf(),
            room: RoomId::parse(ROOM).map_err(|e| e.to_string())?,
            sessions: BTreeMap::new(),
            members: BTreeSet::new(),
            removed: BTreeSet::new(),
            sent: Vec::new(),
            step: 0,
        })
    }

    /// The home directory of a demo client.
    pub fn home(&self, name: &str) -> PathBuf {
        self.homes.join(name)
    }

    /// Runs the flow; an `Err` is a step that failed outright.
    ///
    /// # Errors
    /// A sentence naming the step.
    pub fn run(&mut self) -> Result<Verdict, String> {
        let mut verdict = Verdict::default();
        for name in ["alice", "bob", "charlie", "diana", "evelyn"] {
            self.register(name)?;
        }
        println!(
            "registered alice@x, bob@x (x.example), charlie@y (y.example), diana@z, evelyn@z (z.example)\n"
        );

        // Create the room on the hub.
        let room = self.room.clone();
        self.session("charlie")?
            .create_room(&room, Preset::PrivateGroup)
            .map_err(|e| format!("charlie creates the room: {e}"))?;
        self.members.insert("charlie");
        self.line(
            "charlie@y",
            &format!("creates {room} (private-group; charlie is admin)"),
            Some(0),
        );
        println!("      charlie@y {}", route_to_hub(HUB));

        // Add everyone across providers.
        for name in ["alice", "bob", "diana", "evelyn"] {
            let user = user_of(name)?;
            let route = self.fanout_route("charlie");
            let done = self.commit("charlie", |s, room| s.add_user(room, &user, None))?;
            self.members.insert(name);
            let domain = domain_of(name)?;
            self.line(
                "charlie@y",
                &format!("adds {}", label(name)),
                Some(done.epoch),
            );
            println!("      key material: charlie@y → y.example (hub) → {domain}");
            println!("      commit: {route}; Welcome → {domain}");
            self.settle(done.epoch)?;
        }

        // Messages, a reply and a reaction.
        let hello = self.send("alice", "text", |s, room| {
            s.send_text(room, "Hi all! Lunch on Friday?")
        })?;
        self.send("diana", "reply", |s, room| {
            s.reply(room, &hello, "Friday works for me.")
        })?;
        self.send("bob", "reaction", |s, room| s.react(room, &hello, "👍"))?;
        self.send("evelyn", "text", |s, room| {
            s.send_text(room, "Count me in.")
        })?;

        // A kick: Bob's clients go, Bob stays listed.
        let bob = user_of("bob")?;
        let route = self.fanout_route("charlie");
        let done = self.commit("charlie", |s, room| s.kick(room, &bob))?;
        self.members.remove("bob");
        self.removed.insert("bob");
        self.line(
            "charlie@y",
            "kicks bob@x (his clients leave; he stays listed)",
            Some(done.epoch),
        );
        println!("      commit: {route}");
        self.settle(done.epoch)?;
        self.wait_removed("bob")?;

        // A ban, and the banned user's new device refused at the hub.
        let alice = user_of("alice")?;
        let route = self.fanout_route("charlie");
        let done = self.commit("charlie", |s, room| s.ban(room, &alice))?;
        self.members.remove("alice");
        self.removed.insert("alice");
        self.line(
            "charlie@y",
            "bans alice@x (role banned, her laptop removed)",
            Some(done.epoch),
        );
        println!("      commit: {route}");
        self.settle(done.epoch)?;
        self.wait_removed("alice")?;
        self.register("alice-phone")?;
        match self.session("alice-phone")?.join(&room) {
            Err(SessionError::Refused { code, .. }) => {
                self.line(
                    "alice@x (new phone)",
                    &format!("asks to join by external commit: refused by the hub ({code})"),
                    None,
                );
                println!("      groupInfo: alice@x → x.example → y.example (hub) → {code}");
                verdict
                    .passed
                    .push(format!("banned alice's new device was refused ({code})"));
            }
            Err(e) => verdict
                .failed
                .push(format!("banned alice's new device failed otherwise: {e}")),
            Ok(done) => verdict.failed.push(format!(
                "banned alice's new device joined (epoch {})",
                done.epoch
            )),
        }

        self.send("charlie", "text", |s, room| {
            s.send_text(room, "Alice and Bob are out; the rest of us are still on.")
        })?;

        // A leave: Evelyn proposes, the hub queues, Charlie commits.
        self.session("evelyn")?
            .leave(&room)
            .map_err(|e| format!("evelyn leaves: {e}"))?;
        self.line("evelyn@z", "leaves (proposal queued at the hub)", None);
        println!("      proposal: {}", self.fanout_route("evelyn"));
        self.wait_for("charlie", "evelyn's leave proposal", |s, room| {
            s.client()
                .room(room)
                .is_ok_and(|r| r.group().pending_proposals().next().is_some())
        })?;
        let route = self.fanout_route("charlie");
        let done = self
            .commit_pending("charlie")
            .map_err(|e| format!("charlie commits evelyn's leave: {e}"))?;
        self.members.remove("evelyn");
        self.removed.insert("evelyn");
        self.line("charlie@y", "commits evelyn's leave", Some(done.epoch));
        println!("      commit: {route}");
        self.settle(done.epoch)?;
        self.wait_removed("evelyn")?;

        // A new device of Diana joins by external commit.
        self.register("diana-laptop")?;
        let done = self
            .session("diana-laptop")?
            .join(&room)
            .map_err(|e| format!("diana's laptop joins: {e}"))?;
        self.members.insert("diana-laptop");
        self.line(
            "diana@z (new laptop)",
            "joins by external commit",
            Some(done.epoch),
        );
        println!(
            "      groupInfo + commit: diana@z → z.example → y.example (hub) → fan-out to {}",
            self.fanout_domains().join(", ")
        );
        self.settle(done.epoch)?;

        // One more message.
        self.send("diana-laptop", "text", |s, room| {
            s.send_text(room, "Hello from my laptop!")
        })?;

        // Let removed clients fetch whatever their providers still hold, so
        // the check below would see anything they could decrypt.
        for name in self.removed.clone() {
            self.session(name)?
                .sync(None)
                .map_err(|e| format!("{name} syncs: {e}"))?;
        }
        self.check(&mut verdict)?;
        Ok(verdict)
    }

    fn register(&mut self, name: &'static str) -> Result<(), String> {
        let client = client_of(name)?;
        let domain = client
            .user()
            .map(|u| u.domain().to_owned())
            .unwrap_or_default();
        let provider = self
            .fed
            .provider(&domain)
            .ok_or_else(|| format!("no provider {domain}"))?;
        let session = Session::register(
            &self.home(name),
            RegisterOptions {
                client,
                server: provider.url(),
                ca: self.fed.ca.clone(),
                connect: Some(provider.client),
                token: None,
                key_packages: 4,
            },
        )
        .map_err(|e| format!("registering {name}: {e}"))?;
        self.sessions.insert(name, session);
        Ok(())
    }

    fn session(&mut self, name: &str) -> Result<&mut Session, String> {
        self.sessions
            .get_mut(name)
            .ok_or_else(|| format!("{name} is not registered"))
    }

    /// Runs a commit operation as `name`.
    fn commit(
        &mut self,
        name: &'static str,
        op: impl FnOnce(&mut Session, &RoomId) -> Result<Committed, SessionError>,
    ) -> Result<Committed, String> {
        let room = self.room.clone();
        op(self.session(name)?, &room).map_err(|e| format!("{name}'s commit: {e}"))
    }

    fn commit_pending(&mut self, name: &'static str) -> Result<Committed, String> {
        let room = self.room.clone();
        self.session(name)?
            .commit_pending(&room)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "no proposals were queued".to_owned())
    }

    /// Sends a message as `name` and waits until every other member has it.
    fn send(
        &mut self,
        name: &'static str,
        kind: &str,
        op: impl FnOnce(&mut Session, &RoomId) -> Result<mimi_session::Sent, SessionError>,
    ) -> Result<MessageId, String> {
        let room = self.room.clone();
        let sent = op(self.session(name)?, &room).map_err(|e| format!("{name} sends: {e}"))?;
        let expected: BTreeSet<&'static str> = self
            .members
            .iter()
            .copied()
            .filter(|m| *m != name)
            .collect();
        self.line(
            &label(name),
            &format!("sends a {kind} {}", &sent.message_id.to_hex()[..12]),
            None,
        );
        println!("      {}", self.fanout_route(name));
        for member in &expected {
            let id = sent.message_id;
            self.wait_for(member, "the message", move |s, room| {
                s.client()
                    .room(room)
                    .is_ok_and(|r| r.message(&id).is_some())
            })?;
        }
        println!(
            "      decrypted by {}",
            expected
                .iter()
                .map(|m| label(m))
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.sent.push(Ledger {
            id: sent.message_id,
            by: name,
            what: format!("{kind} by {}", label(name)),
            expected,
        });
        Ok(sent.message_id)
    }

    /// Waits until every member is at `epoch`.
    fn settle(&mut self, epoch: u64) -> Result<(), String> {
        for member in self.members.clone() {
            self.wait_for(member, &format!("epoch {epoch}"), move |s, room| {
                s.client().room(room).is_ok_and(|r| r.epoch() >= epoch)
            })?;
        }
        Ok(())
    }

    fn wait_removed(&mut self, name: &'static str) -> Result<(), String> {
        self.wait_for(name, "its removal", |s, room| {
            s.client()
                .room(room)
                .is_ok_and(|r| r.status() == RoomStatus::Removed)
        })?;
        println!("      {} learns it was removed", label(name));
        Ok(())
    }

    /// Syncs `name` (long-polling) until `done` holds.
    fn wait_for(
        &mut self,
        name: &str,
        what: &str,
        done: impl Fn(&Session, &RoomId) -> bool,
    ) -> Result<(), String> {
        let room = self.room.clone();
        let deadline = Instant::now() + PATIENCE;
        let session = self.session(name)?;
        loop {
            if done(session, &room) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("{name} did not receive {what} within {PATIENCE:?}"));
            }
            let report = session
                .sync(Some(POLL))
                .map_err(|e| format!("{name} syncs: {e}"))?;
            for (cursor, why) in report.skipped {
                eprintln!("      ({name} skipped event {cursor}: {why})");
            }
        }
    }

    /// The final checks.
    fn check(&mut self, verdict: &mut Verdict) -> Result<(), String> {
        let room = self.room.clone();
        // Decryption: members have every message sent while they were in,
        // nobody else has any.
        for entry in &self.sent {
            for (name, session) in &self.sessions {
                if *name == entry.by {
                    continue;
                }
                let has = session
                    .client()
                    .room(&room)
                    .is_ok_and(|r| r.message(&entry.id).is_some());
                let should = entry.expected.contains(name);
                if has != should {
                    verdict.failed.push(format!(
                        "{} {} the {}",
                        label(name),
                        if has { "decrypted" } else { "is missing" },
                        entry.what
                    ));
                }
            }
        }
        let deliveries: usize = self.sent.iter().map(|e| e.expected.len()).sum();
        verdict.passed.push(format!(
            "{} messages, {deliveries} deliveries: each decrypted by exactly the clients in the room when it was sent",
            self.sent.len()
        ));

        // Removed clients know it.
        for name in &self.removed {
            let status = self.sessions[name].client().room(&room).map(|r| r.status());
            if status.as_ref().is_ok_and(|s| *s == RoomStatus::Removed) {
                verdict
                    .passed
                    .push(format!("{} holds the room as removed", label(name)));
            } else {
                verdict.failed.push(format!(
                    "{} does not know it was removed ({status:?})",
                    label(name)
                ));
            }
        }

        // Agreement.
        let mut views = Vec::new();
        for name in &self.members {
            let r = self.sessions[name]
                .client()
                .room(&room)
                .map_err(|e| format!("{name}: {e}"))?;
            views.push((
                *name,
                r.epoch(),
                r.epoch_authenticator().to_vec(),
                r.participants(),
                r.members(),
            ));
        }
        let first = views.first().ok_or("no members left")?;
        let agree = views
            .iter()
            .all(|v| v.1 == first.1 && v.2 == first.2 && v.3 == first.3 && v.4 == first.4);
        let names: Vec<String> = self.members.iter().map(|m| label(m)).collect();
        if agree {
            verdict.passed.push(format!(
                "{} agree on epoch {}, epoch authenticator {}…, {} participants and {} member clients",
                names.join(", "),
                first.1,
                hex_prefix(&first.2),
                first.3.len(),
                first.4.len()
            ));
            let expected: BTreeSet<String> = self
                .members
                .iter()
                .filter_map(|m| client_of(m).ok().map(|c| c.as_str().to_owned()))
                .collect();
            let actual: BTreeSet<String> = first.4.iter().map(|c| c.as_str().to_owned()).collect();
            if expected == actual {
                verdict
                    .passed
                    .push("the MLS group holds exactly the remaining clients".into());
            } else {
                verdict
                    .failed
                    .push(format!("the group holds {actual:?}, expected {expected:?}"));
            }
        } else {
            for v in &views {
                verdict.failed.push(format!(
                    "{} is at epoch {} ({}…) with {} participants",
                    label(v.0),
                    v.1,
                    hex_prefix(&v.2),
                    v.3.len()
                ));
            }
        }
        println!("\nroom state ({}):", label(first.0));
        for (user, role) in &first.3 {
            let role_name = self.sessions[first.0]
                .client()
                .room(&room)
                .ok()
                .and_then(|r| {
                    r.state()
                        .roles()
                        .role(*role)
                        .map(|x| x.role_name.as_str().to_owned())
                })
                .unwrap_or_else(|| role.to_string());
            println!("      {}  {role_name}", user.as_str());
        }
        Ok(())
    }

    fn line(&mut self, who: &str, what: &str, epoch: Option<u64>) {
        self.step += 1;
        let head = format!("{:>2}. {who} {what}", self.step);
        match epoch {
            Some(e) => println!("{head:<74} epoch {e}"),
            None => println!("{head}"),
        }
    }

    /// The domains the hub fans out to: every provider with a member
    /// client, the hub's own clients delivered locally.
    fn fanout_domains(&self) -> Vec<String> {
        let domains: BTreeSet<String> = self
            .members
            .iter()
            .filter_map(|m| domain_of(m).ok())
            .collect();
        domains
            .into_iter()
            .map(|d| if d == HUB { format!("{d} (local)") } else { d })
            .collect()
    }

    /// `alice@x → x.example → y.example (hub) → fan-out to …`.
    fn fanout_route(&self, from: &str) -> String {
        let domain = domain_of(from).unwrap_or_default();
        format!(
            "{} {} → fan-out to {}",
            label(from),
            route_to_hub(&domain),
            self.fanout_domains().join(", ")
        )
    }
}

/// `x.example → y.example (hub)`, or just the hub for its own clients.
fn route_to_hub(domain: &str) -> String {
    if domain == HUB {
        format!("→ {HUB} (hub)")
    } else {
        format!("→ {domain} → {HUB} (hub)")
    }
}

fn client_of(name: &str) -> Result<ClientId, String> {
    let uri = CLIENTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, u)| *u)
        .ok_or_else(|| format!("no demo client {name}"))?;
    ClientId::parse(uri).map_err(|e| e.to_string())
}

fn user_of(name: &str) -> Result<UserId, String> {
    client_of(name)?
        .user()
        .ok_or_else(|| format!("{name} has no user"))
}

fn domain_of(name: &str) -> Result<String, String> {
    Ok(user_of(name)?.domain().to_owned())
}

/// `alice@x`, `diana@z (laptop)`.
fn label(name: &str) -> String {
    let (user, device) = name.split_once('-').unwrap_or((name, ""));
    let short = domain_of(name)
        .ok()
        .and_then(|d| d.split('.').next().map(str::to_owned))
        .unwrap_or_default();
    if device.is_empty() {
        format!("{user}@{short}")
    } else {
        format!("{user}@{short} ({device})")
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(6).map(|b| format!("{b:02x}")).collect()
}
