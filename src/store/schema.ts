// SQLite schema of the durable queue. `id` is the local log offset (arrival order on this node).
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  id     INTEGER PRIMARY KEY,
  topic  TEXT    NOT NULL,
  origin TEXT    NOT NULL,
  seq    INTEGER NOT NULL,
  ts     INTEGER NOT NULL,
  size   INTEGER NOT NULL,
  raw    BLOB    NOT NULL,
  UNIQUE (topic, origin, seq)
);
CREATE INDEX IF NOT EXISTS messages_by_topic ON messages (topic, id);
CREATE INDEX IF NOT EXISTS messages_by_age ON messages (topic, ts);

-- per topic and origin: every seq <= low is done (held, pruned by retention, or given up after a gap)
CREATE TABLE IF NOT EXISTS origins (
  topic  TEXT    NOT NULL,
  origin TEXT    NOT NULL,
  low    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (topic, origin)
) WITHOUT ROWID;

-- topics this node keeps, their retention overrides (NULL: store default) and running totals
CREATE TABLE IF NOT EXISTS topics (
  topic        TEXT PRIMARY KEY,
  messages     INTEGER NOT NULL DEFAULT 0,
  bytes        INTEGER NOT NULL DEFAULT 0,
  max_messages INTEGER,
  max_bytes    INTEGER,
  max_age_ms   INTEGER
) WITHOUT ROWID;

-- our own last published seq per topic, so a restart never reuses an id even after retention,
-- and the body hash of that message, so the next one links to it (the hash chain, see envelope.ts)
CREATE TABLE IF NOT EXISTS publish_seq (
  topic TEXT PRIMARY KEY,
  seq   INTEGER NOT NULL,
  hash  BLOB
) WITHOUT ROWID;

-- named consumers: last acknowledged seq per origin
CREATE TABLE IF NOT EXISTS cursors (
  consumer TEXT    NOT NULL,
  topic    TEXT    NOT NULL,
  origin   TEXT    NOT NULL,
  seq      INTEGER NOT NULL,
  PRIMARY KEY (consumer, topic, origin)
) WITHOUT ROWID;
`

/** Bring a data dir written by an older gossipd up to this schema. */
export function migrate (db: { prepare: (sql: string) => { all: () => unknown[], run: () => unknown } }): void {
  const cols = db.prepare('PRAGMA table_info(publish_seq)').all() as Array<{ name: string }>
  if (!cols.some(c => c.name === 'hash')) db.prepare('ALTER TABLE publish_seq ADD COLUMN hash BLOB').run()
}
