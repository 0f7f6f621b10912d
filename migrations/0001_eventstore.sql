-- The append-only event log. Rows are inserted by eventstore.Postgres.Append
-- and never updated or deleted (a trigger enforces it).
CREATE TABLE events (
    instance_id    text        NOT NULL,
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    sequence       bigint      NOT NULL CHECK (sequence > 0),
    event_type     text        NOT NULL,
    revision       smallint    NOT NULL DEFAULT 1,
    payload        jsonb       NOT NULL DEFAULT '{}',
    creator        text        NOT NULL,
    request_id     text        NOT NULL DEFAULT '',
    client_ip      text        NOT NULL DEFAULT '',
    user_agent     text        NOT NULL DEFAULT '',
    resource_owner text        NOT NULL,
    -- the time the row was inserted, not the time its transaction started
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- a unique identity; NOT the commit order (see tx_id)
    position       bigint      GENERATED ALWAYS AS IDENTITY,
    -- readers order by (tx_id, position) and stay below the snapshot xmin,
    -- so an event whose transaction commits late is never skipped
    tx_id          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    hash           bytea       NOT NULL,
    PRIMARY KEY (instance_id, aggregate_type, aggregate_id, sequence)
);
CREATE UNIQUE INDEX events_position_idx ON events (position);
CREATE INDEX events_order_idx ON events (tx_id, position);

-- The hash chain. Each event's hash covers its canonical content and the hash
-- of the previous event of the same aggregate ('' for sequence 1). Defined once
-- here; used by Append and by verification.
CREATE FUNCTION idledger_event_hash(
    prev bytea, instance_id text, aggregate_type text, aggregate_id text, seq bigint,
    event_type text, revision smallint, payload jsonb, creator text, request_id text,
    client_ip text, user_agent text, resource_owner text, created_at timestamptz)
RETURNS bytea LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT sha256(prev || convert_to(jsonb_build_array(
        instance_id, aggregate_type, aggregate_id, seq, event_type, revision, payload,
        creator, request_id, client_ip, user_agent, resource_owner,
        (extract(epoch FROM created_at) * 1000000)::bigint)::text, 'UTF8'))
$$;

CREATE FUNCTION idledger_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP;
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION idledger_events_immutable();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION idledger_events_immutable();

-- Cross-aggregate uniqueness, claimed and released inside append transactions.
CREATE TABLE unique_constraints (
    instance_id  text NOT NULL,
    unique_type  text NOT NULL,
    unique_value text NOT NULL,
    PRIMARY KEY (instance_id, unique_type, unique_value)
);

-- Where each projection is, and whether it is healthy.
CREATE TABLE projection_state (
    name            text        PRIMARY KEY,
    tx_id           xid8        NOT NULL DEFAULT '0',
    position        bigint      NOT NULL DEFAULT 0,
    state           text        NOT NULL DEFAULT 'live',
    error           text        NOT NULL DEFAULT '',
    failed_position bigint,
    last_rebuild    timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
