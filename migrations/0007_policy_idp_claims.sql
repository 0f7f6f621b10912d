-- Every IdP a login policy lists is claimed as ('login_policy.idp',
-- '<idp ID>:<policy ID>'), so that an IdP's removal can check, inside its
-- append, that no policy entry added meanwhile escaped its cascade (see
-- 0006). Appends claim and release it from this version on; this backfills
-- the entries listed before, from the inline read table.
INSERT INTO unique_constraints (instance_id, unique_type, unique_value)
SELECT instance_id, 'login_policy.idp', idp_id || ':' || policy_id
FROM login_policy_idps
ON CONFLICT DO NOTHING;
