#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs (fuzz/seeds/TARGET/): a few valid PTP
packets, valid coordination frames and session scripts, and some scenario
files. Run from the repository root; the output is deterministic."""
import hashlib, hmac, os, shutil, struct

root = os.path.join(os.path.dirname(os.path.abspath(__file__)))

def write(target, name, data):
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data)

# --- PTP (IEEE 1588-2019 §13) ------------------------------------------------
PORT = bytes(range(1, 9)) + struct.pack(">H", 1)

def ptp(msg_type, body, seq=7, control=0, log=-3, suffix=b""):
    length = 34 + len(body) + len(suffix)
    header = struct.pack(">BBHBBHqI", msg_type, 2, length, 0, 0, 0x0200, 0, 0)
    header += PORT + struct.pack(">HBb", seq, control, log)
    return header + body + suffix

# A Timestamp: 48-bit seconds, 32-bit nanoseconds.
ts = struct.pack(">Q", 1_767_225_637)[2:] + struct.pack(">I", 123_456_789)
write("ptp_wire", "sync", ptp(0x0, ts, control=0))
write("ptp_wire", "delay_req", ptp(0x1, ts, control=1, log=0x7F))
write("ptp_wire", "follow_up", ptp(0x8, ts, control=2))
write("ptp_wire", "delay_resp", ptp(0x9, ts + PORT, control=3))
announce = ts + struct.pack(">hBBBBHB", 37, 0, 128, 6, 0x21, 0x4E5D, 128) + bytes(range(1, 9)) + struct.pack(">HB", 0, 0x20)
write("ptp_wire", "announce", ptp(0xB, announce, control=5, log=1))
path_trace = struct.pack(">HH", 0x0008, 8) + bytes(range(1, 9))
write("ptp_wire", "announce_path_trace", ptp(0xB, announce, control=5, suffix=path_trace))
# A Sync signed with the fuzz target's key 1 (HMAC-SHA256-128, SPP 0).
icv_len = 16
auth_head = struct.pack(">HHBBI", 0x8009, 6 + icv_len, 0, 0, 1)
unsigned = ptp(0x0, ts, suffix=auth_head + bytes(icv_len))
covered = unsigned[:-icv_len]
icv = hmac.new(b"fuzzing key one", covered, hashlib.sha256).digest()[:icv_len]
write("ptp_wire", "sync_signed", covered + icv)

# --- coordination (engine/src/coordination/wire.rs) ---------------------------
KEYS = {1: (b"coordination key 1", 32), 2: (b"coordination key 2", 16)}

def frame(msg_type, body, key_id=1, sender=10, epoch=1, seq=0):
    secret, tag_len = KEYS[key_id]
    head = b"CS" + struct.pack(">BBIIIQH", 1, msg_type, key_id, sender, epoch, seq, len(body))
    covered = head + body
    return covered + hmac.new(secret, covered, hashlib.sha256).digest()[:tag_len]

f64 = lambda v: struct.pack(">d", v)
bodies = {
    "sync_status": (1, struct.pack(">IBq", 1, 2, -120) + f64(12.5) + struct.pack(">q", 5_000_000_000)),
    "drift_report": (2, struct.pack(">I", 3) + f64(-0.75) + struct.pack(">q", 6_000_000_000)),
    "command": (3, struct.pack(">IQq", 1, 4, -250_000) + f64(-3.25)),
    "alert": (4, struct.pack(">IHBq", 2, 16, 1, 7_000_000_000)),
    "heartbeat": (5, struct.pack(">q", 8_000_000_000)),
}
for i, (name, (t, body)) in enumerate(bodies.items()):
    # Raw mode: the first byte is even.
    write("coordination", "raw_" + name, b"\x00" + frame(t, body, key_id=1 + i % 2, seq=i))
# Session mode (odd first byte): seal, deliver, flip, time, restart, rotate.
write("coordination", "session_basic",
      b"\x01" + b"\x00\x02" + b"\x02\x00\x00" + b"\x02\x00\x00" + b"\x01\x04" + b"\x02\x01\x00"
      + b"\x03\x00\x00\x10\x00" + b"\x04\x00\x10\x00\x00" + b"\x05\x00\x00" + b"\x00\x00" + b"\x02\x03\x00")
write("coordination", "session_rotate",
      b"\x01" + b"\x06\x01\x00" + b"\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01" + b"\x02\x00\x00"
      + b"\x07\x00\x00\x04" + b"\x07\x00\x00\x05\xaa" + b"\x04\xff\xff\xff\x00" + b"\x02\x00\x00")

# --- scenarios ------------------------------------------------------------------
repo = os.path.dirname(os.path.dirname(root))
for rel in ["studio-4cam.toml", "mixed-rates.toml", "stadium-8cam-sw.toml",
            "ptp/gm-failover.toml", "ptp/malformed-packets.toml"]:
    shutil.copy(os.path.join(repo, "scenarios", rel),
                os.path.join(root, "scenario", rel.replace("/", "-")))
for rel in sorted(os.listdir(os.path.join(repo, "scenarios", "visual")))[:2]:
    shutil.copy(os.path.join(repo, "scenarios", "visual", rel),
                os.path.join(root, "scenario", "visual-" + rel))
