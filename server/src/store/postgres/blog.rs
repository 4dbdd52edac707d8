//! The demo blog's tables in the same PostgreSQL database.

use ::postgres::Row;

use super::PostgresStore;
use crate::store::*;

fn article_row(r: &Row) -> ArticleSeed {
    ArticleSeed {
        slug: r.get(0),
        title: r.get(1),
        author: r.get(2),
        published: r.get(3),
        summary: r.get(4),
        body: r.get(5),
        minutes: r.get::<_, i32>(6) as u32,
    }
}

fn reading_row(r: &Row) -> ReadingEntry {
    ReadingEntry {
        slug: r.get(0),
        title: r.get(1),
        saved: r.get(2),
        progress: r.get(3),
        updated_at: r.get::<_, i64>(4) as u64,
    }
}

impl BlogStore for PostgresStore {
    fn seed_articles(&self, seeds: &[ArticleSeed]) -> StoreResult<usize> {
        self.write(|tx| {
            let mut added = 0;
            for a in seeds {
                added += tx.execute(
                    "INSERT INTO articles (slug, title, author, published, summary, body, minutes)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (slug) DO NOTHING",
                    &[&a.slug, &a.title, &a.author, &a.published, &a.summary, &a.body, &(a.minutes as i32)],
                )?;
            }
            Ok(added as usize)
        })
    }

    fn articles(&self) -> StoreResult<Vec<ArticleSeed>> {
        self.read(|db| {
            let rows = db.query(
                "SELECT slug, title, author, published, summary, '', minutes FROM articles ORDER BY published DESC, id",
                &[],
            )?;
            Ok(rows.iter().map(article_row).collect())
        })
    }

    fn article(&self, slug: &str) -> StoreResult<Option<(ArticleSeed, Vec<CommentRecord>)>> {
        self.read(|db| {
            let Some(article) = db.query_opt(
                "SELECT slug, title, author, published, summary, body, minutes FROM articles WHERE slug = $1",
                &[&slug],
            )?
            else {
                return Ok(None);
            };
            let comments = db
                .query(
                    "SELECT c.id, c.author_name, c.body, c.created_at FROM comments c JOIN articles a ON a.id = c.article_id
                     WHERE a.slug = $1 ORDER BY c.created_at, c.id",
                    &[&slug],
                )?
                .iter()
                .map(|r| CommentRecord {
                    id: r.get(0),
                    author_name: r.get(1),
                    body: r.get(2),
                    created_at: r.get::<_, i64>(3) as u64,
                })
                .collect();
            Ok(Some((article_row(&article), comments)))
        })
    }

    fn reading_list(&self, user_id: &str) -> StoreResult<Vec<ReadingEntry>> {
        self.read(|db| {
            let rows = db.query(
                "SELECT a.slug, a.title, r.saved, r.progress, r.updated_at FROM reading r JOIN articles a ON a.id = r.article_id
                 WHERE r.user_id = $1 AND (r.saved OR r.progress > 0) ORDER BY r.updated_at DESC, a.slug",
                &[&user_id],
            )?;
            Ok(rows.iter().map(reading_row).collect())
        })
    }

    fn update_reading(
        &self,
        user_id: &str,
        slug: &str,
        saved: Option<bool>,
        progress: Option<f64>,
        now: u64,
    ) -> StoreResult<Option<ReadingEntry>> {
        self.write(|tx| {
            let Some(article) = tx.query_opt("SELECT id FROM articles WHERE slug = $1", &[&slug])? else {
                return Ok(None);
            };
            let article_id: i64 = article.get(0);
            tx.execute(
                "INSERT INTO reading (user_id, article_id, saved, progress, updated_at)
                 VALUES ($1, $2, coalesce($3::boolean, false), coalesce($4::float8, 0), $5)
                 ON CONFLICT (user_id, article_id) DO UPDATE SET
                     saved = coalesce($3::boolean, reading.saved),
                     progress = coalesce($4::float8, reading.progress),
                     updated_at = $5",
                &[&user_id, &article_id, &saved, &progress, &(now as i64)],
            )?;
            let entry = tx.query_one(
                "SELECT a.slug, a.title, r.saved, r.progress, r.updated_at FROM reading r JOIN articles a ON a.id = r.article_id
                 WHERE r.user_id = $1 AND r.article_id = $2",
                &[&user_id, &article_id],
            )?;
            Ok(Some(reading_row(&entry)))
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
        self.write(|tx| {
            let row = tx.query_opt(
                "INSERT INTO comments (article_id, author_id, author_name, body, created_at)
                 SELECT id, $2, $3, $4, $5 FROM articles WHERE slug = $1 RETURNING id",
                &[&slug, &author_id, &author_name, &body, &(now as i64)],
            )?;
            Ok(row.map(|r| CommentRecord {
                id: r.get(0),
                author_name: author_name.to_owned(),
                body: body.to_owned(),
                created_at: now,
            }))
        })
    }
}
