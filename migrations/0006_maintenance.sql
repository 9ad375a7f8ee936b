-- Maintenance mode: one row. While `active`, every bridge refuses new WebSocket upgrades with 503
-- and connected clients have been told with a `maintenance` system frame.
CREATE TABLE rt.maintenance (
    singleton boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    active    boolean     NOT NULL DEFAULT false,
    message   text        CHECK (message IS NULL OR char_length(message) BETWEEN 1 AND 500),
    since     timestamptz NOT NULL DEFAULT now()
);

INSERT INTO rt.maintenance (singleton) VALUES (true);

REVOKE ALL ON rt.maintenance FROM PUBLIC;
