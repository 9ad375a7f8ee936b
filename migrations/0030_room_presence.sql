-- Presence that scales (docs/protocol.md "Presence and occupancy"): how many users are online in each
-- room, kept as a counter so that a join costs the same in a room of 5 and of 10,000, and the
-- threshold above which a room reports occupancy counts instead of every join and leave.

-- The threshold of each room kind: up to this many users online, a room works as before (join
-- replies list everyone online, every join and leave is a `presence` signal); above it, join replies
-- carry the occupancy and a short page of who, and changes go out as `occupancy` signals.
-- At most 1000: one roster page (rt.roster) can then always hold a complete list.
ALTER TABLE rt.room_kinds
    ADD COLUMN presence_threshold integer NOT NULL DEFAULT 100
        CHECK (presence_threshold BETWEEN 0 AND 1000);

-- Per room: `online` is the number of distinct users with at least one row in rt.presence, changed
-- only under the room's row lock by the functions that add or remove presence (so it always equals
-- count(DISTINCT user_id)); `presence_threshold`, when set, overrides the kind's for this room.
CREATE TABLE rt.room_presence (
    room               text    PRIMARY KEY REFERENCES rt.rooms (id) ON DELETE CASCADE,
    online             integer NOT NULL DEFAULT 0 CHECK (online >= 0),
    presence_threshold integer CHECK (presence_threshold BETWEEN 0 AND 1000)
);

INSERT INTO rt.room_presence (room, online)
SELECT p.room, count(DISTINCT p.user_id) FROM rt.presence p GROUP BY p.room;

-- The `occupancy` signal is not a row of rt.event_types, like the bridge's `presence_batch`: no client
-- may send it (rt.signal refuses names missing from the catalogue), and only rt.announce_presence emits it.

REVOKE ALL ON rt.room_presence FROM PUBLIC;
