//! Where a receive that runs on its own thread puts the bytes.

/// A destination for bytes at file offsets, written from blocking threads: a download's partial
/// file as a network receive sees it, so each piece read off a socket is written while it is
/// still in the CPU's cache instead of travelling through the async runtime first.
pub trait PositionalSink: Send + Sync {
    /// Writes all of `data` at `offset`. Writes may run concurrently, at different offsets.
    fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<()>;
}
