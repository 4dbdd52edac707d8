//! The demo blog's tables in the same SQLite file.

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::store::*;

fn article_row(r: &Row<'_>) -> rusqlite::Result<ArticleSeed> {
    Ok(ArticleSeed {
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

impl BlogStore for SqliteStore {
    fn seed_articles(&self, seeds: &[ArticleSeed]) -> StoreResult<usize> {
        let seeds = seeds.to_vec();
        self.write(move |tx| {
            let mut added = 0;
            for a in seeds {
                added += tx
                    .prepare_cached(
                        "INSERT INTO articles (slug, title, author, published, summary, body, minutes)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (slug) DO NOTHING",
                    )?
                    .execute(params![a.slug, a.title, a.author, a.published, a.summary, a.body, a.minutes])?;
            }
            Ok(added)
        })
    }

    fn articles(&self) -> StoreResult<Vec<ArticleSeed>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT slug, title, author, published, summary, '', minutes FROM articles ORDER BY published DESC, id",
        )?;
        let rows = stmt.query_map([], article_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn article(&self, slug: &str) -> StoreResult<Option<(ArticleSeed, Vec<CommentRecord>)>> {
        let conn = self.reader();
        let article = conn
            .prepare_cached(
                "SELECT slug, title, author, published, summary, body, minutes FROM articles WHERE slug = ?1",
            )?
            .query_row([slug], article_row)
            .optional()?;
        let Some(article) = article else { return Ok(None) };
        let mut stmt = conn.prepare_cached(
            "SELECT c.id, c.author_name, c.body, c.created_at FROM comments c JOIN articles a ON a.id = c.article_id
             WHERE a.slug = ?1 ORDER BY c.created_at, c.id",
        )?;
        let comments = stmt
            .query_map([slug], |r| {
                Ok(CommentRecord {
                    id: r.get(0)?,
                    author_name: r.get(1)?,
                    body: r.get(2)?,
                    created_at: r.get::<_, i64>(3)? as u64,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Some((article, comments)))
    }

    fn reading_list(&self, user_id: &str) -> StoreResult<Vec<ReadingEntry>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT a.slug, a.title, r.saved, r.progress, r.updated_at FROM reading r JOIN articles a ON a.id = r.article_id
             WHERE r.user_id = ?1 AND (r.saved = 1 OR r.progress > 0) ORDER BY r.updated_at DESC, a.slug",
        )?;
        let rows = stmt.query_map([user_id], reading_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn update_reading(
        &self,
        user_id: &str,
        slug: &str,
        saved: Option<bool>,
        progress: Option<f64>,
        now: u64,
    ) -> StoreResult<Option<ReadingEntry>> {
        let user_id = user_id.to_owned();
        let slug = slug.to_owned();
        self.write(move |tx| {
            let article_id: Option<i64> =
                tx.prepare_cached("SELECT id FROM articles WHERE slug = ?1")?.query_row([slug], |r| r.get(0)).optional()?;
            let Some(article_id) = article_id else { return Ok(None) };
            tx.prepare_cached(
                "INSERT INTO reading (user_id, article_id, saved, progress, updated_at)
                 VALUES (?1, ?2, coalesce(?3, 0), coalesce(?4, 0), ?5)
                 ON CONFLICT (user_id, article_id) DO UPDATE SET
                     saved = coalesce(?3, saved),
                     progress = coalesce(?4, progress),
                     updated_at = ?5",
            )?
            .execute(params![user_id, article_id, saved, progress, now as i64])?;
            let entry = tx
                .prepare_cached(
                    "SELECT a.slug, a.title, r.saved, r.progress, r.updated_at FROM reading r JOIN articles a ON a.id = r.article_id
                     WHERE r.user_id = ?1 AND r.article_id = ?2",
                )?
                .query_row(params![user_id, article_id], reading_row)?;
            Ok(Some(entry))
        })
    }

    fn add_comment(
        &self,
        slug: &str,
        author_id: &str,
        author_name: &str,
        body: &str,
        now: u64,
    ) -> StoreResult<Option<CommentRecord>> {
        let slug = slug.to_owned();
        let author_id = author_id.to_owned();
        let author_name = author_name.to_owned();
        let body = body.to_owned();
        self.write(move |tx| {
                let article_id: Option<i64> = tx
                    .prepare_cached("SELECT id FROM articles WHERE slug = ?1")?
                    .query_row([slug], |r| r.get(0))
                    .optional()?;
                let Some(article_id) = article_id else { return Ok(None) };
                tx.prepare_cached(
                "INSERT INTO comments (article_id, author_id, author_name, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![article_id, author_id, author_name, body, now as i64])?;
                let id = tx.last_insert_rowid();
                Ok(Some(CommentRecord { id, author_name: author_name.to_owned(), body: body.to_owned(), created_at: now }))
        })
    }
}
