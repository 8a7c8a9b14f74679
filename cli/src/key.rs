//! Where the command line's store key comes from. Every store the CLI opens is encrypted; the key is
//! found, in this order:
//! 1. `--key-file PATH`: the 32 key bytes, raw or as 64 hex digits; made (readable by its owner
//!    only) if the file does not exist yet.
//! 2. `GRIDBOOK_PASSPHRASE`: a passphrase stretched by Argon2id with a salt kept in the store's
//!    directory. Taken from the environment only: a command line is visible to every user of the
//!    machine.
//! 3. Otherwise a key file of the user's own, outside the store's directory: in `GRIDBOOK_KEY_DIR`,
//!    else `$XDG_DATA_HOME/gridbook/keys`, else `~/.local/share/gridbook/keys`, named by a random
//!    id kept in the store's directory (so a store that is moved keeps its key). A copied,
//!    backed-up or mailed store directory is then unreadable without it; someone logged in as the
//!    same user on the same machine reads both.

use std::io::Write;
use std::path::{Path, PathBuf};

use gridbook_core::StoreKey;

use crate::args::Cli;
use crate::error::CliError;

/// The passphrase's environment variable.
pub const PASSPHRASE_ENV: &str = "GRIDBOOK_PASSPHRASE";
/// The new passphrase's, for `gridbook rekey` of a store kept under a passphrase.
pub const NEW_PASSPHRASE_ENV: &str = "GRIDBOOK_NEW_PASSPHRASE";

/// Where the store's key came from.
pub enum KeySource {
    File(PathBuf),
    Passphrase,
}

/// The store's key, from wherever the command line says (see the module's documentation), and
/// where it came from.
///
/// # Errors
/// [`CliError::File`] when a key file cannot be read, made or holds no key, or no per-user key
/// directory can be found; [`CliError::Usage`] for an empty passphrase.
pub fn store_key(cli: &Cli) -> Result<(StoreKey, KeySource), CliError> {
    if let Some(passphrase) = std::env::var_os(PASSPHRASE_ENV).filter(|_| cli.key_file.is_none()) {
        return Ok((from_passphrase(passphrase.as_encoded_bytes(), &cli.store)?, KeySource::Passphrase));
    }
    let file = match &cli.key_file {
        Some(file) => file.clone(),
        None => default_key_file(&cli.store)?,
    };
    Ok((key_file(&file)?, KeySource::File(file)))
}

/// Deletes the key file of a store that was wiped: the data it opened is gone, and a copy of the
/// old files somewhere must stay unreadable. A passphrase is the person's to forget.
///
/// # Errors
/// [`CliError::File`] when the file is there and cannot be deleted.
pub fn forget(source: &KeySource) -> Result<(), CliError> {
    let KeySource::File(file) = source else { return Ok(()) };
    match std::fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CliError::File(format!(
            "the store was wiped, but its key file {} was not deleted: {e}",
            file.display()
        ))),
        _ => Ok(()),
    }
}

/// The key a `rekey` cut off before its end was changing to, if one was: the store may already be
/// under it.
pub fn unfinished_rekey(source: &KeySource) -> Option<(StoreKey, PathBuf)> {
    let KeySource::File(file) = source else { return None };
    let next = next_key_file(file);
    let bytes = std::fs::read(&next).ok()?;
    Some((StoreKey::from_file_contents(&bytes).ok()?, next))
}

/// Puts the key of a finished rekey where the old one was.
///
/// # Errors
/// [`CliError::File`] if the key file cannot be replaced.
pub fn finish_rekey(next: &Path, file: &Path) -> Result<(), CliError> {
    std::fs::rename(next, file).map_err(|e| CliError::File(format!("cannot replace {}: {e}", file.display())))
}

/// A new key for `gridbook rekey`: under a passphrase, from the new passphrase; otherwise random,
/// written beside the old key file first (so that a rekey cut off after the store changed still
/// finds its key), to replace it once the store is rewritten.
///
/// # Errors
/// [`CliError::Usage`] if the store is kept under a passphrase and no new one is given;
/// [`CliError::File`] if the new key cannot be written.
pub fn new_key(store: &Path, source: &KeySource) -> Result<(StoreKey, Option<PathBuf>), CliError> {
    match source {
        KeySource::Passphrase => {
            let passphrase = std::env::var_os(NEW_PASSPHRASE_ENV).ok_or_else(|| {
                CliError::Usage(format!(
                    "the store is kept under a passphrase: give the new one in {NEW_PASSPHRASE_ENV}"
                ))
            })?;
            Ok((from_passphrase(passphrase.as_encoded_bytes(), store)?, None))
        }
        KeySource::File(file) => {
            let next = next_key_file(file);
            // A leftover of a rekey that never rewrote the store: the store opened under the old key.
            let _ = std::fs::remove_file(&next);
            let key = StoreKey::generate();
            write_private(&next, zeroize::Zeroizing::new(hex::encode(key.as_bytes())).as_bytes())
                .map_err(|e| CliError::File(format!("cannot write {}: {e}", next.display())))?;
            Ok((key, Some(next)))
        }
    }
}

fn next_key_file(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".next");
    PathBuf::from(name)
}

fn key_file(path: &Path) -> Result<StoreKey, CliError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            StoreKey::from_file_contents(&bytes).map_err(|e| CliError::File(format!("{}: {e}", path.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = StoreKey::generate();
            write_private(path, zeroize::Zeroizing::new(hex::encode(key.as_bytes())).as_bytes())
                .map_err(|e| CliError::File(format!("cannot make the key file {}: {e}", path.display())))?;
            Ok(key)
        }
        Err(e) => Err(CliError::File(format!("cannot read the key file {}: {e}", path.display()))),
    }
}

/// Argon2id with its recommended parameters: seconds of work for whoever guesses passphrases
/// against a stolen store, a fraction of one for whoever knows it.
fn from_passphrase(passphrase: &[u8], store: &Path) -> Result<StoreKey, CliError> {
    if passphrase.is_empty() {
        return Err(CliError::Usage(format!("{PASSPHRASE_ENV} is empty")));
    }
    let salt = salt(store)?;
    let mut key = zeroize::Zeroizing::new([0u8; StoreKey::LEN]);
    argon2::Argon2::default()
        .hash_password_into(passphrase, &salt, key.as_mut())
        .map_err(|e| CliError::Usage(format!("the passphrase cannot be used: {e}")))?;
    Ok(StoreKey::from_bytes(key.as_ref())?)
}

/// The store's passphrase salt: random, made once, kept beside the database (it is no secret).
fn salt(store: &Path) -> Result<Vec<u8>, CliError> {
    let path = store.join("key-salt");
    match std::fs::read(&path) {
        Ok(salt) if salt.len() >= 16 => Ok(salt),
        Ok(_) => Err(CliError::File(format!("{} is damaged: the passphrase cannot be used", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let salt: [u8; 16] = rand::random();
            write_private(&path, &salt).map_err(|e| CliError::File(format!("cannot write {}: {e}", path.display())))?;
            Ok(salt.to_vec())
        }
        Err(e) => Err(CliError::File(format!("cannot read {}: {e}", path.display()))),
    }
}

fn default_key_file(store: &Path) -> Result<PathBuf, CliError> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let dir = var("GRIDBOOK_KEY_DIR")
        .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("gridbook/keys")))
        .or_else(|| var("HOME").map(|d| d.join(".local/share/gridbook/keys")))
        .ok_or_else(|| CliError::File("no home directory to keep the store's key in: give --key-file PATH".into()))?;
    Ok(dir.join(format!("{}.key", key_id(store)?)))
}

/// The store's key id: random, made once, kept in the store's directory (it is no secret).
fn key_id(store: &Path) -> Result<String, CliError> {
    let path = store.join("key-id");
    let id = match std::fs::read_to_string(&path) {
        Ok(id) => id,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let id = hex::encode(rand::random::<[u8; 12]>());
            match write_private(&path, id.as_bytes()) {
                Ok(()) => id,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read_to_string(&path)
                    .map_err(|e| CliError::File(format!("cannot read {}: {e}", path.display())))?,
                Err(e) => return Err(CliError::File(format!("cannot write {}: {e}", path.display()))),
            }
        }
        Err(e) => return Err(CliError::File(format!("cannot read {}: {e}", path.display()))),
    };
    let id = id.trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CliError::File(format!("{} is damaged: give --key-file PATH", path.display())));
    }
    Ok(id.to_string())
}

/// Writes a new file only its owner may read, whole or not at all.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let tmp = path.with_extension("partial");
    let _ = std::fs::remove_file(&tmp);
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    // Another process may have made the file meanwhile: what it wrote may already be in use.
    if path.exists() {
        std::fs::remove_file(&tmp)?;
        return Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "made meanwhile by another process"));
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passphrase_gives_the_same_key_for_the_same_store_and_another_elsewhere() {
        let (a, b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
        let first = from_passphrase(b"correct horse", a.path()).expect("key");
        let again = from_passphrase(b"correct horse", a.path()).expect("key");
        let elsewhere = from_passphrase(b"correct horse", b.path()).expect("key");
        assert_eq!(first.as_bytes(), again.as_bytes());
        assert_ne!(first.as_bytes(), elsewhere.as_bytes());
    }
}
