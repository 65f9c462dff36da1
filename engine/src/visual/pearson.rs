//! Pearson's correlation, accumulated pair by pair: what the lag search, the
//! view registration and the local placement all measure.

#[derive(Clone, Copy, Debug, Default)]
pub struct Pearson {
    n: usize,
    sa: f64,
    sb: f64,
    saa: f64,
    sbb: f64,
    sab: f64,
}

impl Pearson {
    pub fn add(&mut self, a: f64, b: f64) {
        self.n += 1;
        self.sa += a;
        self.sb += b;
        self.saa += a * a;
        self.sbb += b * b;
        self.sab += a * b;
    }

    pub fn count(&self) -> usize {
        self.n
    }

    /// The correlation; `None` when either side barely varies.
    pub fn correlation(&self) -> Option<f64> {
        let n = self.n as f64;
        let var_a = self.saa - self.sa * self.sa / n;
        let var_b = self.sbb - self.sb * self.sb / n;
        if self.n < 2 || var_a <= 1e-9 * n || var_b <= 1e-9 * n {
            return None;
        }
        Some((self.sab - self.sa * self.sb / n) / (var_a * var_b).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_ignores_gain_and_level_and_refuses_flat_sides() {
        let mut p = Pearson::default();
        for i in 0..10 {
            let x = (i * i) as f64;
            p.add(x, 3.0 * x + 7.0);
        }
        assert!((p.correlation().unwrap() - 1.0).abs() < 1e-12);
        let mut flat = Pearson::default();
        for i in 0..10 {
            flat.add(i as f64, 5.0);
        }
        assert_eq!(flat.correlation(), None);
    }
}
