-- Projects and their apps (projection "projects", projection/project.go).
-- Removed projects and apps are deleted. An app's config is its
-- events.OIDCConfig as JSON (never a secret); secret_hash is the argon2id
-- hash of its client secret, which the OP checks, never the secret.
CREATE TABLE projects (
    instance_id              text        NOT NULL,
    id                       text        NOT NULL,
    resource_owner           text        NOT NULL,
    name                     text        NOT NULL,
    project_role_assertion   boolean     NOT NULL DEFAULT false,
    project_role_check       boolean     NOT NULL DEFAULT false,
    has_project_check        boolean     NOT NULL DEFAULT false,
    private_labeling_setting smallint    NOT NULL DEFAULT 0,
    sequence                 bigint      NOT NULL,
    creation_date            timestamptz NOT NULL,
    change_date              timestamptz NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE INDEX projects_owner_idx ON projects (instance_id, resource_owner);

CREATE TABLE apps (
    instance_id      text        NOT NULL,
    id               text        NOT NULL,
    project_id       text        NOT NULL,
    resource_owner   text        NOT NULL,
    name             text        NOT NULL,
    kind             text        NOT NULL DEFAULT '', -- 'oidc' or 'api'
    client_id        text        NOT NULL DEFAULT '',
    secret_hash      text        NOT NULL DEFAULT '',
    api_auth_method  smallint    NOT NULL DEFAULT 0,
    config           jsonb       NOT NULL DEFAULT '{}',
    sequence         bigint      NOT NULL,
    creation_date    timestamptz NOT NULL,
    change_date      timestamptz NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE INDEX apps_project_idx ON apps (instance_id, project_id);
-- The OP's one read: a client by its ID.
CREATE INDEX apps_client_idx ON apps (instance_id, client_id);
