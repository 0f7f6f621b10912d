-- Read tables of the identity area (instances, orgs, users, PATs, members).
-- Written only by the inline projections in projection/identity.go.

-- Host → instance. Domains are unique across all instances.
CREATE TABLE instance_domains (
    domain      text PRIMARY KEY,
    instance_id text NOT NULL
);
CREATE INDEX instance_domains_instance_idx ON instance_domains (instance_id);

CREATE TABLE instances (
    id            text        PRIMARY KEY,
    name          text        NOT NULL DEFAULT '',
    sequence      bigint      NOT NULL,
    creation_date timestamptz NOT NULL,
    change_date   timestamptz NOT NULL
);

CREATE TABLE orgs (
    instance_id   text        NOT NULL,
    id            text        NOT NULL,
    name          text        NOT NULL,
    state         smallint    NOT NULL DEFAULT 1, -- 1 active, 3 removed
    sequence      bigint      NOT NULL,
    creation_date timestamptz NOT NULL,
    change_date   timestamptz NOT NULL,
    PRIMARY KEY (instance_id, id)
);

CREATE TABLE users (
    instance_id    text        NOT NULL,
    id             text        NOT NULL,
    org_id         text        NOT NULL,
    type           text        NOT NULL, -- 'human' | 'machine'
    username       text        NOT NULL,
    state          smallint    NOT NULL DEFAULT 1, -- 1 active
    -- human: givenName, familyName, nickName, displayName, preferredLanguage,
    -- gender; machine: name, description
    profile        jsonb       NOT NULL DEFAULT '{}',
    email          text        NOT NULL DEFAULT '',
    email_verified boolean     NOT NULL DEFAULT false,
    sequence       bigint      NOT NULL,
    creation_date  timestamptz NOT NULL,
    change_date    timestamptz NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE INDEX users_org_idx ON users (instance_id, org_id);

-- Only the SHA-256 of a token is stored, never the token.
CREATE TABLE pats (
    token_hash  text PRIMARY KEY,
    instance_id text NOT NULL,
    token_id    text NOT NULL,
    user_id     text NOT NULL,
    expiration  timestamptz
);
CREATE INDEX pats_user_idx ON pats (instance_id, user_id);

-- Role grants: org_id '' is the instance.
CREATE TABLE members (
    instance_id text   NOT NULL,
    org_id      text   NOT NULL,
    user_id     text   NOT NULL,
    roles       text[] NOT NULL,
    PRIMARY KEY (instance_id, org_id, user_id)
);
CREATE INDEX members_user_idx ON members (instance_id, user_id);
