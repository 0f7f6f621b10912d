-- v2 sessions (projection/session.go). A terminated session's row is
-- deleted, as ZITADEL's session projection does. Only the SHA-256 of the
-- current session token is kept, never the token.
CREATE TABLE sessions (
    instance_id         text        NOT NULL,
    id                  text        NOT NULL,
    creator             text        NOT NULL DEFAULT '',
    user_id             text        NOT NULL DEFAULT '',
    user_resource_owner text        NOT NULL DEFAULT '',
    user_checked_at     timestamptz,
    password_checked_at timestamptz,
    intent_checked_at   timestamptz,
    token_hash          text        NOT NULL DEFAULT '',
    metadata            jsonb       NOT NULL DEFAULT '{}',
    user_agent          jsonb,
    expiration          timestamptz,
    sequence            bigint      NOT NULL,
    creation_date       timestamptz NOT NULL,
    change_date         timestamptz NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE INDEX sessions_user_idx ON sessions (instance_id, user_id);

-- ListUsers filters by user name, email and type within an instance.
CREATE INDEX users_lower_username_idx ON users (instance_id, lower(username));
CREATE INDEX users_lower_email_idx ON users (instance_id, lower(email));
