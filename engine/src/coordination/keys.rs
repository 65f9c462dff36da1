//! The shared keys that authenticate coordination frames: HMAC-SHA256, full
//! (32 bytes) or truncated to its leftmost 16, as PTP's AUTHENTICATION TLV
//! does (the [`Key`] and [`IcvAlgorithm`] types are that module's).
//!
//! A ring holds several keys by key id so that keys can be rotated without a
//! flag day: add the new key everywhere, make it active everywhere, then
//! remove the old one. Frames are tagged with the active key and accepted
//! under any key in the ring.

use std::collections::BTreeMap;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub use crate::ptp::security::{IcvAlgorithm, Key};

type HmacSha256 = Hmac<Sha256>;

/// Why a key ring cannot be set up or changed as asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyRingError {
    /// Key ids run from 1; 0 is never a key, so a zeroed frame names none.
    #[error("key id 0 is not allowed: key ids run from 1")]
    KeyIdZero,
    #[error("key {0} has an empty secret")]
    EmptySecret(u32),
    /// The active key must be one of the ring's keys.
    #[error("key {0} is not in the key ring")]
    UnknownActiveKey(u32),
    /// The active key cannot be removed: make another one active first.
    #[error("key {0} is the active key")]
    RemovingActiveKey(u32),
}

/// Why a frame's tag was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The frame names a key this ring does not hold (never had, or rotated
    /// out).
    #[error("unknown key id {0}")]
    UnknownKey(u32),
    /// The tag is not as long as the named key's algorithm makes it.
    #[error("tag of {got} bytes for key {key_id}, whose tags are {expected}")]
    TagLength {
        key_id: u32,
        got: usize,
        expected: usize,
    },
    /// The tag does not match: the frame was altered, or tagged with
    /// another secret.
    #[error("tag mismatch")]
    BadTag,
}

/// Keys by id, and the one outgoing frames are tagged with.
///
/// Invariants, kept by the constructor and the mutators: every key id is
/// nonzero, every secret non-empty, and the active key is in the ring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRing {
    keys: BTreeMap<u32, Key>,
    active: u32,
}

impl KeyRing {
    pub fn new(keys: BTreeMap<u32, Key>, active: u32) -> Result<Self, KeyRingError> {
        for (&id, key) in &keys {
            check_key(id, key)?;
        }
        if !keys.contains_key(&active) {
            return Err(KeyRingError::UnknownActiveKey(active));
        }
        Ok(KeyRing { keys, active })
    }

    /// A ring of one key, active.
    pub fn single(key_id: u32, key: Key) -> Result<Self, KeyRingError> {
        KeyRing::new(BTreeMap::from([(key_id, key)]), key_id)
    }

    pub fn active_key_id(&self) -> u32 {
        self.active
    }

    pub fn keys(&self) -> &BTreeMap<u32, Key> {
        &self.keys
    }

    /// Adds or replaces a key; returns the one it replaced.
    pub fn insert_key(&mut self, key_id: u32, key: Key) -> Result<Option<Key>, KeyRingError> {
        check_key(key_id, &key)?;
        Ok(self.keys.insert(key_id, key))
    }

    /// Removes a key that is not the active one: frames under it are no
    /// longer accepted.
    pub fn remove_key(&mut self, key_id: u32) -> Result<Option<Key>, KeyRingError> {
        if key_id == self.active {
            return Err(KeyRingError::RemovingActiveKey(key_id));
        }
        Ok(self.keys.remove(&key_id))
    }

    pub fn set_active_key(&mut self, key_id: u32) -> Result<(), KeyRingError> {
        if !self.keys.contains_key(&key_id) {
            return Err(KeyRingError::UnknownActiveKey(key_id));
        }
        self.active = key_id;
        Ok(())
    }

    /// The tag length of the active key.
    pub fn active_tag_len(&self) -> usize {
        self.active_key().algorithm.icv_len()
    }

    fn active_key(&self) -> &Key {
        // The invariant: the active key is in the ring.
        &self.keys[&self.active]
    }

    /// Appends the active key's tag over `covered`.
    pub(super) fn append_tag(&self, covered_start: usize, out: &mut Vec<u8>) {
        let key = self.active_key();
        let full = mac(key, &out[covered_start..]).finalize().into_bytes();
        out.extend_from_slice(&full[..key.algorithm.icv_len()]);
    }

    /// Checks `tag` over `covered` under key `key_id`, in constant time (the
    /// hmac crate's comparison).
    pub fn verify(&self, key_id: u32, covered: &[u8], tag: &[u8]) -> Result<(), AuthError> {
        let key = self
            .keys
            .get(&key_id)
            .ok_or(AuthError::UnknownKey(key_id))?;
        let expected = key.algorithm.icv_len();
        if tag.len() != expected {
            return Err(AuthError::TagLength {
                key_id,
                got: tag.len(),
                expected,
            });
        }
        let mac = mac(key, covered);
        let checked = match key.algorithm {
            IcvAlgorithm::HmacSha256Trunc128 => mac.verify_truncated_left(tag),
            IcvAlgorithm::HmacSha256 => mac.verify_slice(tag),
        };
        checked.map_err(|_| AuthError::BadTag)
    }
}

fn mac(key: &Key, covered: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed first), and the
    // ring holds no empty secret.
    let mut mac = HmacSha256::new_from_slice(&key.secret).expect("HMAC takes keys of any length");
    mac.update(covered);
    mac
}

fn check_key(key_id: u32, key: &Key) -> Result<(), KeyRingError> {
    if key_id == 0 {
        return Err(KeyRingError::KeyIdZero);
    }
    if key.secret.is_empty() {
        return Err(KeyRingError::EmptySecret(key_id));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        KeyRing::new(
            BTreeMap::from([
                (1, Key::new(IcvAlgorithm::HmacSha256, b"key one".to_vec())),
                (
                    2,
                    Key::new(IcvAlgorithm::HmacSha256Trunc128, b"key two".to_vec()),
                ),
            ]),
            1,
        )
        .unwrap()
    }

    fn tagged(ring: &KeyRing, data: &[u8]) -> Vec<u8> {
        let mut out = data.to_vec();
        ring.append_tag(0, &mut out);
        out.split_off(data.len())
    }

    #[test]
    fn the_tag_is_hmac_sha256_as_rfc_4231_gives_it() {
        // RFC 4231 test case 2.
        let ring =
            KeyRing::single(7, Key::new(IcvAlgorithm::HmacSha256, b"Jefe".to_vec())).unwrap();
        let tag = tagged(&ring, b"what do ya want for nothing?");
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            ring.verify(7, b"what do ya want for nothing?", &tag),
            Ok(())
        );
    }

    #[test]
    fn truncated_and_full_tags_verify_under_their_key_only() {
        let mut ring = ring();
        let full = tagged(&ring, b"data");
        assert_eq!(full.len(), 32);
        ring.set_active_key(2).unwrap();
        let short = tagged(&ring, b"data");
        assert_eq!(short, full_of(b"key two", b"data")[..16]);
        assert_eq!(ring.verify(1, b"data", &full), Ok(()));
        assert_eq!(ring.verify(2, b"data", &short), Ok(()));
        assert_eq!(
            ring.verify(2, b"data", &full),
            Err(AuthError::TagLength {
                key_id: 2,
                got: 32,
                expected: 16
            })
        );
        assert_eq!(ring.verify(1, b"datA", &full), Err(AuthError::BadTag));
        assert_eq!(
            ring.verify(3, b"data", &full),
            Err(AuthError::UnknownKey(3))
        );
    }

    fn full_of(secret: &[u8], data: &[u8]) -> Vec<u8> {
        let ring = KeyRing::single(1, Key::new(IcvAlgorithm::HmacSha256, secret.to_vec())).unwrap();
        tagged(&ring, data)
    }

    #[test]
    fn rotation_keeps_the_invariants() {
        let mut ring = ring();
        assert_eq!(ring.remove_key(1), Err(KeyRingError::RemovingActiveKey(1)));
        assert_eq!(
            ring.set_active_key(9),
            Err(KeyRingError::UnknownActiveKey(9))
        );
        ring.set_active_key(2).unwrap();
        assert!(ring.remove_key(1).unwrap().is_some());
        assert_eq!(
            ring.insert_key(0, Key::new(IcvAlgorithm::HmacSha256, b"x".to_vec())),
            Err(KeyRingError::KeyIdZero)
        );
        assert_eq!(
            ring.insert_key(3, Key::new(IcvAlgorithm::HmacSha256, Vec::new())),
            Err(KeyRingError::EmptySecret(3))
        );
        assert_eq!(
            KeyRing::new(BTreeMap::new(), 1),
            Err(KeyRingError::UnknownActiveKey(1))
        );
    }
}
