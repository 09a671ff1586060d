//! The collector's SQLite database (`SPEC.md` §16).
//!
//! It holds only what the public outputs need: verifying keys, registry files and petition files
//! (exact bytes), and for each accepted signature its petition id, nullifier and canonical
//! compact JSON line. No address, user agent or time is stored with anything.
//!
//! - WAL journal with `synchronous = FULL`: a transaction is on disk (the WAL fsynced) when
//!   `COMMIT` returns, so an acknowledged signature survives a crash or power loss.
//! - Exclusive locking (the WAL index lives in the process's memory, no `-shm` file),
//!   `secure_delete = ON` (freed content is overwritten with zeros), temporary tables in
//!   memory, and [`Store::checkpoint`] (`wal_checkpoint(TRUNCATE)`) after every commit: the WAL
//!   file holds at most the transaction in flight, so it records no arrival order.
//! - Each signature row carries a `published` flag (0 until its publication, `SPEC.md` §16) and
//!   nothing else about when it arrived; [`Store::vacuum`] after a publication rewrites the
//!   tables in key order, so the order of cells inside pages no longer follows arrival.
//! - `signatures` is a `WITHOUT ROWID` table whose primary key `(petition, nullifier)` is the
//!   one uniqueness constraint: rows are kept in nullifier order, with no rowid or insertion
//!   counter that would record arrival order, and a second signature with a counted nullifier
//!   fails to insert whatever races happened before.

use crate::error::StoreError;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "collector.sqlite3";

/// The schema version in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS verifying_keys (
    hash TEXT PRIMARY KEY NOT NULL,
    key  BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS registries (
    id   BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 32),
    file BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS petitions (
    id       BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 32),
    registry BLOB NOT NULL REFERENCES registries (id),
    file     BLOB NOT NULL,
    closed   INTEGER NOT NULL DEFAULT 0 CHECK (closed IN (0, 1)),
    publications INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS signatures (
    petition  BLOB NOT NULL REFERENCES petitions (id),
    nullifier BLOB NOT NULL CHECK (length(nullifier) = 32),
    line      TEXT NOT NULL,
    published INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1)),
    PRIMARY KEY (petition, nullifier)
) WITHOUT ROWID;
";

/// From schema version 1 (no publication epochs): every stored signature was public already.
const MIGRATE_1_TO_2: &str = "
ALTER TABLE petitions ADD COLUMN publications INTEGER NOT NULL DEFAULT 0;
ALTER TABLE signatures ADD COLUMN published INTEGER NOT NULL DEFAULT 0
    CHECK (published IN (0, 1));
UPDATE signatures SET published = 1;
UPDATE petitions SET publications = 1 WHERE id IN (SELECT DISTINCT petition FROM signatures);
";

/// A stored petition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPetition {
    /// The petition id (blake3 of the file).
    pub id: [u8; 32],
    /// The exact petition file.
    pub file: Vec<u8>,
    /// Whether it no longer takes signatures.
    pub closed: bool,
    /// How many publications it has had.
    pub publications: u64,
}

/// A stored registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRegistry {
    /// The registry id.
    pub id: [u8; 32],
    /// The exact registry file.
    pub file: Vec<u8>,
}

/// One signature to insert.
#[derive(Debug, Clone, Copy)]
pub struct NewSignature<'a> {
    /// The petition id.
    pub petition: &'a [u8; 32],
    /// The nullifier's canonical (big-endian) bytes.
    pub nullifier: &'a [u8; 32],
    /// The canonical compact JSON line.
    pub line: &'a str,
}

/// What happened to one inserted signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// Stored (once the batch's transaction committed).
    New,
    /// The nullifier is already counted for this petition; the stored line is returned.
    Duplicate {
        /// The line stored earlier for this nullifier.
        existing: Option<String>,
    },
}

/// A connection to the collector database.
pub struct Store {
    conn: Connection,
}

fn blob32(bytes: Vec<u8>, what: &str) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| StoreError::BadValue(format!("{what} is not 32 bytes")))
}

fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

impl Store {
    /// Opens (creating if needed) the database at `path` for reading and writing: exclusive
    /// locking, WAL journal (its index in memory), `synchronous = FULL`, `secure_delete = ON`,
    /// temporary storage in memory, foreign keys on, schema created or migrated. While it is
    /// open no other connection can read the database.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // Before the first access: in exclusive mode the WAL index is kept in heap memory, so
        // no `-shm` file lists which pages the latest transactions wrote.
        let locking: String =
            conn.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |row| row.get(0))?;
        if !locking.eq_ignore_ascii_case("exclusive") {
            return Err(StoreError::BadValue(format!(
                "could not take the database's exclusive lock (got {locking})"
            )));
        }
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::BadValue(format!(
                "could not switch the journal to WAL (got {mode})"
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "secure_delete", true)?;
        // VACUUM builds its copy in a temporary database: keep it in memory, not in /tmp.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::BadValue(format!(
                "the database has schema version {version}; this program knows {SCHEMA_VERSION}"
            )));
        }
        let fresh: bool = conn.query_row(
            "SELECT count(*) = 0 FROM sqlite_master WHERE name = 'signatures'",
            [],
            |row| row.get(0),
        )?;
        if version == 1 && !fresh {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(MIGRATE_1_TO_2)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            tx.commit()?;
        }
        conn.execute_batch(SCHEMA)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        let store = Self { conn };
        store.checkpoint()?;
        Ok(store)
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)`: copies every committed page into the main file and
    /// truncates the WAL to zero bytes. `Ok(false)` if it could not finish (a reader was in the
    /// way; the WAL then keeps its frames until the next checkpoint).
    pub fn checkpoint(&self) -> Result<bool, StoreError> {
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
        Ok(busy == 0)
    }

    /// `VACUUM`, then a truncating checkpoint: rebuilds the database file with every table
    /// written in key order (erasing the insertion order of cells inside pages) and leaves an
    /// empty WAL.
    pub fn vacuum(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("VACUUM")?;
        self.checkpoint()?;
        Ok(())
    }

    /// Opens the database read-only (for inspecting a database no server has open: a running
    /// server holds the database's exclusive lock).
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        Ok(Self { conn })
    }

    /// `PRAGMA integrity_check`: `"ok"` for a sound database.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let lines: Vec<String> = stmt
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(lines.join("\n"))
    }

    /// Every stored verifying key: `(hash, compressed key bytes)`.
    pub fn verifying_keys(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT hash, key FROM verifying_keys ORDER BY hash")?;
        let keys = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(keys)
    }

    /// Stores a verifying key (no-op if its hash is already stored).
    pub fn add_verifying_key(&mut self, hash: &str, key: &[u8]) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO verifying_keys (hash, key) VALUES (?1, ?2)",
            params![hash, key],
        )?;
        Ok(())
    }

    /// Every stored registry.
    pub fn registries(&self) -> Result<Vec<StoredRegistry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, file FROM registries ORDER BY id")?;
        let rows: Vec<(Vec<u8>, Vec<u8>)> = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(id, file)| {
                Ok(StoredRegistry {
                    id: blob32(id, "registry id")?,
                    file,
                })
            })
            .collect()
    }

    /// Stores or replaces a registry file, in one transaction.
    pub fn put_registry(&mut self, id: &[u8; 32], file: &[u8]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO registries (id, file) VALUES (?1, ?2)
             ON CONFLICT (id) DO UPDATE SET file = excluded.file",
            params![&id[..], file],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every stored petition.
    pub fn petitions(&self) -> Result<Vec<StoredPetition>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, file, closed, publications FROM petitions ORDER BY id")?;
        let rows: Vec<(Vec<u8>, Vec<u8>, bool, i64)> = stmt
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(id, file, closed, publications)| {
                Ok(StoredPetition {
                    id: blob32(id, "petition id")?,
                    file,
                    closed,
                    publications: u64::try_from(publications)
                        .map_err(|_| StoreError::BadValue("negative publications".into()))?,
                })
            })
            .collect()
    }

    /// Stores a petition; `false` if one with this id is already stored (nothing changes).
    pub fn insert_petition(
        &mut self,
        id: &[u8; 32],
        registry: &[u8; 32],
        file: &[u8],
    ) -> Result<bool, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "INSERT OR IGNORE INTO petitions (id, registry, file, closed) VALUES (?1, ?2, ?3, 0)",
            params![&id[..], &registry[..], file],
        )?;
        tx.commit()?;
        Ok(changed == 1)
    }

    /// Marks a petition closed; `false` if there is no such petition.
    pub fn close_petition(&mut self, id: &[u8; 32]) -> Result<bool, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE petitions SET closed = 1 WHERE id = ?1",
            params![&id[..]],
        )?;
        tx.commit()?;
        Ok(changed == 1)
    }

    /// Publishes every pending signature of `petition` and counts one more publication, in one
    /// transaction. Returns `(signatures newly published, publications so far)`.
    pub fn publish(&mut self, petition: &[u8; 32]) -> Result<(u64, u64), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE signatures SET published = 1 WHERE petition = ?1 AND published = 0",
            params![&petition[..]],
        )?;
        tx.execute(
            "UPDATE petitions SET publications = publications + 1 WHERE id = ?1",
            params![&petition[..]],
        )?;
        let publications: i64 = tx.query_row(
            "SELECT publications FROM petitions WHERE id = ?1",
            params![&petition[..]],
            |row| row.get(0),
        )?;
        tx.commit()?;
        Ok((
            changed as u64,
            u64::try_from(publications)
                .map_err(|_| StoreError::BadValue("negative publications".into()))?,
        ))
    }

    /// The number of stored signatures of `petition` not yet published.
    pub fn pending(&self, petition: &[u8; 32]) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM signatures WHERE petition = ?1 AND published = 0",
            params![&petition[..]],
            |row| row.get(0),
        )?;
        u64::try_from(n).map_err(|_| StoreError::BadValue("negative count".into()))
    }

    /// Inserts signatures, unpublished, in one transaction (group commit). Each gets [`Inserted::New`] or,
    /// when the `(petition, nullifier)` constraint rejects it, [`Inserted::Duplicate`].
    /// Only when this returns `Ok` has the transaction committed (and the WAL been synced);
    /// on `Err` nothing of the batch is stored.
    pub fn insert_signatures(
        &mut self,
        rows: &[NewSignature<'_>],
    ) -> Result<Vec<Inserted>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut results = Vec::with_capacity(rows.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO signatures (petition, nullifier, line, published)
                 VALUES (?1, ?2, ?3, 0)",
            )?;
            let mut existing = tx.prepare_cached(
                "SELECT line FROM signatures WHERE petition = ?1 AND nullifier = ?2",
            )?;
            for row in rows {
                match insert.execute(params![&row.petition[..], &row.nullifier[..], row.line]) {
                    Ok(_) => results.push(Inserted::New),
                    Err(e) if is_unique_violation(&e) => {
                        let line: Option<String> = existing
                            .query_row(params![&row.petition[..], &row.nullifier[..]], |r| r.get(0))
                            .optional()?;
                        results.push(Inserted::Duplicate { existing: line });
                    }
                    // Any other failure (disk full, I/O) may have rolled the transaction back:
                    // give up on the whole batch; dropping `tx` rolls back what is left.
                    Err(e) => return Err(e.into()),
                }
            }
        }
        tx.commit()?;
        Ok(results)
    }

    /// Runs `f` inside one read transaction, so that everything it reads comes from the same
    /// snapshot of the database.
    pub fn snapshot<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let out = f(self)?;
        tx.finish()?;
        Ok(out)
    }

    /// The number of signatures stored (published or not) for `petition`.
    pub fn count(&self, petition: &[u8; 32]) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM signatures WHERE petition = ?1",
            params![&petition[..]],
            |row| row.get(0),
        )?;
        u64::try_from(n).map_err(|_| StoreError::BadValue("negative count".into()))
    }

    /// Every nullifier stored (published or not) for `petition`, as its 32 key bytes.
    pub fn nullifiers(&self, petition: &[u8; 32]) -> Result<Vec<[u8; 32]>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT nullifier FROM signatures WHERE petition = ?1")?;
        let mut rows = stmt.query(params![&petition[..]])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(blob32(row.get(0)?, "nullifier")?);
        }
        Ok(out)
    }

    /// The stored line of `petition`'s signature with this nullifier key, if any.
    pub fn line(
        &self,
        petition: &[u8; 32],
        nullifier: &[u8; 32],
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT line FROM signatures WHERE petition = ?1 AND nullifier = ?2")?
            .query_row(params![&petition[..], &nullifier[..]], |r| r.get(0))
            .optional()?)
    }

    /// Calls `f` with each published line of `petition` in ascending nullifier order (the
    /// bundle's order) until it returns `false`.
    pub fn for_each_line(
        &self,
        petition: &[u8; 32],
        mut f: impl FnMut(&str) -> bool,
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT line FROM signatures WHERE petition = ?1 AND published = 1 ORDER BY nullifier",
        )?;
        let mut rows = stmt.query(params![&petition[..]])?;
        while let Some(row) = rows.next()? {
            let line = row
                .get_ref(0)?
                .as_str()
                .map_err(|e| StoreError::BadValue(e.to_string()))?;
            if !f(line) {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join(DB_FILE)).unwrap();
        (dir, store)
    }

    #[test]
    fn the_primary_key_refuses_a_second_nullifier_and_keeps_nullifier_order() {
        let (dir, mut store) = store();
        store.put_registry(&[1; 32], b"registry").unwrap();
        assert!(store
            .insert_petition(&[2; 32], &[1; 32], b"petition")
            .unwrap());
        assert!(!store.insert_petition(&[2; 32], &[1; 32], b"other").unwrap());
        let row = |n: &'static [u8; 32], line: &'static str| NewSignature {
            petition: &[2; 32],
            nullifier: n,
            line,
        };
        let out = store
            .insert_signatures(&[
                row(&[9; 32], "nine"),
                row(&[3; 32], "three"),
                row(&[9; 32], "again"),
            ])
            .unwrap();
        assert_eq!(
            out,
            vec![
                Inserted::New,
                Inserted::New,
                Inserted::Duplicate {
                    existing: Some("nine".into())
                }
            ]
        );
        let mut lines = Vec::new();
        store
            .for_each_line(&[2; 32], |_| panic!("nothing is published yet"))
            .unwrap();
        assert_eq!(store.pending(&[2; 32]).unwrap(), 2);
        assert_eq!(store.publish(&[2; 32]).unwrap(), (2, 1));
        assert_eq!(store.pending(&[2; 32]).unwrap(), 0);
        assert_eq!(store.publish(&[2; 32]).unwrap(), (0, 2));
        store.vacuum().unwrap();
        store
            .for_each_line(&[2; 32], |l| {
                lines.push(l.to_owned());
                true
            })
            .unwrap();
        assert_eq!(lines, ["three", "nine"]);
        assert_eq!(store.count(&[2; 32]).unwrap(), 2);
        assert_eq!(store.integrity_check().unwrap(), "ok");
        drop(store);

        let reader = Store::open_read_only(&dir.path().join(DB_FILE)).unwrap();
        let n = reader.snapshot(|s| s.count(&[2; 32])).unwrap();
        assert_eq!(n, 2);
        assert_eq!(reader.petitions().unwrap()[0].file, b"petition");
    }

    #[test]
    fn a_signature_for_an_unknown_petition_is_refused_whole_batch() {
        let (_dir, mut store) = store();
        let err = store.insert_signatures(&[NewSignature {
            petition: &[7; 32],
            nullifier: &[1; 32],
            line: "x",
        }]);
        assert!(err.is_err());
        assert_eq!(store.count(&[7; 32]).unwrap(), 0);
    }

    #[test]
    fn closing_and_replacing() {
        let (_dir, mut store) = store();
        store.put_registry(&[1; 32], b"v1").unwrap();
        store.put_registry(&[1; 32], b"v2").unwrap();
        assert_eq!(
            store.registries().unwrap(),
            vec![StoredRegistry {
                id: [1; 32],
                file: b"v2".to_vec()
            }]
        );
        store.insert_petition(&[2; 32], &[1; 32], b"p").unwrap();
        assert!(store.close_petition(&[2; 32]).unwrap());
        assert!(!store.close_petition(&[3; 32]).unwrap());
        assert!(store.petitions().unwrap()[0].closed);
        store.add_verifying_key("ab", b"key").unwrap();
        store.add_verifying_key("ab", b"key").unwrap();
        assert_eq!(store.verifying_keys().unwrap().len(), 1);
    }
}
