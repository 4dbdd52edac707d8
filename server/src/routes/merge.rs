//! `POST /auth/merge/redeem`: an app's backend redeems a merge proof once (issue 14,
//! docs/merge.md). The proof is the only credential: whoever holds an unredeemed, unexpired
//! one may learn whose data moves where, once.

use axum::{extract::State, http::StatusCode, routing::post, Json, Router};
use guestpass_protocol::merge::{RedeemAnswer, RedeemBody};

use crate::{error::ApiError, extract::JsonBody, ids, merge_proofs::ProofRefused, state::AppState, store::Redemption};

pub fn router() -> Router<AppState> {
    Router::new().route("/auth/merge/redeem", post(redeem))
}

/// Defaults to an empty proof, so an empty body is refused as an invalid proof.
#[derive(Debug, Default, serde::Deserialize)]
struct Body {
    #[serde(default)]
    proof: Option<guestpass_protocol::Secret>,
}

fn invalid(why: ProofRefused) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "InvalidMergeProof", why.to_string())
}

async fn redeem(State(state): State<AppState>, JsonBody(body): JsonBody<Body>) -> Result<Json<RedeemAnswer>, ApiError> {
    let proof = body.proof.ok_or_else(|| ApiError::bad_request("proof is required"))?;
    let body = RedeemBody { proof };
    let claims = state.merge_proofs.verify(body.proof.expose()).map_err(invalid)?;
    let (jti, now) = (claims.jti.clone(), ids::now_secs());
    match state.store(move |store| store.redeem_merge_proof(&jti, now)).await? {
        Redemption::Redeemed => {
            tracing::info!(from = %claims.from, into = %claims.into, "merge proof redeemed");
            Ok(Json(RedeemAnswer { from: claims.from, into: claims.into }))
        }
        Redemption::AlreadyRedeemed => Err(ApiError::new(
            StatusCode::CONFLICT,
            "MergeProofRedeemed",
            "this merge proof has been redeemed already; each proof moves data once",
        )),
        // Signed by this server's key but not recorded: issued by another deployment sharing
        // the key, or its record was lost. Not redeemable here either way.
        Redemption::Unknown => Err(invalid(ProofRefused::Invalid)),
    }
}
