// SQLite schema of the durable queue. `id` is the local log offset (arrival order on this node), given by
// the store (offsets.ts), never reused.
import type Database from 'better-sqlite3'

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  id     INTEGER PRIMARY KEY,
  topic  TEXT    NOT NULL,
  origin TEXT    NOT NULL,
  seq    INTEGER NOT NULL,
  ts     INTEGER NOT NULL,
  size   INTEGER NOT NULL,
  -- local receive (commit) time: retention ages by it, never by the origin's clock
  recv   INTEGER NOT NULL DEFAULT 0,
  raw    BLOB    NOT NULL,
  UNIQUE (topic, origin, seq)
);
CREATE INDEX IF NOT EXISTS messages_by_topic ON messages (topic, id);

-- per topic and origin: every seq <= low is done (held or pruned by retention); seqs <= skip are given up
-- (no peer had them, or a consumer's gap timeout): not waited for, but still stored if a copy comes
CREATE TABLE IF NOT EXISTS origins (
  topic  TEXT    NOT NULL,
  origin TEXT    NOT NULL,
  low    INTEGER NOT NULL DEFAULT 0,
  skip   INTEGER NOT NULL DEFAULT 0,
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

-- rows whose envelope could not be decoded, moved out of messages so the rest is served; sync
-- fetches the seq again from peers
CREATE TABLE IF NOT EXISTS quarantine (
  id     INTEGER PRIMARY KEY,
  topic  TEXT    NOT NULL,
  origin TEXT    NOT NULL,
  seq    INTEGER NOT NULL,
  ts     INTEGER NOT NULL,
  raw    BLOB    NOT NULL,
  reason TEXT    NOT NULL,
  at     INTEGER NOT NULL
);

-- streams whose origin signed two versions of one seq (core/forks.ts): blocked from seq up, across restarts
CREATE TABLE IF NOT EXISTS forks (
  topic  TEXT    NOT NULL,
  origin TEXT    NOT NULL,
  seq    INTEGER NOT NULL,
  held   TEXT    NOT NULL,
  other  TEXT    NOT NULL,
  peer   TEXT    NOT NULL,
  how    TEXT    NOT NULL,
  at     INTEGER NOT NULL,
  PRIMARY KEY (topic, origin)
) WITHOUT ROWID;

-- facts about the data dir itself, e.g. origin: the peer id whose stream publish_seq continues
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- publish idempotency keys (msg-ids.ts): the first result of each key within the duplicate window
CREATE TABLE IF NOT EXISTS publish_ids (
  topic  TEXT    NOT NULL,
  msg_id TEXT    NOT NULL,
  origin TEXT    NOT NULL,
  seq    INTEGER NOT NULL,
  ts     INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  at     INTEGER NOT NULL,
  PRIMARY KEY (topic, msg_id)
);
CREATE INDEX IF NOT EXISTS publish_ids_by_at ON publish_ids (at);

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
export function migrate (db: Database.Database): void {
  const cols = db.prepare('PRAGMA table_info(publish_seq)').all() as Array<{ name: string }>
  if (!cols.some(c => c.name === 'hash')) db.prepare('ALTER TABLE publish_seq ADD COLUMN hash BLOB').run()
  const msgCols = db.prepare('PRAGMA table_info(messages)').all() as Array<{ name: string }>
  if (!msgCols.some(c => c.name === 'recv')) {
    // rows from before have no receive time: their origin timestamp is the best estimate left.
    // One transaction: a row left at recv 0 would look ancient to age retention
    db.transaction(() => {
      db.prepare('ALTER TABLE messages ADD COLUMN recv INTEGER NOT NULL DEFAULT 0').run()
      db.prepare('UPDATE messages SET recv = ts').run()
    })()
  }
  const originCols = db.prepare('PRAGMA table_info(origins)').all() as Array<{ name: string }>
  // before, a given-up range raised low itself (lost for good): those stay as they are
  if (!originCols.some(c => c.name === 'skip')) db.prepare('ALTER TABLE origins ADD COLUMN skip INTEGER NOT NULL DEFAULT 0').run()
  db.prepare('DROP INDEX IF EXISTS messages_by_age').run()
  db.prepare('CREATE INDEX IF NOT EXISTS messages_by_recv ON messages (topic, recv)').run()
}
