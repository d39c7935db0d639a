-- Hub rooms: current version, per-epoch MLS state, proposal queue, KeyPackageRef routes and
-- the room event log (PostgreSQL).

CREATE TABLE rooms (
    room_id    TEXT PRIMARY KEY NOT NULL,
    hub        TEXT NOT NULL,
    epoch      BIGINT NOT NULL,
    revision   BIGINT NOT NULL,
    last_seq   BIGINT NOT NULL, -- last room event log sequence number
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE room_epochs (
    room_id    TEXT NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
    epoch      BIGINT NOT NULL,
    mls_state  BYTEA NOT NULL,
    group_info BYTEA NOT NULL,
    room_state BYTEA NOT NULL,
    PRIMARY KEY (room_id, epoch)
);

CREATE TABLE room_proposals (
    room_id      TEXT NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
    epoch        BIGINT NOT NULL,
    position     BIGINT NOT NULL,
    proposal_ref BYTEA NOT NULL,
    message      BYTEA NOT NULL,
    sender       TEXT NOT NULL,
    accepted_at  BIGINT NOT NULL,
    PRIMARY KEY (room_id, epoch, position),
    UNIQUE (room_id, epoch, proposal_ref)
);

CREATE TABLE room_kp_routes (
    room_id   TEXT NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
    kp_ref    BYTEA NOT NULL,
    provider  TEXT NOT NULL,
    not_after BIGINT NOT NULL, -- seconds
    PRIMARY KEY (room_id, kp_ref)
);

CREATE TABLE room_events (
    room_id     TEXT NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    epoch       BIGINT NOT NULL,
    kind        BIGINT NOT NULL, -- 1 application, 2 commit, 3 proposal
    accepted_at BIGINT NOT NULL,
    payload     BYTEA NOT NULL,
    PRIMARY KEY (room_id, seq)
);
