-- Which of this provider's clients are in which room, as far as it knows (follower side):
-- the recipients of a room's fanned-out events (PostgreSQL).

CREATE TABLE room_members (
    room_id   TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    added_at  BIGINT NOT NULL,
    PRIMARY KEY (room_id, client_id)
);
CREATE INDEX room_members_by_client ON room_members (client_id);
