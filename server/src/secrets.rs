//! Secrets kept in files beside the data: the admin key (the signing keys are in the store).
//! Created once, readable by the owner only, never printed.

use std::{io::Write, path::Path};

/// Reads the secret kept at `path`, or creates it with `generate()`.
pub fn load_or_generate(path: &Path, generate: impl FnOnce() -> String) -> std::io::Result<(String, bool)> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((text.trim().to_owned(), false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = generate();
            write_private(path, secret.as_bytes())?;
            Ok((secret, true))
        }
        Err(e) => Err(e),
    }
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}
