-- The instance's OpenID Provider facts (projection/identity.go, the
-- instances projection): its token lifetimes, once set
-- (instance.oidc.settings.*; none: ZITADEL's defaults), and its own API
-- project (instance.iam.project.set).
ALTER TABLE instances ADD COLUMN iam_project_id text NOT NULL DEFAULT '';

CREATE TABLE instance_oidc_settings (
    instance_id                   text        PRIMARY KEY,
    access_token_lifetime         bigint      NOT NULL, -- nanoseconds
    id_token_lifetime             bigint      NOT NULL,
    refresh_token_idle_expiration bigint      NOT NULL,
    refresh_token_expiration      bigint      NOT NULL,
    sequence                      bigint      NOT NULL,
    creation_date                 timestamptz NOT NULL,
    change_date                   timestamptz NOT NULL
);
