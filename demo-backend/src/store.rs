//! The blog's own SQLite file: articles, each user's reading list, comments. Users are known
//! only by the `sub` of their access tokens; the auth server's store is not shared.

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use rusqlite::{params, Connection, OptionalExtension, Row};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database task failed")]
    Task,
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    pub slug: String,
    pub title: String,
    pub author: String,
    pub published: String,
    pub summary: String,
    /// Paragraphs separated by blank lines; lines starting with `## ` are subheadings.
    pub body: String,
    pub minutes: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: i64,
    pub author_name: String,
    pub body: String,
    pub created_at: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReadingEntry {
    pub slug: String,
    pub title: String,
    pub saved: bool,
    /// How far the reader got, 0 to 1.
    pub progress: f64,
    pub updated_at: u64,
}

// Reading-list rows and comments name the user by token `sub` only: deleting a user on the
// auth server leaves what it wrote (the backend is not told, and need not be).
const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS articles (
        id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE, title TEXT NOT NULL, author TEXT NOT NULL,
        published TEXT NOT NULL, summary TEXT NOT NULL, body TEXT NOT NULL, minutes INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS reading (
        user_id TEXT NOT NULL, article_id INTEGER NOT NULL REFERENCES articles(id),
        saved INTEGER NOT NULL DEFAULT 0, progress REAL NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, article_id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS comments (
        id INTEGER PRIMARY KEY, article_id INTEGER NOT NULL REFERENCES articles(id), author_id TEXT NOT NULL,
        author_name TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS comments_by_article ON comments(article_id, created_at);
    -- Merge proofs this backend has acted on (docs/merge.md): written in the transaction that
    -- moves the guest's rows, so a proof moves them once, and a crash moves nothing.
    CREATE TABLE IF NOT EXISTS merges (
        jti TEXT PRIMARY KEY, from_user TEXT NOT NULL, into_user TEXT NOT NULL,
        moved INTEGER NOT NULL, merged_at INTEGER NOT NULL
    );
";

/// What a merge moved from a guest's reading list into an account's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merged {
    /// The guest's entries (saved or started) now in the account's list.
    pub moved: usize,
    /// Of them, articles saved by the guest that the account had not saved.
    pub saved_added: usize,
    /// Of them, entries whose progress replaced the account's (the guest's was newer).
    pub progress_taken: usize,
}

/// One connection: the demo's load is a few readers, and one connection keeps writes serial.
#[derive(Clone)]
pub struct BlogStore {
    conn: Arc<Mutex<Connection>>,
}

fn article_row(r: &Row<'_>) -> rusqlite::Result<Article> {
    Ok(Article {
        slug: r.get(0)?,
        title: r.get(1)?,
        author: r.get(2)?,
        published: r.get(3)?,
        summary: r.get(4)?,
        body: r.get(5)?,
        minutes: r.get(6)?,
    })
}

fn reading_row(r: &Row<'_>) -> rusqlite::Result<ReadingEntry> {
    Ok(ReadingEntry {
        slug: r.get(0)?,
        title: r.get(1)?,
        saved: r.get(2)?,
        progress: r.get(3)?,
        updated_at: r.get::<_, i64>(4)? as u64,
    })
}

impl BlogStore {
    pub fn open(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.execute_batch(SCHEMA)?;
        Ok(BlogStore { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Runs `work` on the connection off the async threads.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut conn)
        })
        .await
        .map_err(|_| StoreError::Task)?
    }
}

/// Inserts the articles not already there (by slug); returns how many were new.
pub fn seed_articles(conn: &mut Connection, seeds: &[Article]) -> StoreResult<usize> {
    let tx = conn.transaction()?;
    let mut added = 0;
    for a in seeds {
        added += tx
            .prepare_cached(
                "INSERT INTO articles (slug, title, author, published, summary, body, minutes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (slug) DO NOTHING",
            )?
            .execute(params![a.slug, a.title, a.author, a.published, a.summary, a.body, a.minutes])?;
    }
    tx.commit()?;
    Ok(added)
}

/// Every article, newest first, without bodies.
pub fn articles(conn: &mut Connection) -> StoreResult<Vec<Article>> {
    let mut stmt = conn.prepare_cached(
        "SELECT slug, title, author, published, summary, '', minutes FROM articles ORDER BY published DESC, id",
    )?;
    let rows = stmt.query_map([], article_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn article(conn: &mut Connection, slug: &str) -> StoreResult<Option<(Article, Vec<Comment>)>> {
    let article = conn
        .prepare_cached("SELECT slug, title, author, published, summary, body, minutes FROM articles WHERE slug = ?1")?
        .query_row([slug], article_row)
        .optional()?;
    let Some(article) = article else { return Ok(None) };
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.author_name, c.body, c.created_at FROM comments c JOIN articles a ON a.id = c.article_id
         WHERE a.slug = ?1 ORDER BY c.created_at, c.id",
    )?;
    let comments = stmt
        .query_map([slug], |r| {
            Ok(Comment {
                id: r.get(0)?,
                author_name: r.get(1)?,
                body: r.get(2)?,
                created_at: r.get::<_, i64>(3)? as u64,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some((article, comments)))
}

/// The articles a user saved or started, most recently touched first.
pub fn reading_list(conn: &mut Connection, user_id: &str) -> StoreResult<Vec<ReadingEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.slug, a.title, r.saved, r.progress, r.updated_at FROM reading r JOIN articles a ON a.id = r.article_id
         WHERE r.user_id = ?1 AND (r.saved = 1 OR r.progress > 0) ORDER BY r.updated_at DESC, a.slug",
    )?;
    let rows = stmt.query_map([user_id], reading_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn article_id(tx: &rusqlite::Transaction<'_>, slug: &str) -> StoreResult<Option<i64>> {
    Ok(tx.prepare_cached("SELECT id FROM articles WHERE slug = ?1")?.query_row([slug], |r| r.get(0)).optional()?)
}

/// Sets what is given of an entry; `None` if there is no such article.
pub fn update_reading(
    conn: &mut Connection,
    user_id: &str,
    slug: &str,
    saved: Option<bool>,
    progress: Option<f64>,
    now: u64,
) -> StoreResult<Option<ReadingEntry>> {
    let tx = conn.transaction()?;
    let Some(article_id) = article_id(&tx, slug)? else { return Ok(None) };
    tx.prepare_cached(
        "INSERT INTO reading (user_id, article_id, saved, progress, updated_at)
         VALUES (?1, ?2, coalesce(?3, 0), coalesce(?4, 0), ?5)
         ON CONFLICT (user_id, article_id) DO UPDATE SET
             saved = coalesce(?3, saved), progress = coalesce(?4, progress), updated_at = ?5",
    )?
    .execute(params![user_id, article_id, saved, progress, now as i64])?;
    let entry = tx
        .prepare_cached(
            "SELECT a.slug, a.title, r.saved, r.progress, r.updated_at FROM reading r JOIN articles a ON a.id = r.article_id
             WHERE r.user_id = ?1 AND r.article_id = ?2",
        )?
        .query_row(params![user_id, article_id], reading_row)?;
    tx.commit()?;
    Ok(Some(entry))
}

/// Adds a comment; `None` if there is no such article.
pub fn add_comment(
    conn: &mut Connection,
    slug: &str,
    author_id: &str,
    author_name: &str,
    body: &str,
    now: u64,
) -> StoreResult<Option<Comment>> {
    let tx = conn.transaction()?;
    let Some(article_id) = article_id(&tx, slug)? else { return Ok(None) };
    tx.prepare_cached(
        "INSERT INTO comments (article_id, author_id, author_name, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![article_id, author_id, author_name, body, now as i64])?;
    let id = tx.last_insert_rowid();
    tx.commit()?;
    Ok(Some(Comment { id, author_name: author_name.to_owned(), body: body.to_owned(), created_at: now }))
}

/// Rows in `table` (for tests: what a refused request did not write).
pub fn count(conn: &mut Connection, table: &str) -> StoreResult<i64> {
    Ok(conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| r.get(0))?)
}

/// Moves `from`'s reading list into `into`'s, once per `jti`, in one transaction: `None` if
/// this proof was acted on before (nothing is written then). The union: an article saved by
/// either is saved; of two progresses, the one written later wins (with its time).
pub fn merge_reading(
    conn: &mut Connection,
    jti: &str,
    from: &str,
    into: &str,
    now: u64,
) -> StoreResult<Option<Merged>> {
    let tx = conn.transaction()?;
    let fresh = tx
        .prepare_cached(
            "INSERT INTO merges (jti, from_user, into_user, moved, merged_at) VALUES (?1, ?2, ?3, 0, ?4)
             ON CONFLICT (jti) DO NOTHING",
        )?
        .execute(params![jti, from, into, now as i64])?;
    if fresh == 0 {
        return Ok(None);
    }
    let guest: Vec<(i64, bool, f64, i64)> = tx
        .prepare_cached(
            "SELECT article_id, saved, progress, updated_at FROM reading
             WHERE user_id = ?1 AND (saved = 1 OR progress > 0)",
        )?
        .query_map([from], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let mut merged = Merged { moved: guest.len(), saved_added: 0, progress_taken: 0 };
    for (article_id, saved, progress, updated_at) in guest {
        let theirs: Option<(bool, f64, i64)> = tx
            .prepare_cached("SELECT saved, progress, updated_at FROM reading WHERE user_id = ?1 AND article_id = ?2")?
            .query_row(params![into, article_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let (saved, progress, updated_at) = match theirs {
            None => {
                merged.saved_added += usize::from(saved);
                merged.progress_taken += usize::from(progress > 0.0);
                (saved, progress, updated_at)
            }
            Some((had, their_progress, their_time)) => {
                merged.saved_added += usize::from(saved && !had);
                if updated_at > their_time {
                    merged.progress_taken += usize::from(progress != their_progress);
                    (saved || had, progress, updated_at)
                } else {
                    (saved || had, their_progress, their_time)
                }
            }
        };
        tx.prepare_cached(
            "INSERT INTO reading (user_id, article_id, saved, progress, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (user_id, article_id) DO UPDATE SET
                 saved = excluded.saved, progress = excluded.progress, updated_at = excluded.updated_at",
        )?
        .execute(params![into, article_id, saved, progress, updated_at])?;
    }
    tx.prepare_cached("DELETE FROM reading WHERE user_id = ?1")?.execute([from])?;
    tx.prepare_cached("UPDATE merges SET moved = ?2 WHERE jti = ?1")?.execute(params![jti, merged.moved as i64])?;
    tx.commit()?;
    Ok(Some(merged))
}
