//! The ordered event trace and its hash. Every event the kernel processes, and
//! every decision a node reports, is appended in a canonical binary encoding;
//! the BLAKE3 hash of the whole is the run's fingerprint: same scenario, seed and
//! build give the same hash.

pub struct Trace {
    hasher: blake3::Hasher,
    buffer: Vec<u8>,
    events: u64,
}

const FLUSH_AT: usize = 1 << 16;

impl Default for Trace {
    fn default() -> Self {
        Trace {
            hasher: blake3::Hasher::new(),
            buffer: Vec::with_capacity(FLUSH_AT + 256),
            events: 0,
        }
    }
}

impl Trace {
    /// Starts a record: its kind and the true time it happened.
    pub fn record(&mut self, kind: u8, true_time: i64) -> &mut Self {
        self.events += 1;
        if self.buffer.len() >= FLUSH_AT {
            self.hasher.update(&self.buffer);
            self.buffer.clear();
        }
        self.buffer.push(kind);
        self.i64(true_time)
    }
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.buffer.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buffer.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn f64(&mut self, v: f64) -> &mut Self {
        self.buffer.extend_from_slice(&v.to_bits().to_le_bytes());
        self
    }
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.u64(b.len() as u64);
        self.buffer.extend_from_slice(b);
        self
    }
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The first 128 bits of the hash, in hex.
    pub fn finish(mut self) -> String {
        self.hasher.update(&self.buffer);
        let hash = self.hasher.finalize();
        hash.as_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}
