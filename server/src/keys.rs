//! Where the signing keys come from at start (the store, the operator, the old key file), and
//! the `keys` subcommands (`guestpass-server keys rotate|list`).

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;

use crate::{
    config::{self, Config},
    ids,
    signing_keys::{self, key_state, KeyRing, LoadedKey, PUBLISH_MARGIN},
    store::Store,
};

/// The keys a starting server signs and verifies with.
///
/// - `GUESTPASS_SIGNING_KEY` set: that key alone, managed by the operator (see
///   [`LoadedKey::from_operator`]); the store's keys are not used.
/// - Otherwise the store's keys; on a store with none, one is made (once, whichever process
///   starts first). An old HS256 key file beside the data (from before keys were in the store)
///   is kept only to verify the tokens it signed, for one token lifetime after the first
///   stored key was made; after that the file is unused and may be deleted.
pub async fn load_ring(config: &Config, store: &Arc<dyn Store>) -> anyhow::Result<KeyRing> {
    let ttl = config.access_token_ttl;
    if let Some(secret) = &config.signing_key {
        let key = LoadedKey::from_operator(secret.expose()).context("GUESTPASS_SIGNING_KEY")?;
        return Ok(KeyRing::new(vec![key], ttl));
    }
    let now = ids::now_millis();
    let first = signing_keys::generate_es256(now, now)?;
    let store = Arc::clone(store);
    let records = tokio::task::spawn_blocking(move || store.add_first_signing_key(&first)).await??;
    let mut ring = signing_keys::ring_from_records(&records, ttl)?;
    let path = config.signing_key_path();
    if let Some(old) = old_key_file(&path)? {
        let until =
            records.iter().map(|r| r.created_at).min().unwrap_or(now) + (ttl + PUBLISH_MARGIN).as_millis() as u64;
        if until > now {
            tracing::info!(path = %path.display(), until = until / 1000, "the old HS256 key file verifies the tokens it signed until they expire");
            ring = ring.with_retired(old, until);
        } else {
            tracing::info!(path = %path.display(), "the old HS256 key file is no longer used (its tokens have expired); it may be deleted");
        }
    }
    Ok(ring)
}

/// The HS256 key kept beside the data by servers before keys were in the store, verify-only.
fn old_key_file(path: &std::path::Path) -> anyhow::Result<Option<LoadedKey>> {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read the old signing key file {}", path.display())),
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| anyhow::anyhow!("the old signing key file {} is not base64url", path.display()))?;
    let mut key = LoadedKey::hs256(&bytes)?;
    key.encoding = None;
    Ok(Some(key))
}

/// `guestpass-server keys ...`: the store's signing keys.
#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub action: KeysAction,

    /// The database, as the server's --data (SQLite file or postgres:// URL).
    #[arg(long, env = "GUESTPASS_DATA", default_value = "./guestpass.db", hide_env_values = true, global = true)]
    pub data: PathBuf,

    /// The server's access-token lifetime: how long a retired key stays published.
    #[arg(long, env = "GUESTPASS_ACCESS_TOKEN_TTL", default_value = "30m", value_parser = config::parse_duration, global = true)]
    pub access_token_ttl: Duration,
}

#[derive(Debug, clap::Subcommand)]
pub enum KeysAction {
    /// Adds a new ES256 key that signs from now (or after --starts-in); the current key stays
    /// published until the last token it signed has expired. Running servers pick it up
    /// within 2 s.
    Rotate {
        /// Publish the new key this long before it starts signing (e.g. 10m), for verifiers
        /// that cache the key set and do not refetch it on an unknown `kid`.
        #[arg(long, value_parser = config::parse_duration)]
        starts_in: Option<Duration>,
    },
    /// Lists the keys: kid, algorithm, when made, when it signs from, and its state.
    List,
}

pub async fn run(args: KeysArgs) -> anyhow::Result<()> {
    let mut config = Config::for_data(&args.data);
    config.access_token_ttl = args.access_token_ttl;
    let store = crate::startup::open_store(&config).await?;
    let ttl = args.access_token_ttl;
    let out = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        let now = ids::now_millis();
        match args.action {
            KeysAction::Rotate { starts_in } => {
                let key = signing_keys::rotate(
                    store.as_ref(),
                    ttl,
                    now,
                    now + starts_in.map_or(0, |d| d.as_millis() as u64),
                )?;
                Ok(format!("added {} ({}), signs from {}\n", key.kid, key.algorithm, rfc3339(key.signs_from)))
            }
            KeysAction::List => {
                let ring = signing_keys::ring_from_records(&store.signing_keys()?, ttl)?;
                let mut out = String::from("kid\talgorithm\tcreated\tsigns_from\tstate\tpublished_until\n");
                for entry in ring.entries() {
                    out.push_str(&format!(
                        "{}\t{:?}\t{}\t{}\t{}\t{}\n",
                        entry.key.kid.as_deref().unwrap_or("-"),
                        entry.key.algorithm,
                        rfc3339(entry.key.created_at),
                        rfc3339(entry.key.signs_from),
                        key_state(entry, now),
                        entry.accepted_until.map(rfc3339).unwrap_or_else(|| "-".into()),
                    ));
                }
                Ok(out)
            }
        }
    })
    .await??;
    print!("{out}");
    Ok(())
}

fn rfc3339(millis: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_millis(millis)).to_string()
}
