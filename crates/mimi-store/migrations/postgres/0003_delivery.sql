-- Outbox (hub fan-out), inbox dedup and client mailboxes (PostgreSQL).

-- One row per (room, destination): the queue's lease and retry state. Rows are never deleted,
-- so an enqueue can never race a cleanup; `pending` counts entries in `outbox`.
CREATE TABLE outbox_queues (
    room_id         TEXT NOT NULL,
    destination     TEXT NOT NULL,
    pending         BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    last_error      TEXT,
    lease_token     BIGINT,
    lease_until     BIGINT,
    PRIMARY KEY (room_id, destination)
);
CREATE INDEX outbox_queues_ready ON outbox_queues (next_attempt_at) WHERE pending > 0;

CREATE TABLE outbox (
    room_id     TEXT NOT NULL,
    destination TEXT NOT NULL,
    event_seq   BIGINT NOT NULL,
    part        BIGINT NOT NULL,
    payload     BYTEA NOT NULL,
    enqueued_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, destination, event_seq, part)
);

CREATE TABLE inbox_seen (
    hub       TEXT NOT NULL,
    body_hash BYTEA NOT NULL, -- SHA-256 of the notify body
    seen_at   BIGINT NOT NULL,
    PRIMARY KEY (hub, body_hash)
);
CREATE INDEX inbox_seen_age ON inbox_seen (seen_at);

CREATE TABLE mailbox_cursors (
    client_id   TEXT PRIMARY KEY NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    last_cursor BIGINT NOT NULL
);

CREATE TABLE mailbox (
    client_id   TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    cursor      BIGINT NOT NULL,
    room_id     TEXT,
    payload     BYTEA NOT NULL,
    enqueued_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, cursor)
);
