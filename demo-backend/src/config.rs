//! The command line (each option also read from a `GUESTPASS_DEMO_*` variable).

use std::path::PathBuf;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "guestpass-demo-backend",
    about = "The demo blog's backend: verifies guestpass access tokens through the JWKS"
)]
pub struct Config {
    /// Address to listen on (port 0: any free port, printed in the log).
    #[arg(long, env = "GUESTPASS_DEMO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The blog's own SQLite file (articles, reading lists, comments).
    #[arg(long, env = "GUESTPASS_DEMO_DATA", default_value = "demo-blog.db")]
    pub data: PathBuf,
    /// The auth server's URL: the tokens' expected `iss`, where the JWKS is fetched, and the
    /// page's SDK `baseUrl`.
    #[arg(long, env = "GUESTPASS_DEMO_AUTH_URL")]
    pub auth_url: String,
    /// The app id: the tokens' expected `aud`.
    #[arg(long, env = "GUESTPASS_DEMO_APP_ID", default_value = "guestpass-demo")]
    pub app_id: String,
    /// Also ask the auth server whether the token's session is still live, on every request
    /// (`GET /auth/session/verify`): a logout, a disabled or deleted user is refused at once
    /// instead of when the access token expires, at the cost of a call to the auth server.
    #[arg(long, env = "GUESTPASS_DEMO_CHECK_SESSION")]
    pub check_session: bool,
    /// The reader's pages, served at `/`.
    #[arg(long, env = "GUESTPASS_DEMO_WWW")]
    pub www: Option<PathBuf>,
    /// The SDK's package (wasm-pack output), served at `/pkg`.
    #[arg(long, env = "GUESTPASS_DEMO_PKG")]
    pub pkg: Option<PathBuf>,
}

impl Config {
    /// A configuration for `auth_url` and `app_id` with every other option at its default.
    pub fn new(auth_url: &str, app_id: &str, data: PathBuf) -> Self {
        Config {
            listen: "127.0.0.1:0".into(),
            data,
            auth_url: auth_url.trim_end_matches('/').to_owned(),
            app_id: app_id.to_owned(),
            check_session: false,
            www: None,
            pkg: None,
        }
    }
}
