-- Bridges and the connections they hold joined to rooms (presence across all bridges).
-- A bridge that stops heartbeating is reaped with its presence (rt.reap_bridges).

CREATE TABLE rt.bridges (
    id         text        PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 128 AND id !~ '[[:cntrl:]]'),
    info       jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(info) = 'object'),
    started_at timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX bridges_last_seen_idx ON rt.bridges (last_seen);

-- One row per (connection, room) joined. A user is online in a room while any row exists.
-- bridge_id is deliberately not a foreign key to rt.bridges: its KEY SHARE lock would make a join
-- wait on (and deadlock with) a reaper deleting that bridge. Every join registers its bridge in the
-- same transaction, and rt.reap_bridges also removes presence whose bridge row is gone.
CREATE TABLE rt.presence (
    bridge_id text        NOT NULL,
    conn_id   text        NOT NULL CHECK (char_length(conn_id) BETWEEN 1 AND 128 AND conn_id !~ '[[:cntrl:]]'),
    room      text        NOT NULL REFERENCES rt.rooms (id) ON DELETE CASCADE,
    user_id   text        NOT NULL CHECK (char_length(user_id) BETWEEN 1 AND 128 AND user_id !~ '[[:cntrl:]]'),
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bridge_id, conn_id, room)
);

CREATE INDEX presence_room_user_idx ON rt.presence (room, user_id);

REVOKE ALL ON rt.bridges, rt.presence FROM PUBLIC;
