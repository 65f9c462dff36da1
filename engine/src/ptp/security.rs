//! PTP integrity protection (IEEE 1588-2019 §16.14 and Annex P, prong A): the
//! AUTHENTICATION TLV, the security associations that sign and check it, and the
//! sequenceId replay window.
//!
//! The model is linuxptp's (`sa_file`, `spp`, `active_key_id`): a port uses one
//! security association, named by its security parameter pointer (SPP), that
//! holds one or more keys by key id. Outgoing messages are signed with the
//! association's active key; incoming ones are accepted when signed with any of
//! its keys, which lets keys roll over. Only immediate security is supported
//! (secParamIndicator 0: no disclosedKey, sequenceNo or RES fields), which is
//! also all linuxptp supports.
//!
//! # What the ICV covers
//!
//! As in linuxptp (`sad.c`: `sad_generate_icv` on send, `sad_check_auth_tlv` on
//! receive): the message bytes as sent, from the first header byte up to, not
//! including, the ICV. That is the header (its messageLength counting the
//! AUTHENTICATION TLV), the body, every TLV before the AUTHENTICATION TLV
//! (earlier AUTHENTICATION TLVs included), and the AUTHENTICATION TLV's own
//! tlvType, lengthField, SPP, secParamIndicator and keyID. Reserved bytes are
//! covered as sent, since the ICV is computed on the raw bytes, not on a
//! re-encoding.
//!
//! By default nothing is zeroed: the correctionField is covered, so a
//! transparent clock that updates it invalidates the ICV. An association that
//! allows a mutable correction (linuxptp's `allow_mutable 1`, here
//! [`SecurityAssociation::with_mutable_correction`]) computes and checks the ICV
//! with the 8 correctionField bytes taken as zero, on both sides: the
//! correction then travels unprotected, and a receiver should treat it so.
//!
//! The AUTHENTICATION TLV must be the message's last TLV (linuxptp enforces the
//! same), and its lengthField must be exactly 6 plus the key's ICV length.

use std::collections::BTreeMap;
use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::wire::{
    AuthenticationTlv, DecodeError, Header, MessageType, PortIdentity, PtpMessage, Tlv,
};

type HmacSha256 = Hmac<Sha256>;

/// Where correctionField sits in the header.
const CORRECTION_FIELD: std::ops::Range<usize> = 8..16;

/// How the ICV is computed: linuxptp's HMAC algorithms (its AES-CMAC ones are
/// not supported).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IcvAlgorithm {
    /// HMAC-SHA256 truncated to its leftmost 16 bytes (linuxptp `SHA256-128`).
    HmacSha256Trunc128,
    /// HMAC-SHA256, all 32 bytes (linuxptp `SHA256`).
    HmacSha256,
}

impl IcvAlgorithm {
    /// The ICV's length on the wire.
    pub const fn icv_len(self) -> usize {
        match self {
            IcvAlgorithm::HmacSha256Trunc128 => 16,
            IcvAlgorithm::HmacSha256 => 32,
        }
    }

    /// linuxptp's name for the algorithm in an `sa_file` key line.
    pub const fn label(self) -> &'static str {
        match self {
            IcvAlgorithm::HmacSha256Trunc128 => "SHA256-128",
            IcvAlgorithm::HmacSha256 => "SHA256",
        }
    }

    /// Parses [`IcvAlgorithm::label`], ignoring case as linuxptp does.
    pub fn from_label(label: &str) -> Option<Self> {
        [IcvAlgorithm::HmacSha256Trunc128, IcvAlgorithm::HmacSha256]
            .into_iter()
            .find(|a| a.label().eq_ignore_ascii_case(label))
    }
}

/// One key of a security association.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    pub algorithm: IcvAlgorithm,
    /// The shared secret; HMAC takes any non-empty length (32 bytes or more is
    /// the sensible choice for SHA-256).
    pub secret: Vec<u8>,
}

impl Key {
    pub fn new(algorithm: IcvAlgorithm, secret: impl Into<Vec<u8>>) -> Self {
        Key {
            algorithm,
            secret: secret.into(),
        }
    }
}

impl fmt::Debug for Key {
    /// Keeps the secret out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("algorithm", &self.algorithm)
            .field("secret", &format_args!("<{} bytes>", self.secret.len()))
            .finish()
    }
}

/// Why a security association cannot be set up as asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SaConfigError {
    /// Key ids run from 1 (as in linuxptp); 0 is not one.
    #[error("key id 0 is not allowed: key ids run from 1")]
    KeyIdZero,
    #[error("key {0} has an empty secret")]
    EmptySecret(u32),
    /// The active key must be one of the association's keys.
    #[error("key {0} is not in the security association")]
    UnknownActiveKey(u32),
    /// The active key cannot be removed: choose another one first.
    #[error("key {0} is the active key")]
    RemovingActiveKey(u32),
}

/// Why [`SecurityAssociation::verify`] rejected a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Not a PTP message, or its TLVs are not well-formed, or its
    /// AUTHENTICATION TLV is (not last, too short, or an ICV length that does
    /// not match the key's algorithm).
    #[error("malformed message: {0}")]
    Malformed(DecodeError),
    /// The message has no AUTHENTICATION TLV.
    #[error("message has no AUTHENTICATION TLV")]
    MissingTlv,
    /// The AUTHENTICATION TLV names another security association.
    #[error("AUTHENTICATION TLV for SPP {0}, not this security association's")]
    UnknownSpp(u8),
    /// The AUTHENTICATION TLV asks for delayed security or optional fields.
    #[error(
        "unsupported secParamIndicator {0:#04x}: only immediate security without optional fields"
    )]
    UnsupportedSecParams(u8),
    /// The AUTHENTICATION TLV names a key the association does not have.
    #[error("unknown key id {0}")]
    UnknownKey(u32),
    /// The ICV does not match: the message was altered, or signed with another
    /// secret.
    #[error("ICV mismatch")]
    BadIcv,
}

impl From<DecodeError> for AuthError {
    fn from(e: DecodeError) -> Self {
        AuthError::Malformed(e)
    }
}

/// A message that passed [`SecurityAssociation::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub spp: u8,
    /// The key that signed it.
    pub key_id: u32,
    pub algorithm: IcvAlgorithm,
    /// The message, decoded; its suffix still ends with the AUTHENTICATION TLV.
    pub message: PtpMessage,
}

/// A security association (§16.14.2, linuxptp's `[security_association]` in its
/// `sa_file`): an SPP, its keys by key id, and the key outgoing messages are
/// signed with.
///
/// Invariants, kept by the constructor and the mutators: every key id is
/// nonzero, every secret non-empty, and the active key is one of the keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityAssociation {
    spp: u8,
    keys: BTreeMap<u32, Key>,
    active_key_id: u32,
    mutable_correction: bool,
}

impl SecurityAssociation {
    pub fn new(
        spp: u8,
        keys: BTreeMap<u32, Key>,
        active_key_id: u32,
    ) -> Result<Self, SaConfigError> {
        for (&key_id, key) in &keys {
            check_key(key_id, key)?;
        }
        if !keys.contains_key(&active_key_id) {
            return Err(SaConfigError::UnknownActiveKey(active_key_id));
        }
        Ok(SecurityAssociation {
            spp,
            keys,
            active_key_id,
            mutable_correction: false,
        })
    }

    /// Whether the correctionField is left out of the ICV (taken as zero), so
    /// that messages survive transparent clocks; linuxptp's `allow_mutable`.
    /// Off by default.
    pub fn with_mutable_correction(mut self, allow: bool) -> Self {
        self.mutable_correction = allow;
        self
    }

    pub fn spp(&self) -> u8 {
        self.spp
    }

    pub fn keys(&self) -> &BTreeMap<u32, Key> {
        &self.keys
    }

    pub fn active_key_id(&self) -> u32 {
        self.active_key_id
    }

    pub fn mutable_correction(&self) -> bool {
        self.mutable_correction
    }

    /// Adds or replaces a key, returning the one it replaces.
    pub fn insert_key(&mut self, key_id: u32, key: Key) -> Result<Option<Key>, SaConfigError> {
        check_key(key_id, &key)?;
        Ok(self.keys.insert(key_id, key))
    }

    /// Removes a key other than the active one.
    pub fn remove_key(&mut self, key_id: u32) -> Result<Option<Key>, SaConfigError> {
        if key_id == self.active_key_id {
            return Err(SaConfigError::RemovingActiveKey(key_id));
        }
        Ok(self.keys.remove(&key_id))
    }

    /// Chooses the key outgoing messages are signed with.
    pub fn set_active_key(&mut self, key_id: u32) -> Result<(), SaConfigError> {
        if !self.keys.contains_key(&key_id) {
            return Err(SaConfigError::UnknownActiveKey(key_id));
        }
        self.active_key_id = key_id;
        Ok(())
    }

    fn active_key(&self) -> &Key {
        &self.keys[&self.active_key_id]
    }

    /// How many bytes [`SecurityAssociation::sign`] adds to a message: the
    /// AUTHENTICATION TLV with the active key's ICV.
    pub fn auth_tlv_len(&self) -> usize {
        Tlv::HEADER_LEN + AuthenticationTlv::FIXED_LEN + self.active_key().algorithm.icv_len()
    }

    /// Encodes `msg` with an AUTHENTICATION TLV appended after its suffix, as
    /// its last TLV, signed with the active key. messageLength covers the TLV.
    ///
    /// `msg.suffix` should be a TLV sequence (or empty): a receiver must be able
    /// to walk the TLVs to find the AUTHENTICATION TLV.
    ///
    /// # Panics
    ///
    /// If the signed message would be longer than 65535 bytes.
    pub fn sign(&self, msg: &PtpMessage) -> Vec<u8> {
        let mut out = Vec::new();
        self.sign_into(msg, &mut out);
        out
    }

    /// Like [`SecurityAssociation::sign`], appending to `out`.
    pub fn sign_into(&self, msg: &PtpMessage, out: &mut Vec<u8>) {
        let key = self.active_key();
        let icv_len = key.algorithm.icv_len();
        let auth = AuthenticationTlv {
            spp: self.spp,
            sec_param_indicator: 0,
            key_id: self.active_key_id,
            icv: vec![0; icv_len],
        };
        let mut signed = msg.clone();
        signed.push_tlv(&auth.to_tlv());
        let start = out.len();
        signed.encode(out);
        let icv_start = out.len() - icv_len;
        let icv = self.icv(key, &out[start..icv_start]);
        out[icv_start..].copy_from_slice(&icv);
    }

    /// Checks the AUTHENTICATION TLV that ends the message at the start of
    /// `bytes` (bytes past messageLength are ignored, as by
    /// [`PtpMessage::decode`]). It must name this association's SPP and one of
    /// its keys, and its ICV must match; the comparison is constant-time.
    ///
    /// Replay protection is separate: see [`ReplayWindow`].
    pub fn verify(&self, bytes: &[u8]) -> Result<Verified, AuthError> {
        let message = PtpMessage::decode(bytes)?;
        let mut last = None;
        let mut auth_seen = false;
        for tlv in message.tlv_iter() {
            let tlv = tlv?;
            auth_seen |= tlv.tlv_type == Tlv::AUTHENTICATION;
            last = Some(tlv);
        }
        let last = match last {
            Some(tlv) if tlv.tlv_type == Tlv::AUTHENTICATION => tlv,
            _ if auth_seen => {
                return Err(AuthError::Malformed(DecodeError::BadTlv {
                    tlv_type: Tlv::AUTHENTICATION,
                    reason: "not the last TLV",
                }));
            }
            _ => return Err(AuthError::MissingTlv),
        };
        let auth = AuthenticationTlv::from_value(last.tlv_type, last.value)?;
        if auth.spp != self.spp {
            return Err(AuthError::UnknownSpp(auth.spp));
        }
        if auth.sec_param_indicator != 0 {
            return Err(AuthError::UnsupportedSecParams(auth.sec_param_indicator));
        }
        let key = self
            .keys
            .get(&auth.key_id)
            .ok_or(AuthError::UnknownKey(auth.key_id))?;
        let icv_len = key.algorithm.icv_len();
        if auth.icv.len() != icv_len {
            return Err(AuthError::Malformed(DecodeError::BadTlv {
                tlv_type: Tlv::AUTHENTICATION,
                reason: "ICV length does not match the key's algorithm",
            }));
        }
        // The AUTHENTICATION TLV is last, so the ICV ends the message.
        let icv_start = usize::from(message.header.message_length) - icv_len;
        let mac = self.mac(key, &bytes[..icv_start]);
        let icv = &bytes[icv_start..icv_start + icv_len];
        let checked = match key.algorithm {
            IcvAlgorithm::HmacSha256Trunc128 => mac.verify_truncated_left(icv),
            IcvAlgorithm::HmacSha256 => mac.verify_slice(icv),
        };
        checked.map_err(|_| AuthError::BadIcv)?;
        Ok(Verified {
            spp: auth.spp,
            key_id: auth.key_id,
            algorithm: key.algorithm,
            message,
        })
    }

    /// The HMAC state after `covered`, the message up to the ICV, with the
    /// correctionField zeroed if the association says so. `covered` always
    /// holds a whole header here.
    fn mac(&self, key: &Key, covered: &[u8]) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(&key.secret).expect("HMAC takes keys of any length");
        if self.mutable_correction {
            mac.update(&covered[..CORRECTION_FIELD.start]);
            mac.update(&[0; CORRECTION_FIELD.end - CORRECTION_FIELD.start]);
            mac.update(&covered[CORRECTION_FIELD.end..]);
        } else {
            mac.update(covered);
        }
        mac
    }

    /// The ICV of `covered`, truncated to the key's algorithm.
    fn icv(&self, key: &Key, covered: &[u8]) -> Vec<u8> {
        let full = self.mac(key, covered).finalize().into_bytes();
        full[..key.algorithm.icv_len()].to_vec()
    }
}

fn check_key(key_id: u32, key: &Key) -> Result<(), SaConfigError> {
    if key_id == 0 {
        return Err(SaConfigError::KeyIdZero);
    }
    if key.secret.is_empty() {
        return Err(SaConfigError::EmptySecret(key_id));
    }
    Ok(())
}

/// Why [`ReplayWindow`] rejected a sequenceId.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The sequenceId last accepted, again.
    #[error("sequenceId {sequence_id} was already accepted")]
    Duplicate { sequence_id: u16 },
    /// Before the last accepted one (in 16-bit wrap-around order).
    #[error("sequenceId {sequence_id} is older than the last accepted {last}")]
    Old { sequence_id: u16, last: u16 },
    /// After the last accepted one, but by more than the window allows.
    #[error("sequenceId {sequence_id} is more than {max_jump} past the last accepted {last}")]
    TooFarAhead {
        sequence_id: u16,
        last: u16,
        max_jump: u16,
    },
}

/// Decodes a message, verifying it first when the port has a security
/// association: the one entry point for everything a port receives.
pub fn decode(
    security: Option<&SecurityAssociation>,
    bytes: &[u8],
) -> Result<PtpMessage, AuthError> {
    match security {
        Some(sa) => sa.verify(bytes).map(|v| v.message),
        None => PtpMessage::decode(bytes).map_err(AuthError::Malformed),
    }
}

/// Anti-replay check on sequenceIds: per (sourcePortIdentity, messageType), the
/// last sequenceId accepted, and whether a new one comes after it.
///
/// "After" is 16-bit serial-number order: `new` is newer than `last` when
/// `new - last` (mod 2^16) is between 1 and `max_jump`, so 65535 → 0 is a step
/// forward. Anything else is a replay: the same id again, an older one (up to
/// 32768 behind), or a jump further ahead than `max_jump`, which with a small
/// window is more likely an old message from the previous wrap than a burst of
/// that many losses. linuxptp's `seqid_window` (default 3, checked on Sync and
/// Follow_Up only) is the same bound; the default here, [`ReplayWindow::MAX_JUMP`],
/// only rules out the older half of the circle.
///
/// Use it after the ICV checks out: [`ReplayWindow::check`] before, and
/// [`ReplayWindow::record`] once the message is accepted (or
/// [`ReplayWindow::accept`] for both), so that forged messages cannot move the
/// window. When a source restarts its sequence (a master reboots), its entries
/// must be dropped with [`ReplayWindow::forget`], typically when its announce
/// receipt times out; with a small `max_jump` the same applies after a long
/// outage. Only messages addressed to this port should be fed in: a
/// Delay_Resp's sequenceId follows the requester's Delay_Req counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayWindow {
    max_jump: u16,
    last: BTreeMap<(PortIdentity, MessageType), u16>,
}

impl Default for ReplayWindow {
    fn default() -> Self {
        ReplayWindow::new(ReplayWindow::MAX_JUMP)
    }
}

impl ReplayWindow {
    /// The largest forward step serial-number order allows.
    pub const MAX_JUMP: u16 = 0x7FFF;

    /// `max_jump` is clamped to 1..=[`ReplayWindow::MAX_JUMP`].
    pub fn new(max_jump: u16) -> Self {
        ReplayWindow {
            max_jump: max_jump.clamp(1, Self::MAX_JUMP),
            last: BTreeMap::new(),
        }
    }

    pub fn max_jump(&self) -> u16 {
        self.max_jump
    }

    /// The last sequenceId accepted from `source` for `message_type`.
    pub fn last_accepted(&self, source: PortIdentity, message_type: MessageType) -> Option<u16> {
        self.last.get(&(source, message_type)).copied()
    }

    /// Whether `sequence_id` would be accepted; changes nothing. The first
    /// message from a source (of a type) is always accepted.
    pub fn check(
        &self,
        source: PortIdentity,
        message_type: MessageType,
        sequence_id: u16,
    ) -> Result<(), ReplayError> {
        let Some(last) = self.last_accepted(source, message_type) else {
            return Ok(());
        };
        match sequence_id.wrapping_sub(last) {
            0 => Err(ReplayError::Duplicate { sequence_id }),
            step if step > Self::MAX_JUMP => Err(ReplayError::Old { sequence_id, last }),
            step if step > self.max_jump => Err(ReplayError::TooFarAhead {
                sequence_id,
                last,
                max_jump: self.max_jump,
            }),
            _ => Ok(()),
        }
    }

    /// Makes `sequence_id` the last accepted, unconditionally.
    pub fn record(&mut self, source: PortIdentity, message_type: MessageType, sequence_id: u16) {
        self.last.insert((source, message_type), sequence_id);
    }

    /// [`ReplayWindow::check`], then [`ReplayWindow::record`] if it passes.
    pub fn accept(
        &mut self,
        source: PortIdentity,
        message_type: MessageType,
        sequence_id: u16,
    ) -> Result<(), ReplayError> {
        self.check(source, message_type, sequence_id)?;
        self.record(source, message_type, sequence_id);
        Ok(())
    }

    /// [`ReplayWindow::check`] on a message header's source, type and sequenceId.
    pub fn check_header(&self, header: &Header) -> Result<(), ReplayError> {
        self.check(
            header.source_port_identity,
            header.message_type,
            header.sequence_id,
        )
    }

    /// [`ReplayWindow::accept`] on a message header's source, type and
    /// sequenceId.
    pub fn accept_header(&mut self, header: &Header) -> Result<(), ReplayError> {
        self.accept(
            header.source_port_identity,
            header.message_type,
            header.sequence_id,
        )
    }

    /// Drops everything remembered about `source`.
    pub fn forget(&mut self, source: PortIdentity) {
        self.last.retain(|(s, _), _| *s != source);
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        self.last.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ptp::wire::{
        AnnounceBody, ClockIdentity, DelayRespBody, ManagementAction, ManagementBody,
        ManagementTlv, MessageBody, PathTraceTlv, PdelayReqBody, PdelayRespBody,
        PdelayRespFollowUpBody, SignalingBody, SyncBody,
    };
    use crate::time::{TimeInterval, WireTimestamp};

    const SECRET_1: &[u8] = b"0123456789abcdef0123456789abcdef";
    const SECRET_2: &[u8] = b"another shared secret, 32 bytes!";

    fn sa(spp: u8, algorithm: IcvAlgorithm) -> SecurityAssociation {
        let keys = BTreeMap::from([
            (1, Key::new(algorithm, SECRET_1)),
            (2, Key::new(algorithm, SECRET_2)),
        ]);
        SecurityAssociation::new(spp, keys, 1).unwrap()
    }

    fn port(n: u8) -> PortIdentity {
        PortIdentity {
            clock_identity: ClockIdentity([n; 8]),
            port_number: u16::from(n),
        }
    }

    fn header(t: MessageType) -> Header {
        let mut h = Header::new(t, 0, port(1), 0x1234, -3);
        h.correction = TimeInterval(0x0102_0304_0506);
        h
    }

    fn messages() -> Vec<PtpMessage> {
        let ts = WireTimestamp {
            seconds: 1_767_225_637,
            nanoseconds: 5,
        };
        let bodies = [
            MessageBody::Sync(SyncBody {
                origin_timestamp: ts,
            }),
            MessageBody::DelayResp(DelayRespBody {
                receive_timestamp: ts,
                requesting_port_identity: port(2),
            }),
            MessageBody::Announce(AnnounceBody::default()),
            MessageBody::PdelayReq(PdelayReqBody {
                origin_timestamp: ts,
            }),
            MessageBody::PdelayResp(PdelayRespBody {
                request_receipt_timestamp: ts,
                requesting_port_identity: port(3),
            }),
            MessageBody::PdelayRespFollowUp(PdelayRespFollowUpBody {
                response_origin_timestamp: ts,
                requesting_port_identity: port(3),
            }),
            MessageBody::Signaling(SignalingBody {
                target_port_identity: PortIdentity::ALL,
            }),
            MessageBody::Management(ManagementBody {
                target_port_identity: PortIdentity::ALL,
                starting_boundary_hops: 1,
                boundary_hops: 1,
                action: ManagementAction::Get,
            }),
        ];
        let mut out = Vec::new();
        for body in bodies {
            let msg = PtpMessage::new(header(body.message_type()), body);
            out.push(msg.clone());
            let tlv = if body.message_type() == MessageType::Management {
                ManagementTlv {
                    management_id: 0x2000,
                    data: vec![],
                }
                .to_tlv()
            } else {
                PathTraceTlv {
                    path_sequence: vec![ClockIdentity([9; 8])],
                }
                .to_tlv()
            };
            out.push(msg.with_tlvs(&[tlv]));
        }
        out
    }

    #[test]
    fn sign_then_verify_succeeds_for_every_type_and_algorithm() {
        for algorithm in [IcvAlgorithm::HmacSha256Trunc128, IcvAlgorithm::HmacSha256] {
            let sa = sa(7, algorithm);
            for msg in messages() {
                let bytes = sa.sign(&msg);
                let fixed = msg.message_type().fixed_length();
                assert_eq!(bytes.len(), fixed + msg.suffix.len() + sa.auth_tlv_len());
                assert_eq!(
                    usize::from(u16::from_be_bytes([bytes[2], bytes[3]])),
                    bytes.len()
                );
                let verified = sa.verify(&bytes).unwrap();
                assert_eq!((verified.spp, verified.key_id), (7, 1));
                assert_eq!(verified.algorithm, algorithm);
                // The message is intact; its TLVs end with the AUTHENTICATION TLV.
                assert_eq!(verified.message.body, msg.body);
                assert_eq!(verified.message.suffix[..msg.suffix.len()], msg.suffix);
                let tlvs = verified.message.tlvs().unwrap();
                let auth = AuthenticationTlv::from_tlv(tlvs.last().unwrap()).unwrap();
                assert_eq!((auth.spp, auth.sec_param_indicator, auth.key_id), (7, 0, 1));
                assert_eq!(auth.icv.len(), algorithm.icv_len());
                // Padding after messageLength does not matter.
                let mut padded = bytes.clone();
                padded.extend_from_slice(&[0xAB; 9]);
                assert_eq!(sa.verify(&padded), Ok(verified));
            }
        }
    }

    #[test]
    fn the_auth_tlv_layout_is_linuxptps() {
        let sa = sa(0x42, IcvAlgorithm::HmacSha256Trunc128);
        let msg = &messages()[0];
        let bytes = sa.sign(msg);
        assert_eq!(bytes.len(), 44 + 26);
        assert_eq!(
            bytes[44..54],
            [0x80, 0x09, 0x00, 22, 0x42, 0x00, 0x00, 0x00, 0x00, 0x01]
        );
    }

    /// The ICV is HMAC-SHA256 of every byte before it, nothing zeroed; with a
    /// mutable correction, the same with the correctionField zeroed.
    #[test]
    fn the_icv_covers_every_byte_before_it() {
        let msg = &messages()[1];
        for mutable in [false, true] {
            let sa = sa(1, IcvAlgorithm::HmacSha256).with_mutable_correction(mutable);
            let bytes = sa.sign(msg);
            let (covered, icv) = bytes.split_at(bytes.len() - 32);
            let mut covered = covered.to_vec();
            if mutable {
                covered[8..16].fill(0);
            }
            let mut mac = HmacSha256::new_from_slice(SECRET_1).unwrap();
            mac.update(&covered);
            assert_eq!(mac.finalize().into_bytes()[..], icv[..]);
        }
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test case 2, through the same code path as the ICV.
        let sa = SecurityAssociation::new(
            0,
            BTreeMap::from([(1, Key::new(IcvAlgorithm::HmacSha256, b"Jefe".to_vec()))]),
            1,
        )
        .unwrap();
        let key = sa.active_key();
        let icv = sa.icv(key, b"what do ya want for nothing?");
        let expected = [
            0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95,
            0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9,
            0x64, 0xec, 0x38, 0x43,
        ];
        assert_eq!(icv, expected);
        let truncated = Key::new(IcvAlgorithm::HmacSha256Trunc128, b"Jefe".to_vec());
        assert_eq!(
            sa.icv(&truncated, b"what do ya want for nothing?"),
            expected[..16]
        );
    }

    #[test]
    fn flipping_any_byte_makes_verify_fail() {
        for algorithm in [IcvAlgorithm::HmacSha256Trunc128, IcvAlgorithm::HmacSha256] {
            for mutable in [false, true] {
                let sa = sa(7, algorithm).with_mutable_correction(mutable);
                for msg in messages() {
                    let bytes = sa.sign(&msg);
                    for i in 0..bytes.len() {
                        for flip in [0x01, 0x80, 0xFF] {
                            let mut bad = bytes.clone();
                            bad[i] ^= flip;
                            let result = sa.verify(&bad);
                            if mutable && CORRECTION_FIELD.contains(&i) {
                                assert!(result.is_ok(), "byte {i} is not covered");
                            } else {
                                assert!(
                                    result.is_err(),
                                    "{:?}: byte {i} ^ {flip:#x} went unnoticed",
                                    msg.message_type()
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_changed_correction_fails_unless_mutable() {
        let mut msg = messages()[0].clone();
        for mutable in [false, true] {
            let sa = sa(7, IcvAlgorithm::HmacSha256Trunc128).with_mutable_correction(mutable);
            let mut bytes = sa.sign(&msg);
            // A transparent clock adds its residence time.
            bytes[8..16].copy_from_slice(&(0x0102_0304_0506i64 + (250 << 16)).to_be_bytes());
            let result = sa.verify(&bytes);
            if mutable {
                assert!(result.is_ok());
            } else {
                assert_eq!(result, Err(AuthError::BadIcv));
            }
        }
        // The same message signed with a different correction gives the same ICV
        // only when the correction is mutable.
        let fixed = sa(7, IcvAlgorithm::HmacSha256);
        let mutable = fixed.clone().with_mutable_correction(true);
        let a = (fixed.sign(&msg), mutable.sign(&msg));
        msg.header.correction = TimeInterval(-1);
        let b = (fixed.sign(&msg), mutable.sign(&msg));
        assert_ne!(a.0[a.0.len() - 32..], b.0[b.0.len() - 32..]);
        assert_eq!(a.1[a.1.len() - 32..], b.1[b.1.len() - 32..]);
    }

    #[test]
    fn a_missing_tlv_is_reported() {
        let sa = sa(7, IcvAlgorithm::HmacSha256Trunc128);
        for msg in messages() {
            assert_eq!(sa.verify(&msg.to_bytes()), Err(AuthError::MissingTlv));
        }
    }

    #[test]
    fn the_auth_tlv_must_be_last() {
        let sa = sa(7, IcvAlgorithm::HmacSha256Trunc128);
        let msg = &messages()[0];
        let signed = PtpMessage::decode(&sa.sign(msg)).unwrap();
        let trailing = signed.with_tlvs(&[Tlv::new(Tlv::PAD, vec![0; 2])]);
        assert_eq!(
            sa.verify(&trailing.to_bytes()),
            Err(AuthError::Malformed(DecodeError::BadTlv {
                tlv_type: Tlv::AUTHENTICATION,
                reason: "not the last TLV"
            }))
        );
    }

    #[test]
    fn a_second_signature_covers_the_first() {
        let inner = sa(1, IcvAlgorithm::HmacSha256);
        let outer = sa(2, IcvAlgorithm::HmacSha256Trunc128);
        let once = PtpMessage::decode(&inner.sign(&messages()[0])).unwrap();
        let twice = outer.sign(&once);
        assert_eq!(outer.verify(&twice).map(|v| v.spp), Ok(2));
        // The inner association only looks at the last TLV.
        assert_eq!(inner.verify(&twice), Err(AuthError::UnknownSpp(2)));
    }

    #[test]
    fn a_wrong_spp_is_reported() {
        let signer = sa(7, IcvAlgorithm::HmacSha256Trunc128);
        let verifier = sa(8, IcvAlgorithm::HmacSha256Trunc128);
        let bytes = signer.sign(&messages()[0]);
        assert_eq!(verifier.verify(&bytes), Err(AuthError::UnknownSpp(7)));
    }

    #[test]
    fn an_unknown_key_is_reported_and_inactive_keys_verify() {
        let mut signer = sa(7, IcvAlgorithm::HmacSha256Trunc128);
        signer
            .insert_key(
                3,
                Key::new(IcvAlgorithm::HmacSha256Trunc128, b"three".to_vec()),
            )
            .unwrap();
        signer.set_active_key(3).unwrap();
        let verifier = sa(7, IcvAlgorithm::HmacSha256Trunc128);
        let bytes = signer.sign(&messages()[0]);
        assert_eq!(verifier.verify(&bytes), Err(AuthError::UnknownKey(3)));
        // Key 2 is not active on the verifier, but it still verifies: rollover.
        signer.set_active_key(2).unwrap();
        let bytes = signer.sign(&messages()[0]);
        assert_eq!(verifier.verify(&bytes).map(|v| v.key_id), Ok(2));
    }

    #[test]
    fn same_key_id_with_another_secret_or_algorithm_fails() {
        let signer = sa(7, IcvAlgorithm::HmacSha256Trunc128);
        let bytes = signer.sign(&messages()[0]);
        let other_secret = SecurityAssociation::new(
            7,
            BTreeMap::from([(1, Key::new(IcvAlgorithm::HmacSha256Trunc128, SECRET_2))]),
            1,
        )
        .unwrap();
        assert_eq!(other_secret.verify(&bytes), Err(AuthError::BadIcv));
        let other_algorithm = sa(7, IcvAlgorithm::HmacSha256);
        assert_eq!(
            other_algorithm.verify(&bytes),
            Err(AuthError::Malformed(DecodeError::BadTlv {
                tlv_type: Tlv::AUTHENTICATION,
                reason: "ICV length does not match the key's algorithm"
            }))
        );
    }

    #[test]
    fn optional_fields_are_unsupported() {
        let sa = sa(7, IcvAlgorithm::HmacSha256Trunc128);
        let mut bytes = sa.sign(&messages()[0]);
        bytes[49] = AuthenticationTlv::SEC_PARAM_SEQUENCE_NO;
        assert_eq!(
            sa.verify(&bytes),
            Err(AuthError::UnsupportedSecParams(0x02))
        );
    }

    #[test]
    fn malformed_input_is_reported() {
        let sa = sa(7, IcvAlgorithm::HmacSha256Trunc128);
        assert_eq!(
            sa.verify(&[]),
            Err(AuthError::Malformed(DecodeError::TooShort {
                needed: 34,
                got: 0
            }))
        );
        let bytes = sa.sign(&messages()[0]);
        for len in 0..bytes.len() {
            assert!(matches!(
                sa.verify(&bytes[..len]),
                Err(AuthError::Malformed(_))
            ));
        }
        // An AUTHENTICATION TLV too short for its fixed fields.
        let short = messages()[0]
            .clone()
            .with_tlvs(&[Tlv::new(Tlv::AUTHENTICATION, vec![7, 0, 0])]);
        assert!(matches!(
            sa.verify(&short.to_bytes()),
            Err(AuthError::Malformed(DecodeError::BadTlv { .. }))
        ));
        // A raw suffix that is not TLVs.
        let mut raw = messages()[0].clone();
        raw.suffix = vec![1, 2, 3];
        raw.header.message_length += 3;
        assert!(matches!(
            sa.verify(&raw.to_bytes()),
            Err(AuthError::Malformed(DecodeError::TlvOverrun { .. }))
        ));
    }

    #[test]
    fn association_invariants_hold() {
        let key = || Key::new(IcvAlgorithm::HmacSha256, SECRET_1);
        assert_eq!(
            SecurityAssociation::new(1, BTreeMap::from([(0, key())]), 0),
            Err(SaConfigError::KeyIdZero)
        );
        assert_eq!(
            SecurityAssociation::new(
                1,
                BTreeMap::from([(4, Key::new(IcvAlgorithm::HmacSha256, vec![]))]),
                4
            ),
            Err(SaConfigError::EmptySecret(4))
        );
        assert_eq!(
            SecurityAssociation::new(1, BTreeMap::from([(1, key())]), 2),
            Err(SaConfigError::UnknownActiveKey(2))
        );
        let mut sa = SecurityAssociation::new(1, BTreeMap::from([(1, key())]), 1).unwrap();
        assert_eq!(sa.remove_key(1), Err(SaConfigError::RemovingActiveKey(1)));
        assert_eq!(
            sa.set_active_key(2),
            Err(SaConfigError::UnknownActiveKey(2))
        );
        assert_eq!(sa.insert_key(0, key()), Err(SaConfigError::KeyIdZero));
        assert_eq!(sa.insert_key(2, key()), Ok(None));
        sa.set_active_key(2).unwrap();
        assert_eq!(sa.remove_key(1), Ok(Some(key())));
        assert_eq!(sa.keys().len(), 1);
        assert_eq!(sa.active_key_id(), 2);
        assert_eq!(sa.auth_tlv_len(), 4 + 6 + 32);
    }

    #[test]
    fn keys_do_not_debug_print_their_secret() {
        let printed = format!("{:?}", sa(1, IcvAlgorithm::HmacSha256));
        assert!(!printed.contains("0123456789"), "{printed}");
        assert!(printed.contains("<32 bytes>"), "{printed}");
    }

    #[test]
    fn algorithm_labels_are_linuxptps() {
        assert_eq!(
            IcvAlgorithm::from_label("sha256-128"),
            Some(IcvAlgorithm::HmacSha256Trunc128)
        );
        assert_eq!(
            IcvAlgorithm::from_label("SHA256"),
            Some(IcvAlgorithm::HmacSha256)
        );
        assert_eq!(IcvAlgorithm::from_label("AES128"), None);
    }

    mod replay {
        use super::*;

        const SYNC: MessageType = MessageType::Sync;

        #[test]
        fn the_first_id_is_accepted_then_only_newer_ones() {
            let mut w = ReplayWindow::default();
            assert_eq!(w.last_accepted(port(1), SYNC), None);
            assert_eq!(w.accept(port(1), SYNC, 100), Ok(()));
            assert_eq!(
                w.accept(port(1), SYNC, 100),
                Err(ReplayError::Duplicate { sequence_id: 100 })
            );
            assert_eq!(
                w.accept(port(1), SYNC, 99),
                Err(ReplayError::Old {
                    sequence_id: 99,
                    last: 100
                })
            );
            assert_eq!(w.accept(port(1), SYNC, 101), Ok(()));
            // Losses are fine.
            assert_eq!(w.accept(port(1), SYNC, 150), Ok(()));
            assert_eq!(
                w.accept(port(1), SYNC, 101),
                Err(ReplayError::Old {
                    sequence_id: 101,
                    last: 150
                })
            );
            assert_eq!(w.last_accepted(port(1), SYNC), Some(150));
        }

        #[test]
        fn sequence_ids_wrap_around() {
            let mut w = ReplayWindow::default();
            w.accept(port(1), SYNC, 65534).unwrap();
            assert_eq!(w.accept(port(1), SYNC, 65535), Ok(()));
            assert_eq!(w.accept(port(1), SYNC, 0), Ok(()));
            assert_eq!(w.accept(port(1), SYNC, 1), Ok(()));
            assert_eq!(
                w.accept(port(1), SYNC, 65535),
                Err(ReplayError::Old {
                    sequence_id: 65535,
                    last: 1
                })
            );
            // Half the circle ahead is still ahead; one more is behind.
            assert_eq!(w.check(port(1), SYNC, 1 + 0x7FFF), Ok(()));
            assert_eq!(
                w.check(port(1), SYNC, 1 + 0x8000),
                Err(ReplayError::Old {
                    sequence_id: 0x8001,
                    last: 1
                })
            );
        }

        #[test]
        fn a_small_window_rejects_big_jumps() {
            let mut w = ReplayWindow::new(3);
            w.accept(port(1), SYNC, 65534).unwrap();
            assert_eq!(
                w.accept(port(1), SYNC, 2),
                Err(ReplayError::TooFarAhead {
                    sequence_id: 2,
                    last: 65534,
                    max_jump: 3
                })
            );
            assert_eq!(w.accept(port(1), SYNC, 1), Ok(()));
            assert_eq!(ReplayWindow::new(0).max_jump(), 1);
            assert_eq!(ReplayWindow::new(u16::MAX).max_jump(), 0x7FFF);
        }

        #[test]
        fn sources_and_types_are_tracked_apart() {
            let mut w = ReplayWindow::default();
            w.accept(port(1), SYNC, 10).unwrap();
            assert_eq!(w.accept(port(2), SYNC, 10), Ok(()));
            assert_eq!(w.accept(port(1), MessageType::FollowUp, 10), Ok(()));
            assert_eq!(w.accept(port(1), MessageType::Announce, 3), Ok(()));
            assert!(w.accept(port(1), SYNC, 10).is_err());
            w.forget(port(1));
            assert_eq!(w.last_accepted(port(1), SYNC), None);
            assert_eq!(w.last_accepted(port(2), SYNC), Some(10));
            assert_eq!(w.accept(port(1), SYNC, 10), Ok(()));
            w.clear();
            assert_eq!(w.last_accepted(port(2), SYNC), None);
        }

        #[test]
        fn check_changes_nothing_and_headers_work() {
            let mut w = ReplayWindow::default();
            let mut h = header(SYNC);
            assert_eq!(w.check_header(&h), Ok(()));
            assert_eq!(w.check_header(&h), Ok(()));
            assert_eq!(w.accept_header(&h), Ok(()));
            assert_eq!(
                w.check_header(&h),
                Err(ReplayError::Duplicate {
                    sequence_id: 0x1234
                })
            );
            h.sequence_id += 1;
            w.record(h.source_port_identity, SYNC, h.sequence_id);
            assert_eq!(w.last_accepted(port(1), SYNC), Some(0x1235));
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(500))]

            #[test]
            fn verify_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
                let _ = sa(7, IcvAlgorithm::HmacSha256Trunc128).verify(&bytes);
            }

            #[test]
            fn any_single_byte_change_is_caught(
                which in 0..16usize,
                pos in any::<prop::sample::Index>(),
                delta in 1..=255u8,
            ) {
                let sa = sa(7, IcvAlgorithm::HmacSha256Trunc128);
                let msgs = messages();
                let bytes = sa.sign(&msgs[which % msgs.len()]);
                let mut bad = bytes.clone();
                let i = pos.index(bad.len());
                bad[i] = bad[i].wrapping_add(delta);
                prop_assert!(sa.verify(&bad).is_err());
            }

            #[test]
            fn replay_accepts_exactly_the_forward_steps(
                last in any::<u16>(),
                next in any::<u16>(),
                max_jump in 1..=0x7FFFu16,
            ) {
                let mut w = ReplayWindow::new(max_jump);
                w.record(port(1), MessageType::Sync, last);
                let step = next.wrapping_sub(last);
                let accepted = w.check(port(1), MessageType::Sync, next).is_ok();
                prop_assert_eq!(accepted, step >= 1 && step <= max_jump);
            }
        }
    }
}
