//! Bodies for writes and reads.

use std::path::PathBuf;
use std::pin::Pin;

use bytes::Bytes;
use futures::Stream;

use crate::StoreError;

/// A stream of bytes read from a store.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, StoreError>> + Send + 'static>>;

/// The data to write.
///
/// `Bytes` and `FileRange` can be sent again, so an HTTP backend may retry them; a `Stream` is
/// consumed by the first attempt and is therefore never retried at the request level.
pub enum Payload {
    /// Bytes in memory.
    Bytes(Bytes),
    /// `len` bytes of a local file starting at `offset`, read as it is sent.
    FileRange {
        /// The file.
        path: PathBuf,
        /// Where to start.
        offset: u64,
        /// How many bytes.
        len: u64,
    },
    /// A one-shot stream of exactly `len` bytes.
    Stream {
        /// The data.
        stream: ByteStream,
        /// Its exact length.
        len: u64,
    },
}

impl Payload {
    /// The number of bytes this payload carries.
    pub fn len(&self) -> u64 {
        match self {
            Self::Bytes(b) => b.len() as u64,
            Self::FileRange { len, .. } | Self::Stream { len, .. } => *len,
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bytes(b) => write!(f, "Payload::Bytes({} bytes)", b.len()),
            Self::FileRange { path, offset, len } => {
                write!(f, "Payload::FileRange({}, {offset}+{len})", path.display())
            }
            Self::Stream { len, .. } => write!(f, "Payload::Stream({len} bytes)"),
        }
    }
}

impl From<Bytes> for Payload {
    fn from(b: Bytes) -> Self {
        Self::Bytes(b)
    }
}

impl From<Vec<u8>> for Payload {
    fn from(v: Vec<u8>) -> Self {
        Self::Bytes(Bytes::from(v))
    }
}

impl From<&'static [u8]> for Payload {
    fn from(v: &'static [u8]) -> Self {
        Self::Bytes(Bytes::from_static(v))
    }
}
