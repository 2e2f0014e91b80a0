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
];
