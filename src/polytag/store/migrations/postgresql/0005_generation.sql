-- One row every process on the database reads to know whether its copies of apps and access
-- tokens are still exact: every write group that may have changed an app or a token sets it
-- to its own transaction id in the same transaction (store/postgres/tx.py). A transaction id
-- is never reused in a cluster, so "the value I read with the row is still there" means "no
-- such group has committed since", even across a schema dropped and made again.
CREATE TABLE generation (
  one   BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
  value BIGINT  NOT NULL
);
INSERT INTO generation (value) VALUES (txid_current());
