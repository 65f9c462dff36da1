//! TLVs (IEEE 1588-2019 §14): the type-length-value entities that may follow the
//! fixed body of any message, and that are the whole point of Signaling and
//! Management messages.
//!
//! [`Tlv`] is the generic, uninterpreted form: a TLV sequence decodes into
//! `Vec<Tlv>` and encodes back byte for byte, whatever the types. The typed
//! helpers ([`ManagementTlv`], [`PathTraceTlv`], [`AuthenticationTlv`], ...)
//! convert to and from a [`Tlv`] of their type.
//!
//! On the wire a TLV is tlvType (u16), lengthField (u16, the length of the value
//! alone) and the value. 1588 asks for an even lengthField (§14.1.2), but odd
//! ones are accepted here: the length is what it is, and the codec only has to
//! know where the next TLV starts.

use super::DecodeError;
use super::cursor::Reader;
use super::header::ClockIdentity;

/// One TLV, value uninterpreted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tlv {
    pub tlv_type: u16,
    /// The value, without the type and length fields. At most 65535 bytes.
    pub value: Vec<u8>,
}

impl Tlv {
    /// tlvType and lengthField, before the value.
    pub const HEADER_LEN: usize = 4;

    // tlvType values (§14.1.1, Table 52) this codec names.
    pub const MANAGEMENT: u16 = 0x0001;
    pub const MANAGEMENT_ERROR_STATUS: u16 = 0x0002;
    pub const ORGANIZATION_EXTENSION: u16 = 0x0003;
    pub const REQUEST_UNICAST_TRANSMISSION: u16 = 0x0004;
    pub const GRANT_UNICAST_TRANSMISSION: u16 = 0x0005;
    pub const CANCEL_UNICAST_TRANSMISSION: u16 = 0x0006;
    pub const ACKNOWLEDGE_CANCEL_UNICAST_TRANSMISSION: u16 = 0x0007;
    pub const PATH_TRACE: u16 = 0x0008;
    pub const ALTERNATE_TIME_OFFSET_INDICATOR: u16 = 0x0009;
    pub const ORGANIZATION_EXTENSION_PROPAGATE: u16 = 0x4000;
    pub const ORGANIZATION_EXTENSION_DO_NOT_PROPAGATE: u16 = 0x8000;
    pub const PAD: u16 = 0x8008;
    pub const AUTHENTICATION: u16 = 0x8009;

    pub fn new(tlv_type: u16, value: impl Into<Vec<u8>>) -> Self {
        Tlv {
            tlv_type,
            value: value.into(),
        }
    }

    /// Size on the wire: header plus value.
    pub fn encoded_len(&self) -> usize {
        Self::HEADER_LEN + self.value.len()
    }

    /// Appends the TLV to `out`.
    ///
    /// # Panics
    ///
    /// If the value is longer than lengthField can say (65535 bytes), which no
    /// PTP message could carry anyway.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let length =
            u16::try_from(self.value.len()).expect("TLV value longer than lengthField can express");
        out.reserve(self.encoded_len());
        out.extend_from_slice(&self.tlv_type.to_be_bytes());
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(&self.value);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes a whole TLV sequence: `bytes` must be TLVs back to back, to the
    /// last byte. A TLV whose header or value runs past the end is an error.
    pub fn decode_all(bytes: &[u8]) -> Result<Vec<Tlv>, DecodeError> {
        TlvIter::new(bytes)
            .map(|t| t.map(|t| Tlv::new(t.tlv_type, t.value)))
            .collect()
    }

    /// Appends `tlvs` back to back: the inverse of [`Tlv::decode_all`].
    pub fn encode_all(tlvs: &[Tlv], out: &mut Vec<u8>) {
        for tlv in tlvs {
            tlv.encode(out);
        }
    }

    /// Fails unless the TLV's type is `expected`: for the typed helpers.
    fn expect_type(&self, expected: u16) -> Result<(), DecodeError> {
        if self.tlv_type == expected {
            Ok(())
        } else {
            Err(DecodeError::BadTlv {
                tlv_type: self.tlv_type,
                reason: "not the tlvType expected",
            })
        }
    }
}

/// A TLV borrowed from a buffer, with its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlvRef<'a> {
    pub tlv_type: u16,
    pub value: &'a [u8],
    /// Where the TLV (its tlvType) starts, from the start of the TLV sequence.
    pub offset: usize,
}

impl TlvRef<'_> {
    /// Where the TLV ends, from the start of the TLV sequence.
    pub fn end(&self) -> usize {
        self.offset + Tlv::HEADER_LEN + self.value.len()
    }

    pub fn to_owned(&self) -> Tlv {
        Tlv::new(self.tlv_type, self.value)
    }
}

/// Walks a TLV sequence without copying. Yields one error, then stops, if a TLV
/// runs past the end of the buffer.
#[derive(Clone, Debug)]
pub struct TlvIter<'a> {
    rest: &'a [u8],
    offset: usize,
}

impl<'a> TlvIter<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        TlvIter {
            rest: bytes,
            offset: 0,
        }
    }
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<TlvRef<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let overrun = |needed: usize, rest: &[u8], offset: usize| DecodeError::TlvOverrun {
            offset,
            needed,
            got: rest.len(),
        };
        let Some((&[t0, t1, l0, l1], tail)) = self.rest.split_first_chunk::<4>() else {
            let err = overrun(Tlv::HEADER_LEN, self.rest, self.offset);
            self.rest = &[];
            return Some(Err(err));
        };
        let length = usize::from(u16::from_be_bytes([l0, l1]));
        let Some(value) = tail.get(..length) else {
            let err = overrun(Tlv::HEADER_LEN + length, self.rest, self.offset);
            self.rest = &[];
            return Some(Err(err));
        };
        let tlv = TlvRef {
            tlv_type: u16::from_be_bytes([t0, t1]),
            value,
            offset: self.offset,
        };
        self.rest = &tail[length..];
        self.offset = tlv.end();
        Some(Ok(tlv))
    }
}

/// PTPText (§5.3.9) inside a TLV value: a length byte then that many UTF-8
/// bytes. Text longer than 255 bytes is cut to 255.
fn write_text(out: &mut Vec<u8>, text: &[u8]) {
    let text = &text[..text.len().min(255)];
    out.push(text.len() as u8);
    out.extend_from_slice(text);
}

fn read_text(r: &mut Reader<'_>, tlv_type: u16) -> Result<Vec<u8>, DecodeError> {
    let bad = DecodeError::BadTlv {
        tlv_type,
        reason: "PTPText runs past the value",
    };
    let len = r.u8().map_err(|_| bad)?;
    let text = r.rest().get(..usize::from(len)).ok_or(bad)?.to_vec();
    r.skip(text.len())?;
    Ok(text)
}

/// 1588 wants even lengthFields: values built here that may come out odd get
/// one zero byte of padding, which decoding ignores.
fn pad_to_even(value: &mut Vec<u8>) {
    if value.len() % 2 == 1 {
        value.push(0);
    }
}

fn too_short(tlv_type: u16) -> DecodeError {
    DecodeError::BadTlv {
        tlv_type,
        reason: "value shorter than its fixed fields",
    }
}

/// MANAGEMENT (§15.5.2): which data set (managementId) and its contents, if any.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ManagementTlv {
    pub management_id: u16,
    /// The dataField, uninterpreted; empty for a GET.
    pub data: Vec<u8>,
}

impl ManagementTlv {
    pub fn from_tlv(tlv: &Tlv) -> Result<Self, DecodeError> {
        tlv.expect_type(Tlv::MANAGEMENT)?;
        let [a, b] = *tlv.value.first_chunk().ok_or(too_short(Tlv::MANAGEMENT))?;
        Ok(ManagementTlv {
            management_id: u16::from_be_bytes([a, b]),
            data: tlv.value[2..].to_vec(),
        })
    }

    pub fn to_tlv(&self) -> Tlv {
        let mut value = Vec::with_capacity(2 + self.data.len());
        value.extend_from_slice(&self.management_id.to_be_bytes());
        value.extend_from_slice(&self.data);
        Tlv::new(Tlv::MANAGEMENT, value)
    }
}

/// MANAGEMENT_ERROR_STATUS (§15.5.4): why a management request failed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ManagementErrorStatusTlv {
    pub management_error_id: u16,
    pub management_id: u16,
    /// displayData, an optional PTPText: empty means absent. At most 255 bytes
    /// (longer is cut on encode).
    pub display_data: Vec<u8>,
}

impl ManagementErrorStatusTlv {
    // managementErrorId values (§15.5.4.4, Table 109).
    pub const RESPONSE_TOO_BIG: u16 = 0x0001;
    pub const NO_SUCH_ID: u16 = 0x0002;
    pub const WRONG_LENGTH: u16 = 0x0003;
    pub const WRONG_VALUE: u16 = 0x0004;
    pub const NOT_SETABLE: u16 = 0x0005;
    pub const NOT_SUPPORTED: u16 = 0x0006;
    pub const GENERAL_ERROR: u16 = 0xFFFE;

    pub fn from_tlv(tlv: &Tlv) -> Result<Self, DecodeError> {
        const TYPE: u16 = Tlv::MANAGEMENT_ERROR_STATUS;
        tlv.expect_type(TYPE)?;
        let mut r = Reader::new(&tlv.value);
        let management_error_id = r.u16().map_err(|_| too_short(TYPE))?;
        let management_id = r.u16().map_err(|_| too_short(TYPE))?;
        r.skip(4).map_err(|_| too_short(TYPE))?; // reserved
        // Anything past the text is padding.
        let display_data = if r.rest().is_empty() {
            Vec::new()
        } else {
            read_text(&mut r, TYPE)?
        };
        Ok(ManagementErrorStatusTlv {
            management_error_id,
            management_id,
            display_data,
        })
    }

    pub fn to_tlv(&self) -> Tlv {
        let mut value = Vec::with_capacity(10 + self.display_data.len());
        value.extend_from_slice(&self.management_error_id.to_be_bytes());
        value.extend_from_slice(&self.management_id.to_be_bytes());
        value.extend_from_slice(&[0; 4]);
        if !self.display_data.is_empty() {
            write_text(&mut value, &self.display_data);
            pad_to_even(&mut value);
        }
        Tlv::new(Tlv::MANAGEMENT_ERROR_STATUS, value)
    }
}

/// ORGANIZATION_EXTENSION (§14.3.2): a TLV defined by an organization (an OUI or
/// CID) rather than by 1588, e.g. 802.1AS's Follow_Up information.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OrganizationExtensionTlv {
    pub organization_id: [u8; 3],
    pub organization_sub_type: [u8; 3],
    pub data: Vec<u8>,
}

impl OrganizationExtensionTlv {
    pub fn from_tlv(tlv: &Tlv) -> Result<Self, DecodeError> {
        const TYPE: u16 = Tlv::ORGANIZATION_EXTENSION;
        tlv.expect_type(TYPE)?;
        let mut r = Reader::new(&tlv.value);
        Ok(OrganizationExtensionTlv {
            organization_id: r.array().map_err(|_| too_short(TYPE))?,
            organization_sub_type: r.array().map_err(|_| too_short(TYPE))?,
            data: r.rest().to_vec(),
        })
    }

    pub fn to_tlv(&self) -> Tlv {
        let mut value = Vec::with_capacity(6 + self.data.len());
        value.extend_from_slice(&self.organization_id);
        value.extend_from_slice(&self.organization_sub_type);
        value.extend_from_slice(&self.data);
        Tlv::new(Tlv::ORGANIZATION_EXTENSION, value)
    }
}

/// PATH_TRACE (§16.2): the clocks an Announce has passed through, grandmaster
/// first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PathTraceTlv {
    pub path_sequence: Vec<ClockIdentity>,
}

impl PathTraceTlv {
    pub fn from_tlv(tlv: &Tlv) -> Result<Self, DecodeError> {
        tlv.expect_type(Tlv::PATH_TRACE)?;
        let (ids, rest) = tlv.value.as_chunks::<8>();
        if !rest.is_empty() {
            return Err(DecodeError::BadTlv {
                tlv_type: Tlv::PATH_TRACE,
                reason: "length not a multiple of 8",
            });
        }
        Ok(PathTraceTlv {
            path_sequence: ids.iter().copied().map(ClockIdentity).collect(),
        })
    }

    pub fn to_tlv(&self) -> Tlv {
        Tlv::new(
            Tlv::PATH_TRACE,
            self.path_sequence
                .iter()
                .flat_map(|id| id.0)
                .collect::<Vec<u8>>(),
        )
    }
}

/// ALTERNATE_TIME_OFFSET_INDICATOR (§16.3.3): the offset of a local timescale
/// (a time zone, say) from PTP time, and its next jump.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AlternateTimeOffsetIndicatorTlv {
    pub key_field: u8,
    /// Seconds to add to PTP time for the alternate timescale.
    pub current_offset: i32,
    /// The change of `current_offset` at the next jump, in seconds.
    pub jump_seconds: i32,
    /// When the next jump happens, in PTP seconds; 48 bits on the wire (higher
    /// bits are dropped on encode).
    pub time_of_next_jump: u64,
    /// displayName, a PTPText (e.g. "CET"). At most 255 bytes (longer is cut on
    /// encode).
    pub display_name: Vec<u8>,
}

impl AlternateTimeOffsetIndicatorTlv {
    pub fn from_tlv(tlv: &Tlv) -> Result<Self, DecodeError> {
        const TYPE: u16 = Tlv::ALTERNATE_TIME_OFFSET_INDICATOR;
        tlv.expect_type(TYPE)?;
        let mut r = Reader::new(&tlv.value);
        let key_field = r.u8().map_err(|_| too_short(TYPE))?;
        let current_offset = r.u32().map_err(|_| too_short(TYPE))? as i32;
        let jump_seconds = r.u32().map_err(|_| too_short(TYPE))? as i32;
        let [a, b, c, d, e, f] = r.array().map_err(|_| too_short(TYPE))?;
        let display_name = read_text(&mut r, TYPE)?;
        Ok(AlternateTimeOffsetIndicatorTlv {
            key_field,
            current_offset,
            jump_seconds,
            time_of_next_jump: u64::from_be_bytes([0, 0, a, b, c, d, e, f]),
            display_name,
        })
    }

    pub fn to_tlv(&self) -> Tlv {
        let mut value = Vec::with_capacity(16 + self.display_name.len());
        value.push(self.key_field);
        value.extend_from_slice(&self.current_offset.to_be_bytes());
        value.extend_from_slice(&self.jump_seconds.to_be_bytes());
        value.extend_from_slice(&self.time_of_next_jump.to_be_bytes()[2..]);
        write_text(&mut value, &self.display_name);
        pad_to_even(&mut value);
        Tlv::new(Tlv::ALTERNATE_TIME_OFFSET_INDICATOR, value)
    }
}

/// AUTHENTICATION (§16.14.3): the integrity check of the message it ends. See
/// `ptp::security` for computing and checking the ICV.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AuthenticationTlv {
    /// Security parameter pointer: which security association applies.
    pub spp: u8,
    /// Which optional fields precede the ICV (the `SEC_PARAM_*` bits).
    pub sec_param_indicator: u8,
    /// Which key of the association computed the ICV.
    pub key_id: u32,
    /// The bytes after keyID. With `sec_param_indicator` zero (immediate
    /// security without sequenceNo or RES, the only form this codec produces)
    /// that is exactly the ICV. Otherwise the optional fields, whose lengths the
    /// security association defines, come first: this type cannot split them.
    pub icv: Vec<u8>,
}

impl AuthenticationTlv {
    /// spp, secParamIndicator and keyID, before the optional fields and the ICV.
    pub const FIXED_LEN: usize = 6;

    // secParamIndicator bits, as linuxptp (sad.c) assigns them.
    /// The RES field is present.
    pub const SEC_PARAM_RES: u8 = 0x01;
    /// The sequenceNo field is present.
    pub const SEC_PARAM_SEQUENCE_NO: u8 = 0x02;
    /// Delayed security: the disclosedKey field is present.
    pub const SEC_PARAM_DISCLOSED_KEY: u8 = 0x04;

    pub fn from_tlv(tlv: &Tlv) -> Result<Self, DecodeError> {
        Self::from_value(tlv.tlv_type, &tlv.value)
    }

    /// Like [`AuthenticationTlv::from_tlv`], on a borrowed TLV.
    pub fn from_value(tlv_type: u16, value: &[u8]) -> Result<Self, DecodeError> {
        const TYPE: u16 = Tlv::AUTHENTICATION;
        if tlv_type != TYPE {
            return Err(DecodeError::BadTlv {
                tlv_type,
                reason: "not the tlvType expected",
            });
        }
        let mut r = Reader::new(value);
        Ok(AuthenticationTlv {
            spp: r.u8().map_err(|_| too_short(TYPE))?,
            sec_param_indicator: r.u8().map_err(|_| too_short(TYPE))?,
            key_id: r.u32().map_err(|_| too_short(TYPE))?,
            icv: r.rest().to_vec(),
        })
    }

    pub fn to_tlv(&self) -> Tlv {
        let mut value = Vec::with_capacity(Self::FIXED_LEN + self.icv.len());
        value.push(self.spp);
        value.push(self.sec_param_indicator);
        value.extend_from_slice(&self.key_id.to_be_bytes());
        value.extend_from_slice(&self.icv);
        Tlv::new(Tlv::AUTHENTICATION, value)
    }
}

macro_rules! impl_into_tlv {
    ($($t:ty),*) => {$(
        impl From<&$t> for Tlv {
            fn from(typed: &$t) -> Tlv {
                typed.to_tlv()
            }
        }

        impl TryFrom<&Tlv> for $t {
            type Error = DecodeError;

            fn try_from(tlv: &Tlv) -> Result<Self, DecodeError> {
                <$t>::from_tlv(tlv)
            }
        }
    )*};
}

impl_into_tlv!(
    ManagementTlv,
    ManagementErrorStatusTlv,
    OrganizationExtensionTlv,
    PathTraceTlv,
    AlternateTimeOffsetIndicatorTlv,
    AuthenticationTlv
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sequence_round_trips_byte_for_byte() {
        let tlvs = vec![
            Tlv::new(Tlv::PATH_TRACE, vec![1, 2, 3, 4, 5, 6, 7, 8]),
            Tlv::new(0xABCD, vec![]),
            Tlv::new(0x0001, vec![9]), // odd lengthField: accepted
            Tlv::new(Tlv::PAD, vec![0; 300]),
        ];
        let mut bytes = Vec::new();
        Tlv::encode_all(&tlvs, &mut bytes);
        assert_eq!(bytes.len(), 12 + 4 + 5 + 304);
        assert_eq!(bytes[..4], [0x00, 0x08, 0x00, 0x08]);
        assert_eq!(bytes[16..21], [0x00, 0x01, 0x00, 0x01, 9]);
        assert_eq!(bytes[21..25], [0x80, 0x08, 0x01, 0x2C]);
        assert_eq!(Tlv::decode_all(&bytes), Ok(tlvs.clone()));
        let offsets: Vec<_> = TlvIter::new(&bytes).map(|t| t.unwrap().offset).collect();
        assert_eq!(offsets, [0, 12, 16, 21]);
        assert_eq!(Tlv::decode_all(&[]), Ok(vec![]));
    }

    #[test]
    fn overruns_are_errors() {
        let mut bytes = Vec::new();
        Tlv::encode_all(
            &[Tlv::new(1, vec![0; 6]), Tlv::new(2, vec![0; 10])],
            &mut bytes,
        );
        // Every cut inside the second TLV.
        for len in 11..bytes.len() {
            let got = len - 10;
            let needed = if got < 4 { 4 } else { 14 };
            assert_eq!(
                Tlv::decode_all(&bytes[..len]),
                Err(DecodeError::TlvOverrun {
                    offset: 10,
                    needed,
                    got
                }),
                "cut to {len}"
            );
        }
        // A lengthField of 65535 with nothing behind it.
        assert_eq!(
            Tlv::decode_all(&[0, 1, 0xFF, 0xFF, 0]),
            Err(DecodeError::TlvOverrun {
                offset: 0,
                needed: 65539,
                got: 5
            })
        );
        // The iterator stops after its error.
        let mut it = TlvIter::new(&[0, 1, 0, 0, 7]);
        assert!(it.next().unwrap().is_ok());
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
    }

    #[test]
    fn management_tlvs() {
        let m = ManagementTlv {
            management_id: 0x2005,
            data: vec![1, 2, 3, 4],
        };
        let tlv = m.to_tlv();
        assert_eq!(
            tlv.to_bytes(),
            [0x00, 0x01, 0x00, 0x06, 0x20, 0x05, 1, 2, 3, 4]
        );
        assert_eq!(ManagementTlv::from_tlv(&tlv), Ok(m));
        assert!(ManagementTlv::from_tlv(&Tlv::new(Tlv::MANAGEMENT, vec![1])).is_err());
        assert_eq!(
            ManagementTlv::from_tlv(&Tlv::new(Tlv::PAD, vec![0, 0])),
            Err(DecodeError::BadTlv {
                tlv_type: Tlv::PAD,
                reason: "not the tlvType expected"
            })
        );

        let e = ManagementErrorStatusTlv {
            management_error_id: ManagementErrorStatusTlv::NOT_SETABLE,
            management_id: 0x2000,
            display_data: b"abc".to_vec(),
        };
        let tlv = e.to_tlv();
        // 8 fixed bytes, length byte, "abc": even, no padding needed.
        assert_eq!(
            tlv.to_bytes(),
            [0, 2, 0, 12, 0, 5, 0x20, 0, 0, 0, 0, 0, 3, b'a', b'b', b'c']
        );
        assert_eq!(ManagementErrorStatusTlv::from_tlv(&tlv), Ok(e.clone()));
        let odd = ManagementErrorStatusTlv {
            display_data: b"ab".to_vec(),
            ..e.clone()
        };
        assert_eq!(odd.to_tlv().value.len(), 12, "padded to even");
        assert_eq!(ManagementErrorStatusTlv::from_tlv(&odd.to_tlv()), Ok(odd));
        let bare = ManagementErrorStatusTlv {
            display_data: vec![],
            ..e
        };
        assert_eq!(bare.to_tlv().value.len(), 8);
        assert_eq!(ManagementErrorStatusTlv::from_tlv(&bare.to_tlv()), Ok(bare));
        // A text length running past the value.
        let bad = Tlv::new(
            Tlv::MANAGEMENT_ERROR_STATUS,
            vec![0, 1, 0, 1, 0, 0, 0, 0, 5, b'x'],
        );
        assert!(ManagementErrorStatusTlv::from_tlv(&bad).is_err());
    }

    #[test]
    fn organization_extension_tlvs() {
        let o = OrganizationExtensionTlv {
            organization_id: [0x00, 0x80, 0xC2],
            organization_sub_type: [0, 0, 1],
            data: vec![0xAA; 28],
        };
        let tlv = o.to_tlv();
        assert_eq!(tlv.value[..6], [0x00, 0x80, 0xC2, 0, 0, 1]);
        assert_eq!(OrganizationExtensionTlv::from_tlv(&tlv), Ok(o));
        for len in 0..6 {
            let t = Tlv::new(Tlv::ORGANIZATION_EXTENSION, vec![0; len]);
            assert!(OrganizationExtensionTlv::from_tlv(&t).is_err());
        }
    }

    #[test]
    fn path_trace_tlvs() {
        let p = PathTraceTlv {
            path_sequence: vec![ClockIdentity([1; 8]), ClockIdentity([2; 8])],
        };
        let tlv = p.to_tlv();
        assert_eq!(tlv.value.len(), 16);
        assert_eq!(PathTraceTlv::from_tlv(&tlv), Ok(p));
        assert_eq!(
            PathTraceTlv::from_tlv(&Tlv::new(Tlv::PATH_TRACE, vec![])),
            Ok(PathTraceTlv::default())
        );
        assert!(PathTraceTlv::from_tlv(&Tlv::new(Tlv::PATH_TRACE, vec![0; 9])).is_err());
    }

    #[test]
    fn alternate_time_offset_tlvs() {
        let a = AlternateTimeOffsetIndicatorTlv {
            key_field: 1,
            current_offset: -3600,
            jump_seconds: 3600,
            time_of_next_jump: 0x0000_1234_5678_9ABC,
            display_name: b"CET".to_vec(),
        };
        let tlv = a.to_tlv();
        // 15 fixed bytes + length byte + 3 = 19, padded to 20.
        assert_eq!(tlv.value.len(), 20);
        assert_eq!(tlv.value[1..5], (-3600i32).to_be_bytes());
        assert_eq!(tlv.value[9..15], [0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC]);
        assert_eq!(AlternateTimeOffsetIndicatorTlv::from_tlv(&tlv), Ok(a));
        for len in 0..16 {
            let t = Tlv::new(
                Tlv::ALTERNATE_TIME_OFFSET_INDICATOR,
                tlv.value[..len].to_vec(),
            );
            assert!(AlternateTimeOffsetIndicatorTlv::from_tlv(&t).is_err());
        }
    }

    #[test]
    fn long_texts_are_cut_to_255_bytes() {
        let a = AlternateTimeOffsetIndicatorTlv {
            display_name: vec![b'x'; 300],
            ..Default::default()
        };
        let back = AlternateTimeOffsetIndicatorTlv::from_tlv(&a.to_tlv()).unwrap();
        assert_eq!(back.display_name, vec![b'x'; 255]);
    }

    #[test]
    fn authentication_tlvs() {
        let a = AuthenticationTlv {
            spp: 7,
            sec_param_indicator: 0,
            key_id: 0x0102_0304,
            icv: vec![0xEE; 16],
        };
        let tlv = a.to_tlv();
        assert_eq!(
            tlv.to_bytes()[..10],
            [0x80, 0x09, 0x00, 22, 7, 0, 1, 2, 3, 4]
        );
        assert_eq!(AuthenticationTlv::from_tlv(&tlv), Ok(a.clone()));
        assert_eq!(AuthenticationTlv::try_from(&tlv), Ok(a.clone()));
        assert_eq!(Tlv::from(&a), tlv);
        for len in 0..6 {
            let t = Tlv::new(Tlv::AUTHENTICATION, vec![0; len]);
            assert!(AuthenticationTlv::from_tlv(&t).is_err());
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn tlv() -> impl Strategy<Value = Tlv> {
            (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..40))
                .prop_map(|(t, v)| Tlv::new(t, v))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            #[test]
            fn arbitrary_bytes_never_panic_and_reencode_exactly(
                bytes in proptest::collection::vec(any::<u8>(), 0..120),
            ) {
                if let Ok(tlvs) = Tlv::decode_all(&bytes) {
                    let mut again = Vec::new();
                    Tlv::encode_all(&tlvs, &mut again);
                    prop_assert_eq!(again, bytes);
                }
            }

            #[test]
            fn sequences_round_trip(tlvs in proptest::collection::vec(tlv(), 0..6)) {
                let mut bytes = Vec::new();
                Tlv::encode_all(&tlvs, &mut bytes);
                prop_assert_eq!(Tlv::decode_all(&bytes), Ok(tlvs));
            }

            #[test]
            fn typed_parsers_never_panic_on_any_value(
                value in proptest::collection::vec(any::<u8>(), 0..40),
            ) {
                // Whatever they accept, they re-encode to something they read
                // back identically.
                macro_rules! check {
                    ($t:ty, $tlv_type:expr) => {
                        if let Ok(x) = <$t>::from_tlv(&Tlv::new($tlv_type, value.clone())) {
                            prop_assert_eq!(<$t>::from_tlv(&x.to_tlv()), Ok(x));
                        }
                    };
                }
                check!(ManagementTlv, Tlv::MANAGEMENT);
                check!(ManagementErrorStatusTlv, Tlv::MANAGEMENT_ERROR_STATUS);
                check!(OrganizationExtensionTlv, Tlv::ORGANIZATION_EXTENSION);
                check!(PathTraceTlv, Tlv::PATH_TRACE);
                check!(AlternateTimeOffsetIndicatorTlv, Tlv::ALTERNATE_TIME_OFFSET_INDICATOR);
                check!(AuthenticationTlv, Tlv::AUTHENTICATION);
            }

            #[test]
            fn typed_values_round_trip(
                id in any::<u16>(),
                err in any::<u16>(),
                data in proptest::collection::vec(any::<u8>(), 0..40),
                oui in any::<([u8; 3], [u8; 3])>(),
                ids in proptest::collection::vec(any::<[u8; 8]>(), 0..5),
                alt in any::<(u8, i32, i32, u64)>(),
                auth in any::<(u8, u8, u32)>(),
            ) {
                let m = ManagementTlv { management_id: id, data: data.clone() };
                prop_assert_eq!(ManagementTlv::from_tlv(&m.to_tlv()), Ok(m));
                let e = ManagementErrorStatusTlv {
                    management_error_id: err,
                    management_id: id,
                    display_data: data.clone(),
                };
                prop_assert_eq!(ManagementErrorStatusTlv::from_tlv(&e.to_tlv()), Ok(e));
                let o = OrganizationExtensionTlv {
                    organization_id: oui.0,
                    organization_sub_type: oui.1,
                    data: data.clone(),
                };
                prop_assert_eq!(OrganizationExtensionTlv::from_tlv(&o.to_tlv()), Ok(o));
                let p = PathTraceTlv { path_sequence: ids.into_iter().map(ClockIdentity).collect() };
                prop_assert_eq!(PathTraceTlv::from_tlv(&p.to_tlv()), Ok(p));
                let a = AlternateTimeOffsetIndicatorTlv {
                    key_field: alt.0,
                    current_offset: alt.1,
                    jump_seconds: alt.2,
                    time_of_next_jump: alt.3 & ((1 << 48) - 1),
                    display_name: data.clone(),
                };
                prop_assert_eq!(AlternateTimeOffsetIndicatorTlv::from_tlv(&a.to_tlv()), Ok(a));
                let t = AuthenticationTlv {
                    spp: auth.0,
                    sec_param_indicator: auth.1,
                    key_id: auth.2,
                    icv: data,
                };
                prop_assert_eq!(AuthenticationTlv::from_tlv(&t.to_tlv()), Ok(t));
            }
        }
    }
}
