/**
 * Schema migrations, applied in order; `PRAGMA user_version` records the last
 * one applied. Never edit a released migration: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: file-hash memo. Keyed by path; a row is valid only while size, mtime and
  // inode all match, so an edited or replaced file is hashed again.
  `CREATE TABLE file_memo (
     path       TEXT PRIMARY KEY,
     size       INTEGER NOT NULL,
     mtime_ns   TEXT NOT NULL,
     ino        TEXT NOT NULL,
     sha256     TEXT NOT NULL,
     probe      TEXT,
     checked_at INTEGER NOT NULL
   );`,
  // 2: uploads. The provider's URL for a file's bytes, reused until it ages out.
  `CREATE TABLE uploads (
     provider    TEXT NOT NULL,
     sha256      TEXT NOT NULL,
     url         TEXT NOT NULL,
     uploaded_at INTEGER NOT NULL,
     PRIMARY KEY (provider, sha256)
   );`,
  // 3: renders (one row per cache key, with its claim), the last key each scene
  // rendered with (to explain misses), and the run ledger.
  `CREATE TABLE renders (
     key            TEXT PRIMARY KEY,
     provider       TEXT NOT NULL,
     model          TEXT NOT NULL,
     status         TEXT NOT NULL CHECK (status IN ('pending','submitting','in-flight','complete','failed','ambiguous')),
     prediction_id  TEXT,
     episode_id     TEXT NOT NULL,
     scene_id       TEXT NOT NULL,
     seed           INTEGER NOT NULL,
     inputs         TEXT NOT NULL,
     estimate_usd   REAL NOT NULL,
     clip_path      TEXT,
     clip_sha256    TEXT,
     clip_bytes     INTEGER,
     video_seconds  REAL,
     billed_seconds INTEGER,
     cost_usd       REAL,
     error          TEXT,
     attempts       INTEGER NOT NULL DEFAULT 0,
     owner          TEXT,
     lease_until    INTEGER,
     created_at     INTEGER NOT NULL,
     updated_at     INTEGER NOT NULL,
     submitted_at   INTEGER,
     completed_at   INTEGER
   );
   CREATE INDEX renders_status ON renders (status);
   CREATE TABLE scene_keys (
     episode_id TEXT NOT NULL,
     scene_id   TEXT NOT NULL,
     key        TEXT NOT NULL,
     inputs     TEXT NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (episode_id, scene_id)
   );
   CREATE TABLE runs (
     id           INTEGER PRIMARY KEY AUTOINCREMENT,
     started_at   INTEGER NOT NULL,
     finished_at  INTEGER,
     pid          INTEGER NOT NULL,
     provider     TEXT NOT NULL,
     args         TEXT NOT NULL,
     budget_usd   REAL,
     planned_usd  REAL NOT NULL,
     spent_usd    REAL NOT NULL DEFAULT 0,
     result       TEXT
   );
   CREATE TABLE run_scenes (
     run_id     INTEGER NOT NULL REFERENCES runs (id),
     episode_id TEXT NOT NULL,
     scene_id   TEXT NOT NULL,
     key        TEXT NOT NULL,
     outcome    TEXT NOT NULL,
     cost_usd   REAL NOT NULL DEFAULT 0,
     error      TEXT,
     PRIMARY KEY (run_id, episode_id, scene_id)
   );`,
  // 4: paid attempts per key: predictions that completed (and so were billed).
  // A key paid twice without a usable clip is held, not paid a third time.
  `ALTER TABLE renders ADD COLUMN paid_attempts INTEGER NOT NULL DEFAULT 0;`,
  // 5: what a finished run wants the user to know beyond its result (an episode
  // that could not be written), shown by `duologue status`.
  `ALTER TABLE runs ADD COLUMN note TEXT;`,
  // 6: what a submit sent and when (the prediction list is searched with it if its answer is lost).
  `ALTER TABLE renders ADD COLUMN submit_sent TEXT;`,
  // 7: the provider refused the scene itself (moderation, bad input): not tried again until it changes.
  `ALTER TABLE renders ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;`,
  // 8: every prediction id a key has had (a lost answer is never matched to an older one).
  `ALTER TABLE renders ADD COLUMN prediction_ids TEXT;`,
  // 9: how many times in a row a finished prediction's output could not be fetched.
  `ALTER TABLE renders ADD COLUMN output_misses INTEGER NOT NULL DEFAULT 0;`,
  // 10: the prediction a run's submit created, on that run's row (reconcile attributes charges by it).
  `ALTER TABLE run_scenes ADD COLUMN prediction_id TEXT;`,
  // 11: fencing tokens and worker heartbeats (issue 13). Every claim takes the
  // next claim_epoch and every later write of that claim is conditional on it,
  // so a worker paused past its lease can write nothing. A run records who runs
  // it (host:pid:start:nonce), its last heartbeat and its lease, for `status`.
  `ALTER TABLE renders ADD COLUMN claim_epoch INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE runs ADD COLUMN owner TEXT;
   ALTER TABLE runs ADD COLUMN heartbeat_at INTEGER;
   ALTER TABLE runs ADD COLUMN lease_ms INTEGER;`,
  // 12: the account's submit window, shared by every process on the cache: one row per granted
  // start slot (a process takes them in blocks), and when a 429's Retry-After lets anyone send again.
  // `account` is a salted hash of the API key, never the key.
  `CREATE TABLE submit_starts (
     slot    INTEGER PRIMARY KEY AUTOINCREMENT,
     account TEXT NOT NULL,
     at      INTEGER NOT NULL
   );
   CREATE INDEX submit_starts_account_at ON submit_starts (account, at);
   CREATE TABLE submit_pauses (
     account TEXT PRIMARY KEY,
     until   INTEGER NOT NULL
   );`,
  // 13: named runs (`--run NAME`): workers started with one name share one runs row, its cap and its
  // plan fingerprint (a worker that disagrees is refused before it spends), and one table of holds,
  // so spent + held <= cap is checked in one IMMEDIATE transaction whatever process reserves.
  `ALTER TABLE runs ADD COLUMN name TEXT;
   ALTER TABLE runs ADD COLUMN cap_json TEXT;
   ALTER TABLE runs ADD COLUMN plan_fingerprint TEXT;
   CREATE UNIQUE INDEX runs_name ON runs (name) WHERE name IS NOT NULL;
   CREATE TABLE run_holds (
     id         INTEGER PRIMARY KEY AUTOINCREMENT,
     run_id     INTEGER NOT NULL REFERENCES runs (id),
     pool       TEXT NOT NULL,
     cache_key  TEXT NOT NULL,
     usd        REAL NOT NULL,
     state      TEXT NOT NULL CHECK (state IN ('held','spent')),
     owner      TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX run_holds_run ON run_holds (run_id, pool);`,
  // 14: one stitcher per episode output (issue 13). Keyed by a fingerprint of the episode's inputs and
  // target, claimed with a lease and a fencing epoch like renders; a written row is done for everyone.
  `CREATE TABLE episode_stitches (
     key           TEXT PRIMARY KEY,
     episode_id    TEXT NOT NULL,
     target        TEXT NOT NULL,
     status        TEXT NOT NULL CHECK (status IN ('open','written')),
     run_id        INTEGER,
     owner         TEXT,
     lease_until   INTEGER,
     claim_epoch   INTEGER NOT NULL DEFAULT 0,
     written_by    TEXT,
     written_at    INTEGER,
     output_bytes  INTEGER,
     output_sha256 TEXT,
     created_at    INTEGER NOT NULL,
     updated_at    INTEGER NOT NULL
   );`,
  // 15: the workers of named runs, for `duologue status` (issue 13). A named run's row is shared by every
  // worker, so each one that joins gets a row of its own (who, heartbeat, lease, finished); a scene records
  // which worker wrote it (its done count); and the run keeps the seeds its first worker drew for
  // `seed: random`, so every joiner plans the same keys.
  `CREATE TABLE run_workers (
     id           INTEGER PRIMARY KEY AUTOINCREMENT,
     run_id       INTEGER NOT NULL REFERENCES runs (id),
     owner        TEXT NOT NULL,
     pid          INTEGER NOT NULL,
     started_at   INTEGER NOT NULL,
     heartbeat_at INTEGER,
     lease_ms     INTEGER,
     finished_at  INTEGER
   );
   CREATE INDEX run_workers_owner ON run_workers (owner);
   ALTER TABLE run_scenes ADD COLUMN owner TEXT;
   ALTER TABLE runs ADD COLUMN seeds_json TEXT;`,
];
