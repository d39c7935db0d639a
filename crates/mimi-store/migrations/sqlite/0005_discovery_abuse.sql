-- User profiles for identifier queries, and abuse reports received as a hub (SQLite).
-- Times are milliseconds since the UNIX epoch.

-- One row per profile field. Only rows with searchable = 1 take part in an identifier
-- query (draft §5.8); the others are still the user's profile for local use.
CREATE TABLE profile_fields (
    user_id    TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    source     INTEGER NOT NULL, -- FieldSource: 7 oidcStdClaim, 8 vcardField
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    searchable INTEGER NOT NULL, -- 0 or 1
    PRIMARY KEY (user_id, source, name, value)
);
CREATE INDEX profile_fields_lookup ON profile_fields (source, name, value) WHERE searchable = 1;

-- A verified abuse report (draft §5.9): the whole body as received, plus what an
-- operator sorts and filters by.
CREATE TABLE abuse_reports (
    report_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id        TEXT NOT NULL,
    reporter       TEXT NOT NULL, -- the provider that sent the report
    reporting_user TEXT,          -- NULL for an anonymous report
    alleged_abuser TEXT NOT NULL,
    reason_code    INTEGER NOT NULL,
    note           TEXT NOT NULL,
    message_count  INTEGER NOT NULL,
    body           BLOB NOT NULL,
    received_at    INTEGER NOT NULL
);
CREATE INDEX abuse_reports_by_room ON abuse_reports (room_id);
