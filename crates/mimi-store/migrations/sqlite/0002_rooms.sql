-- Hub rooms: current version, per-epoch MLS state, proposal queue, KeyPackageRef routes and
-- the room event log (SQLite).

CREATE TABLE rooms (
    room_id    TEXT PRIMARY KEY NOT NULL,
    hub        TEXT NOT NULL,
    epoch      INTEGER NOT NULL,
    revision   INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL, -- last room event log sequence number
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE room_epochs (
    room_id    TEXT NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
    epoch      INTEGER NOT NULL,
    mls_state  BLOB NOT NULL,
    group_info BLOB NOT NULL,
    room_state BLOB NOT NULL,
    PRIMARY KEY (room_id, epoch)
);

CREATE TABLE room_proposals (
    room_id      TEXT NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
    epoch        INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    proposal_ref BLOB NOT NULL,
    message      BLOB NOT NULL,
    sender       TEXT NOT NULL,
    accepted_at  INTEGER NOT NULL,
    PRIMARY KEY (room_id, epoch, position),
    UNIQUE (room_id, epoch, proposal_ref)
);

CREATE TABLE room_kp_routes (
    room_id   TEXT NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
    kp_ref    BLOB NOT NULL,
    provider  TEXT NOT NULL,
    not_after INTEGER NOT NULL, -- seconds
    PRIMARY KEY (room_id, kp_ref)
);

CREATE TABLE room_events (
    room_id     TEXT NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    epoch       INTEGER NOT NULL,
    kind        INTEGER NOT NULL, -- 1 application, 2 commit, 3 proposal
    accepted_at INTEGER NOT NULL,
    payload     BLOB NOT NULL,
    PRIMARY KEY (room_id, seq)
);
