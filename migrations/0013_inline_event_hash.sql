-- idledger_event_hash, same body, declared so that PostgreSQL inlines it.
-- As 0001 declared it (IMMUTABLE STRICT) it could not be: its body calls
-- STABLE functions (jsonb_build_array, convert_to, extract), and a STRICT
-- function inlines only when its body is strict too (jsonb_build_array is
-- not). So every append and every verification ran the SQL-function
-- executor per row, about 50 µs of CPU per event insert. STABLE is what the
-- body is; nothing needs it IMMUTABLE (no index or generated column uses it).
-- Without STRICT the result is the same for every input without a NULL: the
-- hash of the same text. A NULL prev still yields NULL (bytea || is strict),
-- so an append that expects a sequence ahead of the log still fails the
-- events.hash NOT NULL (eventstore maps it to ConcurrencyError). The other
-- arguments are NOT NULL columns of events wherever the function is used.
-- eventstore's TestEventHashInlinesAndMatches0001 proves both.
CREATE OR REPLACE FUNCTION idledger_event_hash(
    prev bytea, instance_id text, aggregate_type text, aggregate_id text, seq bigint,
    event_type text, revision smallint, payload jsonb, creator text, request_id text,
    client_ip text, user_agent text, resource_owner text, created_at timestamptz)
RETURNS bytea LANGUAGE sql STABLE CALLED ON NULL INPUT PARALLEL SAFE AS $$
    SELECT sha256(prev || convert_to(jsonb_build_array(
        instance_id, aggregate_type, aggregate_id, seq, event_type, revision, payload,
        creator, request_id, client_ip, user_agent, resource_owner,
        (extract(epoch FROM created_at) * 1000000)::bigint)::text, 'UTF8'))
$$;
