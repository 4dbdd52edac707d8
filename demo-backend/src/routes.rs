//! The blog API (`/api/blog`): articles for any signed-in reader (anonymous included), each
//! reader's own reading list, and comments from readers with an account. The rules live here,
//! in the app's backend; the page only shows what they allow.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::{
    extract::{rejection::JsonRejection, Path, State},
    http::StatusCode,
    routing::{get, post, put},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    error::ApiError,
    reader::Reader,
    store::{self, Article, Comment, Merged, ReadingEntry},
    AppState,
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
        .route("/reading-list/{slug}", put(update_reading))
        .route("/merge", post(merge))
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "method not allowed")
        })
        .fallback(|| async { ApiError::not_found() })
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A JSON body, its rejection in the error shape above (axum's own is plain text).
fn body<T>(parsed: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    parsed.map(|Json(v)| v).map_err(|e| ApiError::bad_request(e.body_text()))
}

fn no_article() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "ArticleNotFound", "no such article")
}

fn summary_json(a: &Article) -> Value {
    json!({
        "slug": a.slug, "title": a.title, "author": a.author,
        "published": a.published, "summary": a.summary, "minutes": a.minutes,
    })
}

fn reading_json(e: &ReadingEntry) -> Value {
    json!({ "slug": e.slug, "title": e.title, "saved": e.saved, "progress": e.progress, "updated_at": e.updated_at })
}

fn comment_json(c: &Comment) -> Value {
    json!({ "id": c.id, "author": c.author_name, "text": c.body, "created_at": c.created_at })
}

async fn articles(State(state): State<AppState>, _reader: Reader) -> Result<Json<Value>, ApiError> {
    let list = state.store.run(store::articles).await?;
    Ok(Json(json!({ "articles": list.iter().map(summary_json).collect::<Vec<_>>() })))
}

async fn article(
    State(state): State<AppState>,
    _reader: Reader,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (article, comments) = state.store.run(move |c| store::article(c, &slug)).await?.ok_or_else(no_article)?;
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

/// The name shown with a comment: the one given, else the profile's `name` on the auth server
/// (e.g. a custom token's claim), else "Reader". Never anything taken from the email.
async fn display_name(state: &AppState, reader: &Reader, given: Option<&str>) -> Result<String, ApiError> {
    if let Some(name) = given.map(str::trim).filter(|n| !n.is_empty()) {
        if !showable(name) {
            return Err(ApiError::bad_request(format!("a name is 1 to {MAX_NAME} characters, without '@'")));
        }
        return Ok(name.to_owned());
    }
    let profile = state.auth.profile_name(reader).await?;
    Ok(profile.as_deref().map(str::trim).filter(|n| showable(n)).unwrap_or(UNNAMED).to_owned())
}

async fn comment(
    State(state): State<AppState>,
    reader: Reader,
    Path(slug): Path<String>,
    parsed: Result<Json<NewComment>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if reader.is_anonymous {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "CommentRequiresAccount", "create an account to comment"));
    }
    let new = body(parsed)?;
    let text = new.text.unwrap_or_default().trim().to_owned();
    if text.is_empty() || text.chars().count() > MAX_COMMENT {
        return Err(ApiError::bad_request(format!("a comment is 1 to {MAX_COMMENT} characters")));
    }
    let author_name = display_name(&state, &reader, new.name.as_deref()).await?;
    let author_id = reader.user_id;
    let saved = state
        .store
        .run(move |c| store::add_comment(c, &slug, &author_id, &author_name, &text, now_secs()))
        .await?
        .ok_or_else(no_article)?;
    Ok((StatusCode::CREATED, Json(comment_json(&saved))))
}

async fn reading_list(State(state): State<AppState>, reader: Reader) -> Result<Json<Value>, ApiError> {
    // Always the caller's own list: the user comes from the verified token, never the request.
    let user_id = reader.user_id;
    let entries = state.store.run(move |c| store::reading_list(c, &user_id)).await?;
    Ok(Json(json!({ "entries": entries.iter().map(reading_json).collect::<Vec<_>>() })))
}

#[derive(Debug, Default, Deserialize)]
struct ReadingUpdate {
    saved: Option<bool>,
    progress: Option<f64>,
}

async fn update_reading(
    State(state): State<AppState>,
    reader: Reader,
    Path(slug): Path<String>,
    parsed: Result<Json<ReadingUpdate>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let update = body(parsed)?;
    if update.progress.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
        return Err(ApiError::bad_request("progress is a number from 0 to 1"));
    }
    if update.saved.is_none() && update.progress.is_none() {
        return Err(ApiError::bad_request("give saved, progress, or both"));
    }
    let user_id = reader.user_id;
    let entry = state
        .store
        .run(move |c| store::update_reading(c, &user_id, &slug, update.saved, update.progress, now_secs()))
        .await?
        .ok_or_else(no_article)?;
    Ok(Json(reading_json(&entry)))
}

#[derive(Debug, Default, Deserialize)]
struct MergeRequest {
    proof: Option<String>,
}

fn merge_json(m: &Merged, from: &str, into: &str) -> Value {
    json!({
        "moved": m.moved, "saved_added": m.saved_added, "progress_taken": m.progress_taken,
        "from": from, "into": into,
    })
}

/// `POST /api/blog/merge {proof}`, as the account the guest just signed in to: moves the
/// guest's reading list into the caller's (docs/merge.md). The proof is checked through the
/// auth server's JWKS like an access token (signature, `iss`, `aud`, `exp`, its `typ`); its
/// `into` must be the caller, so a proof stolen in transit moves data only into the account
/// it names, and its `jti` is recorded in the transaction that moves the rows.
async fn merge(
    State(state): State<AppState>,
    reader: Reader,
    parsed: Result<Json<MergeRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let proof =
        body(parsed)?.proof.filter(|p| !p.is_empty()).ok_or_else(|| ApiError::bad_request("proof is required"))?;
    let claims = state.auth.merge_claims(&proof).await?;
    if claims.into != reader.user_id {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "MergeProofNotForYou",
            "this merge proof moves data into another account than the one signed in",
        ));
    }
    let (jti, from, into) = (claims.jti, claims.from.clone(), claims.into.clone());
    let merged = state.store.run(move |c| store::merge_reading(c, &jti, &from, &into, now_secs())).await?;
    let merged = merged.ok_or_else(|| {
        ApiError::new(StatusCode::CONFLICT, "MergeProofRedeemed", "this merge proof has been used already")
    })?;
    tracing::info!(from = %claims.from, into = %claims.into, moved = merged.moved, "merged a guest's reading list");
    Ok(Json(merge_json(&merged, &claims.from, &claims.into)))
}
