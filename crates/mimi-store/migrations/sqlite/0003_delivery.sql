-- Outbox (hub fan-out), inbox dedup and client mailboxes (SQLite).

-- One row per (room, destination): the queue's lease and retry state. Rows are never deleted,
-- so an enqueue can never race a cleanup; `pending` counts entries in `outbox`.
CREATE TABLE outbox_queues (
    room_id         TEXT NOT NULL,
    destination     TEXT NOT NULL,
    pending         INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    last_error      TEXT,
    lease_token     INTEGER,
    lease_until     INTEGER,
    PRIMARY KEY (room_id, destination)
);
CREATE INDEX outbox_queues_ready ON outbox_queues (next_attempt_at) WHERE pending > 0;

CREATE TABLE outbox (
    room_id     TEXT NOT NULL,
    destination TEXT NOT NULL,
    event_seq   INTEGER NOT NULL,
    part        INTEGER NOT NULL,
    payload     BLOB NOT NULL,
    enqueued_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, destination, event_seq, part)
);

CREATE TABLE inbox_seen (
    hub       TEXT NOT NULL,
    body_hash BLOB NOT NULL, -- SHA-256 of the notify body
    seen_at   INTEGER NOT NULL,
    PRIMARY KEY (hub, body_hash)
);
CREATE INDEX inbox_seen_age ON inbox_seen (seen_at);

CREATE TABLE mailbox_cursors (
    client_id   TEXT PRIMARY KEY NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    last_cursor INTEGER NOT NULL
);

CREATE TABLE mailbox (
    client_id   TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    cursor      INTEGER NOT NULL,
    room_id     TEXT,
    payload     BLOB NOT NULL,
    enqueued_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, cursor)
);
