//! The demo blog's API (`/api/blog`): articles for any signed-in reader (anonymous included),
//! each reader's own reading list, and comments from readers with an account. The rules live
//! here, on the server; the page only shows what they allow.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    error::ApiError,
    extract::{CurrentUser, JsonBody},
    ids,
    state::AppState,
    store::{ArticleSeed, CommentRecord, ReadingEntry, UserRecord},
};

/// Longest comment accepted, in characters.
const MAX_COMMENT: usize = 2000;
/// Longest display name, in characters.
const MAX_NAME: usize = 40;
/// Shown for a commenter who gave no name and whose profile has none.
const UNNAMED: &str = "Reader";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/articles", get(articles))
        .route("/articles/{slug}", get(article))
        .route("/articles/{slug}/comments", post(comment))
        .route("/reading-list", get(reading_list))
        .route("/reading-list/{slug}", axum::routing::put(update_reading))
}

fn no_article() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "ArticleNotFound", "no such article")
}

fn summary_json(a: &ArticleSeed) -> Value {
    json!({
        "slug": a.slug, "title": a.title, "author": a.author,
        "published": a.published, "summary": a.summary, "minutes": a.minutes,
    })
}

fn reading_json(e: &ReadingEntry) -> Value {
    json!({ "slug": e.slug, "title": e.title, "saved": e.saved, "progress": e.progress, "updated_at": e.updated_at })
}

fn comment_json(c: &CommentRecord) -> Value {
    json!({ "id": c.id, "author": c.author_name, "text": c.body, "created_at": c.created_at })
}

async fn articles(State(state): State<AppState>, _reader: CurrentUser) -> Result<Json<Value>, ApiError> {
    let list = state.store(|store| store.articles()).await?;
    Ok(Json(json!({ "articles": list.iter().map(summary_json).collect::<Vec<_>>() })))
}

async fn article(
    State(state): State<AppState>,
    _reader: CurrentUser,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (article, comments) = state.store(move |store| store.article(&slug)).await?.ok_or_else(no_article)?;
    let blocks: Vec<Value> = article
        .body
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|b| match b.strip_prefix("## ") {
            Some(heading) => json!({ "type": "h2", "text": heading }),
            None => json!({ "type": "p", "text": b.replace('\n', " ") }),
        })
        .collect();
    let mut body = summary_json(&article);
    body["blocks"] = Value::Array(blocks);
    body["comments"] = comments.iter().map(comment_json).collect();
    Ok(Json(body))
}

#[derive(Debug, Default, Deserialize)]
struct NewComment {
    text: Option<String>,
    /// The name to show with the comment; the page remembers what the reader typed last.
    name: Option<String>,
}

/// Whether `name` can be shown as a commenter's name: 1 to 40 visible characters, and not an
/// address (comments are public; emails stay private).
fn showable(name: &str) -> bool {
    let length = name.chars().count();
    (1..=MAX_NAME).contains(&length) && !name.contains('@') && !name.chars().any(char::is_control)
}

/// The name shown with a comment: the one given, else the profile's `name` (e.g. a custom
/// token's claim), else "Reader". Never anything taken from the email.
fn display_name(user: &UserRecord, given: Option<&str>) -> Result<String, ApiError> {
    if let Some(name) = given.map(str::trim).filter(|n| !n.is_empty()) {
        if !showable(name) {
            return Err(ApiError::bad_request(format!("a name is 1 to {MAX_NAME} characters, without '@'")));
        }
        return Ok(name.to_owned());
    }
    let data: Value = serde_json::from_str(&user.data).unwrap_or(Value::Null);
    Ok(data["name"].as_str().map(str::trim).filter(|n| showable(n)).unwrap_or(UNNAMED).to_owned())
}

async fn comment(
    State(state): State<AppState>,
    reader: CurrentUser,
    Path(slug): Path<String>,
    JsonBody(body): JsonBody<NewComment>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if reader.user.is_anonymous {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "CommentRequiresAccount", "create an account to comment"));
    }
    let text = body.text.unwrap_or_default().trim().to_owned();
    if text.is_empty() || text.chars().count() > MAX_COMMENT {
        return Err(ApiError::bad_request(format!("a comment is 1 to {MAX_COMMENT} characters")));
    }
    let (author_id, author_name) = (reader.user.id.clone(), display_name(&reader.user, body.name.as_deref())?);
    let saved = state
        .store(move |store| store.add_comment(&slug, &author_id, &author_name, &text, ids::now_secs()))
        .await?
        .ok_or_else(no_article)?;
    Ok((StatusCode::CREATED, Json(comment_json(&saved))))
}

async fn reading_list(State(state): State<AppState>, reader: CurrentUser) -> Result<Json<Value>, ApiError> {
    // Always the caller's own list: the user comes from the token, never from the request.
    let user_id = reader.user.id.clone();
    let entries = state.store(move |store| store.reading_list(&user_id)).await?;
    Ok(Json(json!({ "entries": entries.iter().map(reading_json).collect::<Vec<_>>() })))
}

#[derive(Debug, Default, Deserialize)]
struct ReadingUpdate {
    saved: Option<bool>,
    progress: Option<f64>,
}

async fn update_reading(
    State(state): State<AppState>,
    reader: CurrentUser,
    Path(slug): Path<String>,
    JsonBody(update): JsonBody<ReadingUpdate>,
) -> Result<Json<Value>, ApiError> {
    if update.progress.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
        return Err(ApiError::bad_request("progress is a number from 0 to 1"));
    }
    if update.saved.is_none() && update.progress.is_none() {
        return Err(ApiError::bad_request("give saved, progress, or both"));
    }
    let user_id = reader.user.id.clone();
    let entry = state
        .store(move |store| store.update_reading(&user_id, &slug, update.saved, update.progress, ids::now_secs()))
        .await?
        .ok_or_else(no_article)?;
    Ok(Json(reading_json(&entry)))
}
