-- Write models load a few exact event types of one aggregate (e.g. whether a
-- user exists) without reading its whole history.
CREATE INDEX events_aggregate_type_idx ON events (instance_id, aggregate_type, aggregate_id, event_type, sequence);

-- IdP name search: LIKE 'prefix%' can use a btree only with pattern ops
-- under a non-C collation (C.UTF-8 here); lower() serves the _IGNORE_CASE
-- methods.
CREATE INDEX idps_name_pattern_idx ON idps (instance_id, name text_pattern_ops);
CREATE INDEX idps_lower_name_pattern_idx ON idps (instance_id, lower(name) text_pattern_ops);
