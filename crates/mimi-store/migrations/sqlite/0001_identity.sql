-- Users, clients, KeyPackages and consent (SQLite).
-- Times are milliseconds since the UNIX epoch unless a column says seconds.

CREATE TABLE users (
    user_id    TEXT PRIMARY KEY NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE clients (
    client_id     TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    credential    BLOB NOT NULL,
    signature_key BLOB NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL
);
CREATE INDEX clients_by_user ON clients (user_id);

-- A reserved KeyPackage is kept (reserved_at set) until it expires: the KeyPackageRef still
-- routes the Welcome to its client.
CREATE TABLE key_packages (
    kp_ref       BLOB PRIMARY KEY NOT NULL,
    client_id    TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    cipher_suite INTEGER NOT NULL,
    not_after    INTEGER NOT NULL, -- seconds (MLS Lifetime)
    key_package  BLOB NOT NULL,
    published_at INTEGER NOT NULL,
    reserved_by  TEXT,
    reserved_at  INTEGER
);
CREATE INDEX key_packages_available ON key_packages (client_id, published_at)
    WHERE reserved_at IS NULL;
CREATE INDEX key_packages_expiry ON key_packages (not_after);

-- room_id '' means "any room": a NULL would not take part in the primary key.
CREATE TABLE consent (
    requester  TEXT NOT NULL,
    target     TEXT NOT NULL,
    room_id    TEXT NOT NULL,
    state      INTEGER NOT NULL, -- 1 requested, 2 granted, 3 revoked
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (requester, target, room_id)
);
