//! The command line: serving (the default, `guestpass-server [OPTIONS]`) or a subcommand.

use clap::Parser;

use crate::{config::Config, keys::KeysArgs};

#[derive(Parser)]
#[command(
    name = "guestpass-server",
    version,
    args_override_self = true,
    args_conflicts_with_subcommands = true,
    about = "Anonymous sign-in a user can keep: an App Services-compatible auth server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Without a subcommand: serve, with these options.
    #[command(flatten)]
    pub serve: Config,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Copy a SQLite database consistently while the server runs (SQLite's online backup).
    Backup(crate::backup::BackupArgs),
    /// The access tokens' signing keys in the store: `keys rotate`, `keys list`.
    Keys(KeysArgs),
}
