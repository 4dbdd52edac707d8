//! Secrets kept in files beside the data: the admin key (the signing keys are in the store).
//! Created once, readable by the owner only, never printed.

use std::{io::Write, path::Path};

/// Reads the secret kept at `path`, or creates it with `generate()`. Several processes may
/// start at once on one directory: each writes its candidate to a file of its own and links
/// it to `path`, which only one link can create, so every process ends up with the one
/// secret that won, and none ever reads a file half written.
pub fn load_or_generate(path: &Path, generate: impl Fn() -> String) -> std::io::Result<(String, bool)> {
    loop {
        match std::fs::read_to_string(path) {
            Ok(text) => return Ok((text.trim().to_owned(), false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let secret = generate();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let candidate = path.with_file_name(format!(
            ".{name}.{}.{:016x}.new",
            std::process::id(),
            u64::from_le_bytes(crate::ids::random_bytes::<8>())
        ));
        write_private(&candidate, secret.as_bytes())?;
        let linked = std::fs::hard_link(&candidate, path);
        let _ = std::fs::remove_file(&candidate);
        match linked {
            Ok(()) => return Ok((secret, true)),
            // Another process's link came first: read its secret.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
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
