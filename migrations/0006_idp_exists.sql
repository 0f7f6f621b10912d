-- Every IdP claims ('idp.exists', its ID) while it exists. An append that
-- adds a link holds that claim (SELECT … FOR SHARE), and the IdP's removal
-- releases it and then checks that no link to the IdP is left, so a link
-- added while its IdP is being removed either commits first and is cascaded,
-- or fails. Appends claim it from this version on; this backfills the IdPs
-- created before, from the log: added, and not removed since.
INSERT INTO unique_constraints (instance_id, unique_type, unique_value)
SELECT a.instance_id, 'idp.exists', a.aggregate_id
FROM events a
WHERE a.aggregate_type = 'idp' AND a.event_type = 'idp.added'
  AND NOT EXISTS (SELECT 1 FROM events r
                  WHERE r.instance_id = a.instance_id AND r.aggregate_type = 'idp'
                    AND r.aggregate_id = a.aggregate_id AND r.event_type = 'idp.removed')
ON CONFLICT DO NOTHING;
