-- Read tables of login policies and users' IdP links. Written only by the
-- inline projections in projection/policy.go and projection/link.go.

-- One row per login policy: the instance default (id = instance ID,
-- is_default) or an org's custom policy (id = org ID). A custom policy that
-- was reset to the default has no row.
CREATE TABLE login_policies (
    instance_id   text        NOT NULL,
    id            text        NOT NULL,
    is_default    boolean     NOT NULL DEFAULT false,
    settings      jsonb       NOT NULL DEFAULT '{}',
    sequence      bigint      NOT NULL,
    creation_date timestamptz NOT NULL,
    change_date   timestamptz NOT NULL,
    PRIMARY KEY (instance_id, id)
);

-- The IdPs linked to a login policy, in the order they were added
-- (sequence of the login_policy.idp.added event).
CREATE TABLE login_policy_idps (
    instance_id   text        NOT NULL,
    policy_id     text        NOT NULL,
    idp_id        text        NOT NULL,
    owner_type    text        NOT NULL,
    sequence      bigint      NOT NULL,
    creation_date timestamptz NOT NULL,
    PRIMARY KEY (instance_id, policy_id, idp_id)
);
CREATE INDEX login_policy_idps_idp_idx ON login_policy_idps (instance_id, idp_id);

-- Users' links to accounts at IdPs. (idp_id, external_user_id) is unique per
-- instance; the event store's unique constraint "user.idp.link" enforces it
-- at write time, the index here serves lookups by IdP.
CREATE TABLE user_idp_links (
    instance_id        text        NOT NULL,
    user_id            text        NOT NULL,
    idp_id             text        NOT NULL,
    external_user_id   text        NOT NULL,
    external_user_name text        NOT NULL DEFAULT '',
    resource_owner     text        NOT NULL,
    sequence           bigint      NOT NULL,
    creation_date      timestamptz NOT NULL,
    PRIMARY KEY (instance_id, user_id, idp_id, external_user_id)
);
CREATE UNIQUE INDEX user_idp_links_idp_idx ON user_idp_links (instance_id, idp_id, external_user_id);
