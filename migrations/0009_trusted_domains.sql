-- An instance's trusted domains (projection/identity.go, the instances
-- projection): hosts besides the instance's own that StartIntent accepts in
-- success and failure URLs. Stored lower-cased, without port.
CREATE TABLE instance_trusted_domains (
    instance_id   text        NOT NULL,
    domain        text        NOT NULL,
    sequence      bigint      NOT NULL,
    creation_date timestamptz NOT NULL,
    PRIMARY KEY (instance_id, domain)
);
