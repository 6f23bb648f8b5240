//! Test helpers shared by the property tests: a small seeded generator, so a failing case is
//! the same case on every machine.

/// A linear congruential generator (Knuth's MMIX constants).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }

    /// `min` to `min + spread - 1` pieces, each picked from `pieces`, joined.
    pub(crate) fn pieces(&mut self, pieces: &[&str], min: usize, spread: usize) -> String {
        (0..min + self.below(spread)).map(|_| pieces[self.below(pieces.len())]).collect()
    }
}
