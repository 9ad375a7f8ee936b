-- The kinds' presence threshold goes from 100 to 200 (docs/protocol.md "Presence and occupancy"): rooms
-- of up to 200 users keep the full list in join replies and per-user presence signals (existing
-- clients, and rooms of a few hundred, see no change), while the replies of 5,000 joins stay far
-- below 5 MB. Kinds still at the old default move; a kind set to anything else keeps its value.
ALTER TABLE rt.room_kinds ALTER COLUMN presence_threshold SET DEFAULT 200;
UPDATE rt.room_kinds SET presence_threshold = 200 WHERE presence_threshold = 100;
