//! The coordination protocol under arbitrary input, two ways.
//!
//! Raw (first byte even): the rest is one datagram. `Frame::decode` and
//! `CoordinationLink::receive` never panic; whatever decodes is the one
//! encoding of its header and message (re-sealing it reproduces every byte
//! the tag covers); and whatever is accepted is exactly what the holder of
//! the key would have sealed (the seeds are; nothing else should be).
//!
//! Session (first byte odd): the rest is a script of operations on two
//! senders and one receiver: seal messages built from the script, deliver
//! them in any order, duplicated, bit-flipped, cut or padded, restart a
//! sender (with or without raising its epoch), rotate keys, let time pass.
//! Whatever the script: nothing panics; the same bytes are accepted at most
//! once; a flipped, cut or padded frame is never accepted; the commands
//! accepted from a sender within one epoch have rising sequences; every
//! datagram lands in exactly one counter; and after `handle_timeout(now)`
//! the next deadline is later than `now`, so no driver can spin.

#![no_main]

use std::collections::{BTreeMap, BTreeSet};

use camsync_engine::coordination::keys::{IcvAlgorithm, Key};
use camsync_engine::coordination::wire::{self, Frame};
use camsync_engine::coordination::{
    Adjustment, AdjustmentCommand, AlertCode, AlertMessage, CommandAck, CoordinationLink, DriftReport,
    EncodeError, Epoch, Heartbeat, KeyRing, LinkConfig, LockState, Message, NodeId, Rejection,
    Severity, SyncStatus,
};
use camsync_engine::time::{Nanos, Time};
use libfuzzer_sys::fuzz_target;

const RECEIVER: NodeId = NodeId(1);
const SENDERS: [NodeId; 2] = [NodeId(10), NodeId(11)];

fn ring(active: u32) -> KeyRing {
    let keys = BTreeMap::from([
        (
            1,
            Key::new(IcvAlgorithm::HmacSha256, b"coordination key 1".to_vec()),
        ),
        (
            2,
            Key::new(
                IcvAlgorithm::HmacSha256Trunc128,
                b"coordination key 2".to_vec(),
            ),
        ),
    ]);
    KeyRing::new(keys, active).expect("valid key ring")
}

fn link(node: NodeId, epoch: u32, now: Time) -> CoordinationLink {
    let config = LinkConfig {
        node,
        epoch: Epoch(epoch),
        keys: ring(1),
        liveness_timeout: Nanos::from_millis(300),
        heartbeat_interval: Nanos::from_millis(100),
    };
    CoordinationLink::new(config, now).expect("valid link config")
}

/// Reads the script; past its end every read is zero.
struct Script<'a>(&'a [u8]);

impl Script<'_> {
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }
    fn u8(&mut self) -> u8 {
        self.bytes::<1>()[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.bytes())
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.bytes())
    }
    fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.bytes())
    }
    fn f64(&mut self) -> f64 {
        f64::from_le_bytes(self.bytes())
    }
    fn node(&mut self) -> NodeId {
        // Mostly the receiver, so that commands get past the target check.
        match self.u8() % 4 {
            0 => NodeId(self.u32()),
            _ => RECEIVER,
        }
    }
    fn message(&mut self) -> Message {
        match self.u8() % 6 {
            0 => Message::SyncStatus(SyncStatus {
                node: self.node(),
                lock: [
                    LockState::Unlocked,
                    LockState::Stepping,
                    LockState::Locked,
                    LockState::Holdover,
                    LockState::FreeRunning,
                ][usize::from(self.u8() % 5)],
                offset: Nanos(self.i64()),
                frequency_ppb: self.f64(),
                at: Time(self.i64()),
            }),
            1 => Message::DriftReport(DriftReport {
                node: self.node(),
                drift_ppm: self.f64(),
                at: Time(self.i64()),
            }),
            2 => Message::Command(AdjustmentCommand {
                target: self.node(),
                adjustment: Adjustment {
                    sequence: u64::from(self.u8()),
                    step: Nanos(self.i64()),
                    frequency_ppb: self.f64(),
                },
            }),
            3 => Message::Alert(AlertMessage {
                node: self.node(),
                kind: AlertCode(self.u16()),
                severity: [Severity::Info, Severity::Warning, Severity::Critical]
                    [usize::from(self.u8() % 3)],
                at: Time(self.i64()),
            }),
            4 => Message::Heartbeat(Heartbeat {
                at: Time(self.i64()),
            }),
            _ => Message::CommandAck(CommandAck {
                commander: self.node(),
                sequence: self.i64() as u64,
            }),
        }
    }
}

fn rates_are_finite(message: &Message) -> bool {
    match message {
        Message::SyncStatus(m) => m.frequency_ppb.is_finite(),
        Message::DriftReport(m) => m.drift_ppm.is_finite(),
        Message::Command(m) => m.adjustment.frequency_ppb.is_finite(),
        Message::Alert(_) | Message::Heartbeat(_) | Message::CommandAck(_) => true,
    }
}

fn raw(data: &[u8]) {
    let mut receiver = link(RECEIVER, 1, Time::ZERO);
    let got = receiver.receive(Time::ZERO, data);
    if let Ok(r) = &got {
        let h = r.header;
        let keys = ring(h.key_id);
        let sealed = wire::seal(&keys, h.sender, h.epoch, h.sequence, &r.message)
            .expect("an accepted message has finite rates");
        assert_eq!(sealed, data, "accepted bytes the key holder did not seal");
    }
    let Ok(frame) = Frame::decode(data) else {
        assert!(matches!(got, Err(Rejection::Malformed(_))));
        return;
    };
    let h = frame.header;
    let algorithm = match frame.tag_len() {
        16 => IcvAlgorithm::HmacSha256Trunc128,
        _ => IcvAlgorithm::HmacSha256,
    };
    if let Ok(keys) = KeyRing::single(h.key_id, Key::new(algorithm, b"any".to_vec())) {
        let again = wire::seal(&keys, h.sender, h.epoch, h.sequence, &frame.message)
            .expect("a decoded message has finite rates");
        let covered = data.len() - frame.tag_len();
        assert_eq!(again.len(), data.len());
        assert_eq!(again[..covered], data[..covered]);
    }
}

fn session(data: &[u8]) {
    let mut s = Script(data);
    let mut now = Time::ZERO;
    let mut receiver = link(RECEIVER, 1, now);
    let mut epochs = [1u32, 1];
    let mut senders = SENDERS.map(|id| link(id, 1, now));
    let mut sent: Vec<Vec<u8>> = Vec::new();
    let mut accepted: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut last_command: BTreeMap<(NodeId, Epoch), u64> = BTreeMap::new();
    let mut deliveries = 0u64;

    let mut deliver = |receiver: &mut CoordinationLink, now: Time, bytes: &[u8], genuine: bool| {
        deliveries += 1;
        let got = receiver.receive(now, bytes);
        if let Ok(r) = &got {
            assert!(genuine, "an altered frame was accepted");
            assert!(
                accepted.insert(bytes.to_vec()),
                "a frame was accepted twice"
            );
            if let Message::Command(c) = r.message {
                let key = (r.header.sender, r.header.epoch);
                let seq = c.adjustment.sequence;
                if let Some(&last) = last_command.get(&key) {
                    assert!(seq > last, "command {seq} accepted after {last}");
                }
                last_command.insert(key, seq);
            }
        }
        let st = receiver.stats();
        let counted = st.accepted
            + st.malformed
            + st.unauthenticated
            + st.replayed
            + st.stale
            + st.duplicate_commands
            + st.misdirected;
        assert_eq!(counted, deliveries);
    };

    for _ in 0..64 {
        if s.0.is_empty() {
            break;
        }
        match s.u8() % 8 {
            op @ (0 | 1) => {
                let message = s.message();
                let sender = &mut senders[usize::from(op)];
                match sender.encode(&message) {
                    Ok(bytes) => sent.push(bytes),
                    Err(EncodeError::NonFinite { .. }) => {
                        assert!(!rates_are_finite(&message), "refused {message:?}");
                    }
                }
            }
            2 if !sent.is_empty() => {
                let i = usize::from(s.u16()) % sent.len();
                deliver(&mut receiver, now, &sent[i].clone(), true);
            }
            3 if !sent.is_empty() => {
                let i = usize::from(s.u16()) % sent.len();
                let mut bytes = sent[i].clone();
                let bit = usize::from(s.u16()) % (bytes.len() * 8);
                bytes[bit / 8] ^= 1 << (bit % 8);
                deliver(&mut receiver, now, &bytes, false);
            }
            4 => {
                // Up to about a second on (three liveness timeouts), a
                // deadline at a time or (a late timer) all at once.
                let late = s.u8() % 2 == 0;
                now = Time(now.0.saturating_add(i64::from(s.u32() >> 12) * 1024));
                if late {
                    receiver.handle_timeout(now);
                }
                while let Some(t) = receiver.poll_timeout().filter(|&t| t <= now) {
                    assert!(!late, "deadline {t} left after handle_timeout({now})");
                    receiver.handle_timeout(t);
                    let next = receiver.poll_timeout().expect("a heartbeat is always due");
                    assert!(
                        next > t || t == Time(i64::MAX),
                        "deadline {next} not after {t}"
                    );
                }
                for sender in &mut senders {
                    while let Some(t) = sender.poll_timeout().filter(|&t| t <= now) {
                        sender.handle_timeout(t);
                        while let Some(bytes) = sender.poll_transmit() {
                            sent.push(bytes);
                        }
                    }
                }
                while receiver.poll_transmit().is_some() {}
                while receiver.poll_event().is_some() {}
            }
            5 => {
                // A restart, raising the epoch or (misconfigured) not.
                let i = usize::from(s.u8() % 2);
                if s.u8() % 2 == 0 {
                    epochs[i] = epochs[i].saturating_add(1);
                }
                senders[i] = link(SENDERS[i], epochs[i], now);
            }
            6 => {
                let active = 1 + u32::from(s.u8() % 2);
                let i = usize::from(s.u8() % 2);
                senders[i]
                    .keys_mut()
                    .set_active_key(active)
                    .expect("both keys are in the ring");
            }
            7 if !sent.is_empty() => {
                let i = usize::from(s.u16()) % sent.len();
                let mut bytes = sent[i].clone();
                let cut = usize::from(s.u8());
                if cut % 2 == 0 {
                    bytes.truncate(cut / 2 % bytes.len());
                } else {
                    bytes.extend(std::iter::repeat_n(s.u8(), cut / 2 + 1));
                }
                deliver(&mut receiver, now, &bytes, false);
            }
            _ => {}
        }
        // Deliveries pick from the 64 latest frames.
        if sent.len() > 64 {
            sent.drain(..sent.len() - 64);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        raw(rest);
    } else {
        session(rest);
    }
});
