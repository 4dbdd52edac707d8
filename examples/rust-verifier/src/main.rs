//! A runnable verifier: reads access tokens from stdin, one a line, and answers each on stdout:
//! `ok <sub> anonymous=<bool> may_write=<bool>` or `refused <reason>`. One `Verifier` serves
//! every line, so its cached key set carries across them as in a long-running backend.
//!
//!     guestpass-verifier-example <issuer> <app id> [cooldown ms]

use std::time::Duration;

use guestpass_verifier_example::Verifier;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: guestpass-verifier-example <issuer> <app id> [cooldown ms] < tokens");
        std::process::exit(2);
    }
    let cooldown = Duration::from_millis(args.get(3).and_then(|ms| ms.parse().ok()).unwrap_or(30_000));
    let verifier = Verifier::new(&args[1], &args[2], cooldown);
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut out = tokio::io::stdout();
    while let Ok(Some(line)) = lines.next_line().await {
        let answer = match verifier.verify(line.trim()).await {
            Ok(c) => format!("ok {} anonymous={} may_write={}\n", c.sub, c.is_anonymous, c.may_write()),
            Err(refused) => format!("refused {refused}\n"),
        };
        let _ = out.write_all(answer.as_bytes()).await;
        let _ = out.flush().await;
    }
}
