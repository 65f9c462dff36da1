//! Arbitrary bytes through the PTP wire codec and the AUTHENTICATION TLV.
//!
//! Whatever the input: `Header::decode`, `PtpMessage::decode`,
//! `Tlv::decode_all`, `AuthenticationTlv::from_value` and the security
//! association's check never panic; whatever decodes re-encodes to bytes
//! that decode to the same message and re-encode identically; a header
//! decodes to the header of the message; a well-formed TLV sequence
//! re-encodes byte for byte; and a decoded message, once signed, verifies.

#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use camsync_engine::ptp::security::{self, IcvAlgorithm, Key, SecurityAssociation};
use camsync_engine::ptp::wire::{AuthenticationTlv, Header, PtpMessage, Tlv};
use libfuzzer_sys::fuzz_target;

static SA: LazyLock<SecurityAssociation> = LazyLock::new(|| {
    let keys = BTreeMap::from([
        (
            1,
            Key::new(
                IcvAlgorithm::HmacSha256Trunc128,
                b"fuzzing key one".to_vec(),
            ),
        ),
        (
            2,
            Key::new(IcvAlgorithm::HmacSha256, b"fuzzing key two".to_vec()),
        ),
    ]);
    SecurityAssociation::new(0, keys, 1).expect("valid security association")
});

fuzz_target!(|data: &[u8]| {
    // The bytes as a TLV sequence, and as an AUTHENTICATION TLV's value.
    if let Ok(tlvs) = Tlv::decode_all(data) {
        let mut again = Vec::new();
        Tlv::encode_all(&tlvs, &mut again);
        assert_eq!(again, data, "a TLV sequence re-encodes byte for byte");
        for tlv in &tlvs {
            let _ = AuthenticationTlv::from_tlv(tlv);
        }
    }
    if let Ok(auth) = AuthenticationTlv::from_value(Tlv::AUTHENTICATION, data) {
        assert_eq!(auth.to_tlv().value, data);
    }

    // Checking the ICV must cope with anything (and essentially never pass).
    if let Ok(verified) = SA.verify(data) {
        assert_eq!(PtpMessage::decode(data).as_ref(), Ok(&verified.message));
    }
    let _ = security::decode(Some(&SA), data);

    let header = Header::decode(data);
    let Ok(msg) = PtpMessage::decode(data) else {
        return;
    };
    assert_eq!(header.as_ref(), Ok(&msg.header));
    let bytes = msg.to_bytes();
    assert_eq!(bytes.len(), usize::from(msg.header.message_length));
    let again = PtpMessage::decode(&bytes).expect("the codec's own encoding decodes");
    assert_eq!(again, msg);
    assert_eq!(again.to_bytes(), bytes);

    if let Ok(tlvs) = msg.tlvs() {
        let mut suffix = Vec::new();
        Tlv::encode_all(&tlvs, &mut suffix);
        assert_eq!(suffix, msg.suffix);

        if bytes.len() + SA.auth_tlv_len() <= usize::from(u16::MAX) {
            let signed = SA.sign(&msg);
            let verified = SA.verify(&signed).expect("a signed message verifies");
            assert_eq!(verified.key_id, SA.active_key_id());
            assert_eq!(verified.message.body, msg.body);
        }
    }
});
