//! The coordination link end to end: what it accepts, what it refuses and
//! why, liveness across a partition, and properties of the codec.

use std::collections::BTreeMap;

use super::keys::{IcvAlgorithm, Key};
use super::*;
use crate::time::{Nanos, Time};

const HUB: NodeId = NodeId(100);
const CAM: NodeId = NodeId(1);
const OTHER_CAM: NodeId = NodeId(2);

fn ring(ids: &[u32], active: u32) -> KeyRing {
    let keys = ids
        .iter()
        .map(|&id| {
            let algorithm = if id % 2 == 0 {
                IcvAlgorithm::HmacSha256Trunc128
            } else {
                IcvAlgorithm::HmacSha256
            };
            (
                id,
                Key::new(algorithm, format!("secret number {id}").into_bytes()),
            )
        })
        .collect::<BTreeMap<_, _>>();
    KeyRing::new(keys, active).unwrap()
}

fn config(node: NodeId, epoch: u32) -> LinkConfig {
    LinkConfig {
        node,
        epoch: Epoch(epoch),
        keys: ring(&[1], 1),
        liveness_timeout: Nanos::from_secs(3),
        heartbeat_interval: Nanos::from_secs(1),
    }
}

fn link(node: NodeId, epoch: u32) -> CoordinationLink {
    CoordinationLink::new(config(node, epoch), Time::ZERO).unwrap()
}

fn status(n: i64) -> Message {
    Message::SyncStatus(SyncStatus {
        node: HUB,
        lock: LockState::Locked,
        offset: Nanos(-n),
        frequency_ppb: 12.5,
        at: Time(n),
    })
}

fn command(target: NodeId, sequence: u64) -> Message {
    Message::Command(AdjustmentCommand {
        target,
        adjustment: Adjustment {
            sequence,
            step: Nanos(-250_000),
            frequency_ppb: -3.25,
        },
    })
}

fn frames(sender: &mut CoordinationLink, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| sender.encode(&status(i as i64)).unwrap())
        .collect()
}

fn events(link: &mut CoordinationLink) -> Vec<LinkEvent> {
    std::iter::from_fn(|| link.poll_event()).collect()
}

#[test]
fn a_frame_is_delivered_with_its_sender_and_message() {
    let mut hub = link(HUB, 1);
    let mut cam = link(CAM, 1);
    let bytes = hub.encode(&status(5)).unwrap();
    let got = cam.receive(Time(10), &bytes).unwrap();
    assert_eq!(got.message, status(5));
    assert_eq!(got.header.sender, HUB);
    assert_eq!(got.header.epoch, Epoch(1));
    assert_eq!(got.header.sequence, 0);
    assert_eq!(
        events(&mut cam),
        [LinkEvent::PeerUp {
            peer: HUB,
            reconnected: false
        }]
    );
    assert_eq!(cam.stats().accepted, 1);
}

#[test]
fn tampered_bytes_are_rejected() {
    let mut hub = link(HUB, 1);
    let mut cam = link(CAM, 1);
    let good = hub.encode(&status(1)).unwrap();

    let mut body = good.clone();
    body[wire::HEADER_LEN + 5] ^= 0x01;
    assert_eq!(
        cam.receive(Time(0), &body),
        Err(Rejection::Unauthenticated(AuthError::BadTag))
    );
    let mut tag = good.clone();
    *tag.last_mut().unwrap() ^= 0x80;
    assert_eq!(
        cam.receive(Time(0), &tag),
        Err(Rejection::Unauthenticated(AuthError::BadTag))
    );
    // A forged sequence number would be a way round the replay window.
    let mut sequence = good.clone();
    sequence[23] = 9;
    assert_eq!(
        cam.receive(Time(0), &sequence),
        Err(Rejection::Unauthenticated(AuthError::BadTag))
    );
    let mut magic = good.clone();
    magic[1] = b'T';
    assert!(matches!(
        cam.receive(Time(0), &magic),
        Err(Rejection::Malformed(DecodeError::BadMagic(_)))
    ));
    assert!(matches!(
        cam.receive(Time(0), &good[..good.len() - 3]),
        Err(Rejection::Malformed(DecodeError::BadTagLength(29)))
    ));

    // Signed with a secret the camera does not have, under the same key id.
    let mut forger_config = config(HUB, 1);
    forger_config.keys =
        KeyRing::single(1, Key::new(IcvAlgorithm::HmacSha256, b"guess".to_vec())).unwrap();
    let mut forger = CoordinationLink::new(forger_config, Time::ZERO).unwrap();
    let forged = forger.encode(&command(CAM, 1)).unwrap();
    assert_eq!(
        cam.receive(Time(0), &forged),
        Err(Rejection::Unauthenticated(AuthError::BadTag))
    );

    let stats = cam.stats();
    assert_eq!((stats.unauthenticated, stats.malformed), (4, 2));
    assert_eq!(stats.accepted, 0);
    // None of that made the hub a peer; the genuine frame still goes in.
    assert_eq!(cam.peer(HUB), None);
    assert!(cam.receive(Time(0), &good).is_ok());
}

#[test]
fn a_replay_is_rejected() {
    let mut hub = link(HUB, 1);
    let mut cam = link(CAM, 1);
    let bytes = hub.encode(&status(1)).unwrap();
    assert!(cam.receive(Time(0), &bytes).is_ok());
    assert_eq!(
        cam.receive(Time(1), &bytes),
        Err(Rejection::Replayed {
            sender: HUB,
            reason: ReplayError::Duplicate { sequence: 0 }
        })
    );
    assert_eq!(cam.stats().replayed, 1);
}

#[test]
fn reordered_frames_within_the_window_are_accepted_once() {
    let mut hub = link(HUB, 1);
    let mut cam = link(CAM, 1);
    let sent = frames(&mut hub, 6);
    for i in [5, 2, 4, 0, 3, 1] {
        let got = cam.receive(Time(0), &sent[i]).unwrap();
        assert_eq!(got.message, status(i as i64));
    }
    for bytes in &sent {
        assert!(matches!(
            cam.receive(Time(0), bytes),
            Err(Rejection::Replayed { .. })
        ));
    }
    assert_eq!((cam.stats().accepted, cam.stats().replayed), (6, 6));
}

#[test]
fn loss_is_tolerated_and_the_too_old_are_stale() {
    let mut hub = link(HUB, 1);
    let mut cam = link(CAM, 1);
    let sent = frames(&mut hub, 400);
    for bytes in sent.iter().step_by(7) {
        assert!(cam.receive(Time(0), bytes).is_ok());
    }
    // 399 (= 7 * 57) is the highest accepted; 399 - 128 is out of the
    // window, 300 is in it.
    assert!(cam.receive(Time(0), &sent[300]).is_ok());
    assert_eq!(
        cam.receive(Time(0), &sent[271]),
        Err(Rejection::Stale {
            sender: HUB,
            reason: ReplayError::TooOld {
                sequence: 271,
                highest: 399
            }
        })
    );
    assert_eq!(cam.stats().stale, 1);
}

#[test]
fn a_restart_with_a_new_epoch_is_accepted_and_the_old_epoch_is_stale() {
    let mut hub = link(HUB, 1);
    let mut cam = link(CAM, 1);
    let before = frames(&mut hub, 3);
    for bytes in &before[..2] {
        assert!(cam.receive(Time(0), bytes).is_ok());
    }
    // The hub restarts: its sequence numbers start again, in epoch 2.
    let mut hub = link(HUB, 2);
    let after = frames(&mut hub, 2);
    assert!(cam.receive(Time(1), &after[0]).is_ok());
    assert!(cam.receive(Time(1), &after[1]).is_ok());
    assert_eq!(cam.peer(HUB).unwrap().epoch, Epoch(2));
    assert_eq!(
        cam.receive(Time(2), &before[2]),
        Err(Rejection::Stale {
            sender: HUB,
            reason: ReplayError::OldEpoch {
                epoch: 1,
                current: 2
            }
        })
    );
    assert_eq!(
        events(&mut cam)[1..],
        [LinkEvent::PeerRestarted {
            peer: HUB,
            epoch: Epoch(2)
        }]
    );
    assert_eq!(cam.stats().restarts, 1);
}

#[test]
fn a_restart_that_keeps_its_epoch_is_refused() {
    // Why the epoch must be persisted: without it the restarted sender's
    // frames look like replays of its first life's.
    let mut hub = link(HUB, 1);
    let mut cam = link(CAM, 1);
    for bytes in frames(&mut hub, 3) {
        assert!(cam.receive(Time(0), &bytes).is_ok());
    }
    let mut hub = link(HUB, 1);
    let again = hub.encode(&status(0)).unwrap();
    assert!(matches!(
        cam.receive(Time(0), &again),
        Err(Rejection::Replayed { .. })
    ));
}

#[test]
fn commands_apply_once_and_only_to_their_target() {
    let mut hub = link(HUB, 1);
    let mut cam = link(CAM, 1);
    let first = hub.encode(&command(CAM, 1)).unwrap();
    let got = cam.receive(Time(0), &first).unwrap();
    assert_eq!(got.message, command(CAM, 1));
    assert_eq!(cam.peer(HUB).unwrap().last_command, Some(1));

    // The hub resends command 1 in a new frame: authentic, fresh, ignored.
    let resent = hub.encode(&command(CAM, 1)).unwrap();
    assert_eq!(
        cam.receive(Time(1), &resent),
        Err(Rejection::AlreadyApplied {
            sender: HUB,
            sequence: 1
        })
    );
    // Its frame was recorded all the same: replaying it is a replay.
    assert!(matches!(
        cam.receive(Time(1), &resent),
        Err(Rejection::Replayed { .. })
    ));
    let older = hub.encode(&command(CAM, 0)).unwrap();
    assert!(matches!(
        cam.receive(Time(1), &older),
        Err(Rejection::AlreadyApplied { sequence: 0, .. })
    ));
    let newer = hub.encode(&command(CAM, 2)).unwrap();
    assert!(cam.receive(Time(2), &newer).is_ok());

    // A command for another camera, sent by the same hub, is not this one's
    // to apply, even though it is new to this camera.
    let theirs = hub.encode(&command(OTHER_CAM, 3)).unwrap();
    assert_eq!(
        cam.receive(Time(2), &theirs),
        Err(Rejection::Misdirected { target: OTHER_CAM })
    );

    // A restarted hub counts its commands from the start again.
    let mut hub = link(HUB, 2);
    let restarted = hub.encode(&command(CAM, 1)).unwrap();
    assert!(cam.receive(Time(3), &restarted).is_ok());

    let stats = cam.stats();
    assert_eq!(
        (
            stats.accepted,
            stats.duplicate_commands,
            stats.misdirected,
            stats.replayed
        ),
        (3, 2, 1, 1)
    );
}

#[test]
fn a_reflected_frame_is_refused() {
    let mut cam = link(CAM, 1);
    let own = cam.encode(&status(1)).unwrap();
    assert_eq!(cam.receive(Time(0), &own), Err(Rejection::Reflected));
    assert_eq!(cam.stats().unauthenticated, 1);
}

#[test]
fn keys_rotate_without_a_flag_day() {
    let mut hub = link(HUB, 1);
    let mut cam = link(CAM, 1);
    // Step 1: both learn key 2. Step 2: the hub tags with it.
    for l in [&mut hub, &mut cam] {
        l.keys_mut()
            .insert_key(2, ring(&[2], 2).keys()[&2].clone())
            .unwrap();
    }
    let old = hub.encode(&status(0)).unwrap();
    hub.keys_mut().set_active_key(2).unwrap();
    let new = hub.encode(&status(1)).unwrap();
    assert_eq!(Frame::decode(&new).unwrap().header.key_id, 2);
    assert_eq!(Frame::decode(&new).unwrap().tag_len(), 16);
    assert!(cam.receive(Time(0), &new).is_ok());
    // Step 3: key 1 is retired; what it tagged is no longer believed.
    cam.keys_mut().set_active_key(2).unwrap();
    cam.keys_mut().remove_key(1).unwrap();
    assert_eq!(
        cam.receive(Time(0), &old),
        Err(Rejection::Unauthenticated(AuthError::UnknownKey(1)))
    );
}

#[test]
fn a_silent_peer_is_lost_and_its_return_is_noticed() {
    let mut hub = link(HUB, 1);
    let mut cam = link(CAM, 1);
    let sent = frames(&mut hub, 3);
    assert!(cam.receive(Time::ZERO, &sent[0]).is_ok());
    events(&mut cam);

    // The camera's own heartbeat is due at once, then every second.
    assert_eq!(cam.poll_timeout(), Some(Time::ZERO));
    cam.handle_timeout(Time::ZERO);
    assert!(cam.poll_transmit().is_some());
    assert_eq!(cam.poll_timeout(), Some(Time(1_000_000_000)));

    let mut now = Time::ZERO;
    while let Some(t) = cam.poll_timeout().filter(|&t| t <= Time(2_900_000_000)) {
        now = t;
        cam.handle_timeout(now);
    }
    assert_eq!(now, Time(2_000_000_000));
    assert!(cam.peer(HUB).unwrap().alive);
    cam.handle_timeout(Time(3_000_000_000));
    assert_eq!(
        events(&mut cam),
        [LinkEvent::PeerLost {
            peer: HUB,
            last_heard: Time::ZERO
        }]
    );
    assert!(!cam.peer(HUB).unwrap().alive);
    // A lost peer has no deadline: only heartbeats remain.
    assert_eq!(cam.poll_timeout(), Some(Time(4_000_000_000)));

    // A replay of the peer's old frame neither revives it nor counts.
    assert!(cam.receive(Time(4_000_000_000), &sent[0]).is_err());
    assert!(!cam.peer(HUB).unwrap().alive);

    assert!(cam.receive(Time(9_000_000_000), &sent[1]).is_ok());
    assert_eq!(
        events(&mut cam),
        [LinkEvent::PeerUp {
            peer: HUB,
            reconnected: true
        }]
    );
    assert_eq!((cam.stats().peers_lost, cam.stats().reconnections), (1, 1));
    assert_eq!(cam.poll_timeout(), Some(Time(4_000_000_000)));
}

fn deliver(
    from: &mut CoordinationLink,
    to: &mut CoordinationLink,
    now: Time,
    up: bool,
    sent: &mut u64,
) {
    while let Some(bytes) = from.poll_transmit() {
        *sent += 1;
        // Every fifth heartbeat is lost too.
        if up && !sent.is_multiple_of(5) {
            to.receive(now, &bytes).unwrap();
        }
    }
}

/// Two endpoints exchanging heartbeats over a link that drops everything
/// between 5 s and 12 s: each loses the other once and notices its return
/// once, and a lost heartbeat now and then loses nobody.
#[test]
fn heartbeats_carry_liveness_across_a_partition() {
    let mut a = link(HUB, 1);
    let mut b = link(CAM, 1);
    let partitioned = |t: Time| (5_000_000_000..12_000_000_000).contains(&t.0);
    let mut sent = 0u64;
    let end = Time(20_000_000_000);
    loop {
        let next = [a.poll_timeout(), b.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .unwrap();
        if next > end {
            break;
        }
        a.handle_timeout(next);
        b.handle_timeout(next);
        let up = !partitioned(next);
        deliver(&mut a, &mut b, next, up, &mut sent);
        deliver(&mut b, &mut a, next, up, &mut sent);
    }
    for l in [&a, &b] {
        let s = l.stats();
        assert_eq!((s.peers_lost, s.reconnections), (1, 1), "{s:?}");
        assert_eq!(s.replayed + s.stale + s.malformed + s.unauthenticated, 0);
    }
    let lost: Vec<_> = events(&mut a)
        .into_iter()
        .filter_map(|e| match e {
            LinkEvent::PeerLost { peer, last_heard } => Some((peer, last_heard)),
            _ => None,
        })
        .collect();
    // Lost three seconds after the last heartbeat that got through before
    // the partition.
    assert!(
        matches!(lost[..], [(CAM, t)] if (3_000_000_000..5_000_000_000).contains(&t.0)),
        "{lost:?}"
    );
}

#[test]
fn a_bad_configuration_is_an_error() {
    let mut c = config(CAM, 1);
    c.liveness_timeout = Nanos::ZERO;
    assert_eq!(
        CoordinationLink::new(c, Time::ZERO).unwrap_err(),
        LinkConfigError::LivenessTimeout(Nanos::ZERO)
    );
    let mut c = config(CAM, 1);
    c.heartbeat_interval = Nanos(-1);
    assert_eq!(
        CoordinationLink::new(c, Time::ZERO).unwrap_err(),
        LinkConfigError::HeartbeatInterval(Nanos(-1))
    );
}

#[test]
fn a_non_finite_rate_is_not_sent_and_uses_no_sequence() {
    let mut hub = link(HUB, 1);
    let mut bad = command(CAM, 1);
    if let Message::Command(c) = &mut bad {
        c.adjustment.frequency_ppb = f64::INFINITY;
    }
    assert_eq!(
        hub.encode(&bad),
        Err(EncodeError::NonFinite {
            field: "frequency_ppb"
        })
    );
    let next = hub.encode(&status(0)).unwrap();
    assert_eq!(Frame::decode(&next).unwrap().header.sequence, 0);
}

#[test]
fn deadlines_saturate_at_the_end_of_time() {
    let mut hub = link(HUB, 1);
    let mut cam = link(CAM, 1);
    let bytes = hub.encode(&status(0)).unwrap();
    let late = Time(i64::MAX - 5);
    assert!(cam.receive(late, &bytes).is_ok());
    cam.handle_timeout(late);
    assert_eq!(cam.poll_timeout(), Some(Time(i64::MAX)));
    cam.handle_timeout(Time(i64::MAX));
    assert!(!cam.peer(HUB).unwrap().alive);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn finite() -> impl Strategy<Value = f64> {
        any::<f64>().prop_filter("finite", |v| v.is_finite())
    }

    fn node() -> impl Strategy<Value = NodeId> {
        any::<u32>().prop_map(NodeId)
    }

    fn message() -> impl Strategy<Value = Message> {
        let lock = prop_oneof![
            Just(LockState::Unlocked),
            Just(LockState::Stepping),
            Just(LockState::Locked),
            Just(LockState::Holdover),
            Just(LockState::FreeRunning),
        ];
        let severity = prop_oneof![
            Just(Severity::Info),
            Just(Severity::Warning),
            Just(Severity::Critical),
        ];
        prop_oneof![
            (node(), lock, any::<i64>(), finite(), any::<i64>()).prop_map(
                |(node, lock, offset, frequency_ppb, at)| Message::SyncStatus(SyncStatus {
                    node,
                    lock,
                    offset: Nanos(offset),
                    frequency_ppb,
                    at: Time(at),
                })
            ),
            (node(), finite(), any::<i64>()).prop_map(|(node, drift_ppm, at)| {
                Message::DriftReport(DriftReport {
                    node,
                    drift_ppm,
                    at: Time(at),
                })
            }),
            (node(), any::<u64>(), any::<i64>(), finite()).prop_map(
                |(target, sequence, step, frequency_ppb)| Message::Command(AdjustmentCommand {
                    target,
                    adjustment: Adjustment {
                        sequence,
                        step: Nanos(step),
                        frequency_ppb,
                    },
                })
            ),
            (node(), any::<u16>(), severity, any::<i64>()).prop_map(
                |(node, kind, severity, at)| Message::Alert(AlertMessage {
                    node,
                    kind: AlertCode(kind),
                    severity,
                    at: Time(at),
                })
            ),
            any::<i64>().prop_map(|at| Message::Heartbeat(Heartbeat { at: Time(at) })),
        ]
    }

    fn header() -> impl Strategy<Value = FrameHeader> {
        (1..4u32, node(), any::<u32>(), any::<u64>()).prop_map(
            |(key_id, sender, epoch, sequence)| FrameHeader {
                key_id,
                sender,
                epoch: Epoch(epoch),
                sequence,
            },
        )
    }

    /// A frame sealed with key 1 (full tag) or 2 (truncated).
    fn sealed() -> impl Strategy<Value = Vec<u8>> {
        (header(), message(), 1..=2u32).prop_map(|(h, m, key)| {
            let keys = ring(&[1, 2], key);
            wire::seal(&keys, h.sender, h.epoch, h.sequence, &m).unwrap()
        })
    }

    fn receiver() -> CoordinationLink {
        let mut c = config(NodeId(u32::MAX), 1);
        c.keys = ring(&[1, 2], 1);
        CoordinationLink::new(c, Time::ZERO).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn encode_then_decode_is_the_identity(h in header(), m in message()) {
            let keys = ring(&[1, 2, 3], h.key_id);
            let bytes = wire::seal(&keys, h.sender, h.epoch, h.sequence, &m).unwrap();
            prop_assert!(bytes.len() <= wire::MAX_FRAME_LEN);
            let frame = Frame::decode(&bytes).unwrap();
            prop_assert_eq!(frame.header, h);
            prop_assert_eq!(frame.message, m);
            prop_assert_eq!(frame.verify(&keys), Ok(()));
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..160),
            now in any::<i64>(),
        ) {
            let decoded = Frame::decode(&bytes);
            let mut link = receiver();
            let received = link.receive(Time(now), &bytes);
            // Random bytes are never authentic.
            prop_assert!(received.is_err());
            link.handle_timeout(Time(now));
            prop_assert_eq!(decoded.is_err(), matches!(received, Err(Rejection::Malformed(_))));
        }

        #[test]
        fn valid_looking_envelopes_never_panic(
            frame in sealed(),
            cut in any::<prop::sample::Index>(),
            junk in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let mut link = receiver();
            let mut bytes = frame[..cut.index(frame.len())].to_vec();
            bytes.extend_from_slice(&junk);
            let got = link.receive(Time(0), &bytes);
            // Unless the bytes are the frame itself, they moved nothing: the
            // frame gets the answer a fresh receiver gives it.
            if bytes != frame {
                prop_assert!(got.is_err());
                prop_assert_eq!(link.receive(Time(0), &frame), receiver().receive(Time(0), &frame));
            }
        }

        #[test]
        fn any_single_bit_flip_is_rejected(frame in sealed(), bit in any::<prop::sample::Index>()) {
            let mut link = receiver();
            let mut flipped = frame.clone();
            let bit = bit.index(frame.len() * 8);
            flipped[bit / 8] ^= 1 << (bit % 8);
            let got = link.receive(Time(0), &flipped);
            prop_assert!(got.is_err(), "bit {} accepted: {:?}", bit, got);
            prop_assert!(matches!(
                got,
                Err(Rejection::Malformed(_) | Rejection::Unauthenticated(_))
            ));
            // The flipped frame moved nothing: the genuine one gets the
            // answer a fresh receiver gives it.
            prop_assert_eq!(link.receive(Time(0), &frame), receiver().receive(Time(0), &frame));
        }
    }
}
