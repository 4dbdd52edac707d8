//! The `guestpass-server` binary: parse the command line, then serve until stopped or run the
//! subcommand.

use clap::Parser;
use guestpass_server::{
    backup,
    cli::{Cli, Command},
    logs,
    startup::Application,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    logs::init(cli.serve.log_format);
    match cli.command {
        Some(Command::Backup(args)) => {
            let copied = tokio::task::spawn_blocking(move || backup::run(&args)).await??;
            println!("{copied}");
        }
        Some(Command::Keys(args)) => return guestpass_server::keys::run(args).await,
        None => {
            let app = Application::build(cli.serve).await?;
            tracing::info!("guestpass-server listening on http://{}", app.local_addr());
            app.run_until_stopped().await?;
        }
    }
    Ok(())
}
