//! Where the vault's randomness comes from: the OS, or (in unit tests only) a deterministic
//! stream, so known-answer vectors can be built and checked.

use super::VaultError;

/// A source of random bytes.
#[derive(Debug, Clone)]
pub(crate) enum Rng {
    /// The operating system's CSPRNG.
    Os,
    /// Test only: the bytes `seed, seed+1, seed+2, ...` (wrapping), continuing across calls.
    #[cfg(test)]
    Counter(std::sync::Arc<std::sync::atomic::AtomicU8>),
}

impl Rng {
    #[cfg(test)]
    pub(crate) fn counter(seed: u8) -> Rng {
        Rng::Counter(std::sync::Arc::new(std::sync::atomic::AtomicU8::new(seed)))
    }

    /// Fills `buf` with random bytes.
    pub(crate) fn fill(&self, buf: &mut [u8]) -> Result<(), VaultError> {
        match self {
            Rng::Os => getrandom::fill(buf).map_err(|_| VaultError::Random),
            #[cfg(test)]
            Rng::Counter(next) => {
                for b in buf.iter_mut() {
                    *b = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                Ok(())
            }
        }
    }
}
