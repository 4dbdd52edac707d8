//! The articles that ship with the demo blog (`demo-backend/articles/*.md`, compiled in), seeded into
//! the database on first start.

use include_dir::{include_dir, Dir};

use crate::store::Article as ArticleSeed;

static ARTICLES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/articles");

/// Reading speed used for the "N min read" figure.
const WORDS_PER_MINUTE: usize = 220;

/// Every shipped article. A malformed file is a build-time mistake, reported by a test.
pub fn shipped_articles() -> Vec<ArticleSeed> {
    let mut articles: Vec<ArticleSeed> = ARTICLES
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "md"))
        .filter_map(|f| {
            let slug = f.path().file_stem()?.to_str()?;
            parse(slug, f.contents_utf8()?).ok()
        })
        .collect();
    articles.sort_by(|a, b| b.published.cmp(&a.published));
    articles
}

/// Parses one article: a `---` front matter of `key: value` lines, then the body.
pub fn parse(slug: &str, text: &str) -> Result<ArticleSeed, String> {
    let text = text.replace("\r\n", "\n");
    let rest = text.strip_prefix("---\n").ok_or("no front matter")?;
    let (front, body) = rest.split_once("\n---\n").ok_or("front matter not closed")?;
    let field = |key: &str| {
        front
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix(':')))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .ok_or(format!("missing {key}"))
    };
    let body = body.trim().to_owned();
    if body.is_empty() {
        return Err("empty body".into());
    }
    let words = body.split_whitespace().count();
    Ok(ArticleSeed {
        slug: slug.to_owned(),
        title: field("title")?,
        author: field("author")?,
        published: field("published")?,
        summary: field("summary")?,
        minutes: words.div_ceil(WORDS_PER_MINUTE).max(1) as u32,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_article_parses() {
        for file in ARTICLES.files().filter(|f| f.path().extension().is_some_and(|e| e == "md")) {
            let slug = file.path().file_stem().unwrap().to_str().unwrap();
            let parsed = parse(slug, file.contents_utf8().unwrap());
            assert!(parsed.is_ok(), "{slug}: {parsed:?}");
            assert!(slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{slug}");
        }
        assert!(shipped_articles().len() >= 24, "a few dozen articles ship with the project");
    }

    #[test]
    fn an_article_is_front_matter_then_paragraphs() {
        let a = parse("x", "---\ntitle: T\nauthor: A\npublished: 2026-01-02\nsummary: S\n---\nOne two.\n\nThree.\n")
            .unwrap();
        assert_eq!((a.title.as_str(), a.author.as_str(), a.published.as_str()), ("T", "A", "2026-01-02"));
        assert_eq!(a.body, "One two.\n\nThree.");
        assert_eq!(a.minutes, 1);
        assert!(parse("x", "no front matter").is_err());
        assert!(parse("x", "---\ntitle: T\n---\nbody").is_err());
    }
}
