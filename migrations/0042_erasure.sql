-- Erasure of a user (docs/sql-api.md "Erasure of a user"): the event that tells each affected room.
INSERT INTO rt.event_types (event, persisted, system, description) VALUES
    ('user_erased', true, true,
     'a user''s content was erased (data: user, upto): every earlier event by them is now a tombstone');
