-- Large message content, shared by the nodes of a cluster (store::chunks):
-- a row per content, with its size and when it was last put (the age
-- garbage collection goes by), and its bytes in chunks of at most 1 MiB,
-- numbered from 0, so that no single value is the size of the message.
-- The chunks go with their content's row.

CREATE TABLE chunked_content (
    hash        TEXT COLLATE "C" PRIMARY KEY,
    size        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE INDEX chunked_content_created_at ON chunked_content (created_at);

CREATE TABLE content_chunks (
    hash  TEXT COLLATE "C" NOT NULL REFERENCES chunked_content (hash) ON DELETE CASCADE,
    seq   BIGINT NOT NULL,
    data  BYTEA NOT NULL,
    PRIMARY KEY (hash, seq)
);
