-- Rooms, members, the event log, messages and per-user preferences.
-- Identifier rules are repeated here as CHECK constraints so that wrong data stays impossible even
-- for a superuser writing rows by hand; the functions validate first to give clear errors.

CREATE TABLE rt.rooms (
    id         text        PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    kind       text        NOT NULL REFERENCES rt.room_kinds (kind),
    title      text        CHECK (char_length(title) BETWEEN 1 AND 200 AND title !~ '[[:cntrl:]]'),
    owner      text        NOT NULL CHECK (char_length(owner) BETWEEN 1 AND 128 AND owner !~ '[[:cntrl:]]'),
    state      text,
    version    integer     NOT NULL DEFAULT 0 CHECK (version >= 0),
    -- seq of the newest event; the next event takes last_seq + 1 while holding this row's lock,
    -- so seq order is commit order and no seq is ever reused (pruning does not lower it).
    last_seq   bigint      NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    meta       jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(meta) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    ended_at   timestamptz,
    FOREIGN KEY (kind, state) REFERENCES rt.kind_states (kind, state)
);

CREATE TABLE rt.members (
    room          text        NOT NULL REFERENCES rt.rooms (id) ON DELETE CASCADE,
    user_id       text        NOT NULL CHECK (char_length(user_id) BETWEEN 1 AND 128 AND user_id !~ '[[:cntrl:]]'),
    role          text        NOT NULL REFERENCES rt.roles (role),
    joined_at     timestamptz NOT NULL DEFAULT now(),
    last_read_seq bigint      NOT NULL DEFAULT 0 CHECK (last_read_seq >= 0),
    PRIMARY KEY (room, user_id)
);

-- "Which rooms is this user in" (dashboards, unread counts).
CREATE INDEX members_user_idx ON rt.members (user_id, room);

-- The event log. (room, seq) is the primary key, which is also the access path of both hot reads:
-- replay (seq > S ascending) and history pages (seq < B descending).
-- event is deliberately not a foreign key to rt.event_types: the RI check would take a KEY SHARE
-- lock on the same few rows from every concurrent append (MultiXact churn on the hot path); the
-- append functions only ever write names they looked up in rt.event_types.
CREATE TABLE rt.events (
    room  text        NOT NULL REFERENCES rt.rooms (id) ON DELETE CASCADE,
    seq   bigint      NOT NULL CHECK (seq > 0),
    event text        NOT NULL CHECK (event ~ '^[a-z][a-z0-9_]{0,63}$'),
    actor text,
    data  jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    at    timestamptz NOT NULL,
    PRIMARY KEY (room, seq)
);

-- Retention removes by age.
CREATE INDEX events_at_idx ON rt.events (at);

-- Deleting a message also redacts the bodies carried by its message_edited events.
CREATE INDEX events_edits_idx ON rt.events (room, ((data ->> 'seq')::bigint))
    WHERE event = 'message_edited';

-- The queryable current form of each `message` event: edits change body here (the original event
-- stays in the log), deletion clears body and media_url here and in the log.
CREATE TABLE rt.messages (
    room          text        NOT NULL,
    seq           bigint      NOT NULL,
    author        text        NOT NULL,
    body          text,
    media_url     text,
    meta          jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(meta) = 'object'),
    client_msg_id text        CHECK (char_length(client_msg_id) BETWEEN 1 AND 128),
    created_at    timestamptz NOT NULL,
    edited_at     timestamptz,
    deleted_at    timestamptz,
    PRIMARY KEY (room, seq),
    FOREIGN KEY (room, seq) REFERENCES rt.events (room, seq) ON DELETE CASCADE,
    -- post_message is idempotent by client_msg_id within a room.
    UNIQUE (room, client_msg_id),
    CHECK ((deleted_at IS NULL) = (body IS NOT NULL)),
    CHECK (deleted_at IS NULL OR (media_url IS NULL AND meta = '{}'))
);

CREATE TABLE rt.prefs (
    user_id    text        PRIMARY KEY CHECK (char_length(user_id) BETWEEN 1 AND 128 AND user_id !~ '[[:cntrl:]]'),
    prefs      jsonb       NOT NULL CHECK (jsonb_typeof(prefs) = 'object'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

REVOKE ALL ON rt.rooms, rt.members, rt.events, rt.messages, rt.prefs FROM PUBLIC;
