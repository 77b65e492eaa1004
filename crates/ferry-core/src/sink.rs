//! Where a receive that runs on its own thread puts the bytes.

/// What [`PositionalSink::write_direct_at`] needs aligned: the file offset, the length and the
/// memory address (the logical block size of the disks and filesystems Ferry writes to, or a
/// multiple of it).
pub const DIRECT_ALIGN: usize = 4096;

/// A destination for bytes at file offsets, written from blocking threads: a download's partial
/// file as a network receive sees it, so each piece read off a socket is written while it is
/// still in the CPU's cache instead of travelling through the async runtime first.
pub trait PositionalSink: Send + Sync {
    /// Writes all of `data` at `offset`. Writes may run concurrently, at different offsets.
    fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<()>;

    /// Whether [`Self::write_direct_at`] can write around the page cache at all.
    fn writes_direct(&self) -> bool {
        false
    }

    /// Writes all of `data` at `offset` straight to the storage, around the page cache (`O_DIRECT`):
    /// no page is allocated or copied into for it. `offset`, `data.len()` and `data`'s address must
    /// be multiples of [`DIRECT_ALIGN`]. Returns `false`, having written nothing, where the file
    /// cannot be written so (then [`Self::write_at`] is the way).
    fn write_direct_at(&self, offset: u64, data: &[u8]) -> std::io::Result<bool> {
        let _ = (offset, data);
        Ok(false)
    }
}
