//! The `guestpass-server` binary: parse the command line; serve until stopped, or run a
//! subcommand.

use clap::Parser;
use guestpass_server::{
    cli::{Cli, Command},
    startup::Application,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "guestpass_server=info,tower_http=warn".into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let cli = Cli::parse();
    let config = match cli.command {
        Some(Command::Keys(args)) => return guestpass_server::keys::run(args).await,
        None => cli.serve,
    };
    let app = Application::build(config).await?;
    tracing::info!("guestpass-server listening on http://{}", app.local_addr());
    app.run_until_stopped().await?;
    Ok(())
}
