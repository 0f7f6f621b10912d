-- IdP templates of every kind, instance- and org-owned (projection "idps").
-- config is the kind's public view: it never holds a secret, sealed or not.
CREATE TABLE idps (
    instance_id    text        NOT NULL,
    id             text        NOT NULL,
    owner_type     text        NOT NULL, -- 'system' (the instance) or 'org'
    resource_owner text        NOT NULL, -- instance ID or org ID
    kind           text        NOT NULL, -- idp.Kind.Path
    type           integer     NOT NULL, -- IDPType number
    name           text        NOT NULL,
    state          smallint    NOT NULL DEFAULT 1, -- 1 active; removed IdPs are deleted
    options        jsonb       NOT NULL DEFAULT '{}',
    config         jsonb       NOT NULL DEFAULT '{}',
    sequence       bigint      NOT NULL,
    creation_date  timestamptz NOT NULL,
    change_date    timestamptz NOT NULL,
    owner_removed  boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (instance_id, id)
);
CREATE INDEX idps_owner_name_idx ON idps (instance_id, resource_owner, name);
