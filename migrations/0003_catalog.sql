-- The data that defines the rules: error codes, settings, room kinds and their state machines,
-- member roles and their rights, event names. Rules live here as rows so that changing them is
-- a data change, not a code change; the functions in sql/ only interpret these tables.

-- The error codes (docs/protocol.md, "Errors") and the SQLSTATE each is raised with. Class RT is ours:
-- SQL clients tell errors apart by SQLSTATE, bridges map SQLSTATE -> code through this table.
CREATE TABLE rt.error_codes (
    code        text    PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z_]{1,31}$'),
    sqlstate    text    NOT NULL UNIQUE CHECK (sqlstate ~ '^RT[0-9]{3}$'),
    retry       boolean NOT NULL,
    description text    NOT NULL
);

INSERT INTO rt.error_codes (code, sqlstate, retry, description) VALUES
    ('BAD_REQUEST',        'RT400', false, 'a field is missing, has the wrong type or an invalid value'),
    ('UNAUTHORIZED',       'RT401', false, 'no valid identity'),
    ('FORBIDDEN',          'RT403', false, 'the actor may not do this, or may not see the room'),
    ('NOT_FOUND',          'RT404', false, 'the room, member or message does not exist'),
    ('CONFLICT',           'RT409', false, 'the request conflicts with current state (stale version, duplicate id, ended room)'),
    ('TOO_LARGE',          'RT413', false, 'an event, body or document exceeds its configured size'),
    ('INVALID_TRANSITION', 'RT422', false, 'the state machine does not allow this move'),
    ('RATE_LIMITED',       'RT429', true,  'too many requests'),
    ('INTERNAL',           'RT500', false, 'an unexpected error; details are in the server log'),
    ('UNAVAILABLE',        'RT503', true,  'the database is busy or unreachable; retry');

-- Tunables. Each key has its own validity rule so a bad value is refused when written.
CREATE TABLE rt.settings (
    key         text PRIMARY KEY,
    value       text NOT NULL,
    description text NOT NULL,
    CONSTRAINT settings_value_valid CHECK (
        CASE key
            WHEN 'max_event_bytes' THEN
                CASE WHEN value ~ '^[0-9]{1,8}$' THEN value::integer BETWEEN 1024 AND 10485760 ELSE false END
            WHEN 'max_meta_bytes' THEN
                CASE WHEN value ~ '^[0-9]{1,8}$' THEN value::integer BETWEEN 64 AND 1048576 ELSE false END
            WHEN 'max_prefs_bytes' THEN
                CASE WHEN value ~ '^[0-9]{1,8}$' THEN value::integer BETWEEN 64 AND 1048576 ELSE false END
            WHEN 'retention' THEN
                value ~ '^[1-9][0-9]{0,5} (minute|minutes|hour|hours|day|days|week|weeks)$'
            ELSE false
        END)
);

INSERT INTO rt.settings (key, value, description) VALUES
    ('max_event_bytes', '65536',   'largest stored event, in bytes of its wire JSON (1024 .. 10485760)'),
    ('max_meta_bytes',  '16384',   'largest room meta document, in bytes of its JSON text (64 .. 1048576)'),
    ('max_prefs_bytes', '16384',   'largest per-user preferences document, in bytes of its JSON text (64 .. 1048576)'),
    ('retention',       '30 days', 'events older than this are removed by rt.prune_events() (N minutes|hours|days|weeks)');

-- Room kinds. initial_state is NULL for kinds without a state machine.
CREATE TABLE rt.room_kinds (
    kind          text PRIMARY KEY CHECK (kind ~ '^[a-z][a-z0-9_]{0,31}$'),
    initial_state text,
    description   text NOT NULL
);

-- States of each kind's state machine; a final state ends the room.
CREATE TABLE rt.kind_states (
    kind     text    NOT NULL REFERENCES rt.room_kinds (kind),
    state    text    NOT NULL CHECK (state ~ '^[A-Z][A-Z0-9_]{0,63}$'),
    final    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (kind, state)
);

-- Allowed moves. A move to the current state is never a transition.
CREATE TABLE rt.transitions (
    kind       text NOT NULL,
    from_state text NOT NULL,
    to_state   text NOT NULL,
    PRIMARY KEY (kind, from_state, to_state),
    FOREIGN KEY (kind, from_state) REFERENCES rt.kind_states (kind, state),
    FOREIGN KEY (kind, to_state) REFERENCES rt.kind_states (kind, state),
    CHECK (from_state <> to_state)
);

INSERT INTO rt.room_kinds (kind, description) VALUES
    ('chat',         'group chat'),
    ('conversation', 'a conversation with an assistant, driven by a state machine'),
    ('meeting',      'a meeting room'),
    ('project',      'a project room');

INSERT INTO rt.kind_states (kind, state, final) VALUES
    ('conversation', 'IDLE', false),
    ('conversation', 'LISTENING', false),
    ('conversation', 'PROCESSING', false),
    ('conversation', 'SPEAKING', false),
    ('conversation', 'WAITING_FOR_USER', false),
    ('conversation', 'ERROR', false),
    ('conversation', 'ENDED', true);

UPDATE rt.room_kinds SET initial_state = 'IDLE' WHERE kind = 'conversation';

ALTER TABLE rt.room_kinds
    ADD CONSTRAINT room_kinds_initial_state_fkey
    FOREIGN KEY (kind, initial_state) REFERENCES rt.kind_states (kind, state);

-- docs/sql-api.md, "The state machine": each adjacent pair of IDLE-LISTENING-PROCESSING-SPEAKING-WAITING_FOR_USER both
-- ways, WAITING_FOR_USER -> LISTENING, every non-ENDED state -> ERROR, ERROR -> IDLE, every state -> ENDED.
INSERT INTO rt.transitions (kind, from_state, to_state)
SELECT 'conversation', f, t FROM (VALUES
    ('IDLE', 'LISTENING'), ('LISTENING', 'IDLE'),
    ('LISTENING', 'PROCESSING'), ('PROCESSING', 'LISTENING'),
    ('PROCESSING', 'SPEAKING'), ('SPEAKING', 'PROCESSING'),
    ('SPEAKING', 'WAITING_FOR_USER'), ('WAITING_FOR_USER', 'SPEAKING'),
    ('WAITING_FOR_USER', 'LISTENING'),
    ('IDLE', 'ERROR'), ('LISTENING', 'ERROR'), ('PROCESSING', 'ERROR'),
    ('SPEAKING', 'ERROR'), ('WAITING_FOR_USER', 'ERROR'),
    ('ERROR', 'IDLE'),
    ('IDLE', 'ENDED'), ('LISTENING', 'ENDED'), ('PROCESSING', 'ENDED'), ('SPEAKING', 'ENDED'),
    ('WAITING_FOR_USER', 'ENDED'), ('ERROR', 'ENDED')
) AS m (f, t);

-- Member roles and what each may do.
CREATE TABLE rt.roles (
    role        text PRIMARY KEY CHECK (role ~ '^[a-z][a-z0-9_]{0,31}$'),
    description text NOT NULL
);

CREATE TABLE rt.rights (
    right_name  text PRIMARY KEY CHECK (right_name ~ '^[a-z][a-z0-9_]{0,31}$'),
    description text NOT NULL
);

CREATE TABLE rt.role_rights (
    role       text NOT NULL REFERENCES rt.roles (role),
    right_name text NOT NULL REFERENCES rt.rights (right_name),
    PRIMARY KEY (role, right_name)
);

INSERT INTO rt.roles (role, description) VALUES
    ('owner',   'created the room; manages it and its members'),
    ('member',  'takes part: sends, signals, moves the state'),
    ('viewer',  'reads only'),
    ('service', 'a bot, AI worker or pipeline: takes part, publishes, may end the room');

INSERT INTO rt.rights (right_name, description) VALUES
    ('read',           'join, read history and replay events'),
    ('send',           'post messages, and edit or delete one''s own'),
    ('signal',         'send ephemeral signals'),
    ('transition',     'move the room''s state machine'),
    ('publish',        'publish persisted events'),
    ('moderate',       'edit or delete other members'' messages'),
    ('end_room',       'end the room'),
    ('manage_members', 'add and remove members'),
    ('manage_room',    'change the room''s title and meta');

INSERT INTO rt.role_rights (role, right_name)
SELECT role, right_name FROM (VALUES
    ('owner', ARRAY['read', 'send', 'signal', 'transition', 'publish', 'moderate', 'end_room',
                    'manage_members', 'manage_room']),
    ('member', ARRAY['read', 'send', 'signal', 'transition']),
    ('viewer', ARRAY['read']),
    ('service', ARRAY['read', 'send', 'signal', 'transition', 'publish', 'end_room'])
) AS g (role, rights), unnest(g.rights) AS right_name;

-- Event names. persisted: stored with a seq (else a signal). system: emitted only by rt functions,
-- never accepted from rt.publish / rt.signal.
CREATE TABLE rt.event_types (
    event       text    PRIMARY KEY CHECK (event ~ '^[a-z][a-z0-9_]{0,63}$'),
    persisted   boolean NOT NULL,
    system      boolean NOT NULL,
    description text    NOT NULL
);

-- Which roles may use a non-system event through rt.publish / rt.signal (in addition to the
-- role's publish / signal right).
CREATE TABLE rt.event_type_roles (
    event text NOT NULL REFERENCES rt.event_types (event),
    role  text NOT NULL REFERENCES rt.roles (role),
    PRIMARY KEY (event, role)
);

INSERT INTO rt.event_types (event, persisted, system, description) VALUES
    ('room_created',       true,  true,  'the room was created (data: kind, title, owner, state)'),
    ('room_updated',       true,  true,  'title and/or meta changed (data: the changed fields)'),
    ('room_ended',         true,  true,  'the room ended (data: from, to, version for state-machine rooms)'),
    ('member_added',       true,  true,  'a member was added or changed role (data: user, role, previous_role)'),
    ('member_removed',     true,  true,  'a member was removed (data: user)'),
    ('message',            true,  true,  'a message (data: body, media_url, meta, client_msg_id)'),
    ('message_edited',     true,  true,  'a message was edited (data: seq, body)'),
    ('message_deleted',    true,  true,  'a message was deleted (data: seq)'),
    ('state',              true,  true,  'the state machine moved (data: from, to, version)'),
    ('presence',           false, true,  'a user''s first connection joined or last one left (data: user, status)'),
    ('read',               false, true,  'a member read up to a seq (data: user, seq)'),
    ('ai_response',        true,  false, 'an assistant''s answer'),
    ('transcript',         true,  false, 'a final transcript'),
    ('status',             true,  false, 'a status report'),
    ('summary',            true,  false, 'a summary'),
    ('error',              true,  false, 'an error report from a service'),
    ('typing',             false, false, 'someone is typing'),
    ('transcript_interim', false, false, 'an interim transcript'),
    ('speech_event',       false, false, 'speech started/stopped and similar');

INSERT INTO rt.event_type_roles (event, role)
SELECT e, r FROM (VALUES
    ('ai_response', ARRAY['owner', 'service']),
    ('transcript', ARRAY['owner', 'service']),
    ('status', ARRAY['owner', 'service']),
    ('summary', ARRAY['owner', 'service']),
    ('error', ARRAY['owner', 'service']),
    ('typing', ARRAY['owner', 'member', 'service']),
    ('transcript_interim', ARRAY['owner', 'member', 'service']),
    ('speech_event', ARRAY['owner', 'member', 'service'])
) AS g (e, roles), unnest(g.roles) AS r;

REVOKE ALL ON rt.error_codes, rt.settings, rt.room_kinds, rt.kind_states, rt.transitions, rt.roles,
    rt.rights, rt.role_rights, rt.event_types, rt.event_type_roles FROM PUBLIC;
