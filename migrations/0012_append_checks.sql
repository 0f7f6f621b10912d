-- The append's checks that must fail inside its one pipelined round trip
-- (eventstore.Postgres.Append sends the events, the unique constraints and
-- the inline projections as one implicit transaction): a hold whose value
-- is gone, or a none-with-prefix check that finds a claim, raises SQLSTATE
-- IL001, which rolls the whole append back and maps to
-- eventstore.ConstraintChangedError.
CREATE FUNCTION idledger_append_check(ok boolean) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF NOT ok THEN
        RAISE EXCEPTION 'a unique value the append depends on changed concurrently' USING ERRCODE = 'IL001';
    END IF;
    RETURN ok;
END $$;
