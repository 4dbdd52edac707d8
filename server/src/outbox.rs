//! The outbox: confirmation and reset mails, appended to a file the operator reads (sending
//! mail is not this server's job). The log line says that a mail was written, never its token
//! nor its address.

use std::{io::Write, path::PathBuf, sync::Mutex};

use serde_json::json;

use crate::{error::ApiError, store::TokenPurpose};

#[derive(Debug)]
pub struct Outbox {
    path: PathBuf,
    link_base: String,
    lock: Mutex<()>,
}

impl Outbox {
    pub fn new(path: PathBuf, link_base: String) -> Self {
        Outbox { path, link_base: link_base.trim_end_matches('/').to_owned(), lock: Mutex::new(()) }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Appends a mail with the link that carries `token` and `token_id`.
    pub fn send(&self, to: &str, purpose: TokenPurpose, token: &str, token_id: &str) -> Result<(), ApiError> {
        let link = format!("{}/{}?token={token}&tokenId={token_id}", self.link_base, purpose.as_str());
        let line = json!({
            "to": to,
            "kind": purpose.as_str(),
            "token": token,
            "tokenId": token_id,
            "link": link,
        });
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            // The mails carry live confirmation and reset tokens: owner only, like the keys.
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&self.path).map_err(ApiError::internal)?;
        writeln!(file, "{line}").map_err(ApiError::internal)?;
        // The address stays in the outbox (the mail channel), out of the log.
        tracing::info!(kind = purpose.as_str(), outbox = %self.path.display(), "mail written to the outbox");
        Ok(())
    }
}
