//! `--decompress`: a download whose object is stored gzip- or deflate-encoded (by its
//! Content-Encoding) is inflated on its way to disk, as AzCopy does.
//!
//! The compressed ranges are fetched in order (a few at a time) and hashed, for the stored MD5
//! covers the compressed bytes; one blocking thread inflates them; the inflated pieces are
//! appended to the temporary file, which grows as they come. Every stage hands over through a
//! channel of two, so memory stays at a few chunks whatever the compression ratio: a small
//! object that inflates to terabytes costs disk, never memory. An inflated download cannot be
//! resumed inside the file (the inflater's state is not kept), so an interrupted one starts over.

use std::io::{self, Read};
use std::sync::atomic::AtomicU64;

use bytes::Bytes;
use ferry_md5::Md5;
use ferry_store::{ErrorKind, StoreError};
use futures::{StreamExt, TryStreamExt, stream};
use tokio::sync::mpsc;

use super::download::hash_more;
use super::{CheckMd5, Context, Transfer, chunks, sizing_error};
use crate::sizing::block_size;

/// Compressed ranges fetched at once.
const FETCHES: usize = 4;
/// Inflated data is written in pieces of this size.
const PIECE: usize = 1024 * 1024;

/// How an object's data is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    /// `Content-Encoding: gzip` (one or more gzip members).
    Gzip,
    /// `Content-Encoding: deflate`: a zlib stream, as HTTP defines it.
    Zlib,
}

impl Encoding {
    /// The encoding `t` is stored with: `None` when it has no Content-Encoding (it is copied as
    /// it is); an error for one Ferry cannot inflate, which fails the item before anything is
    /// written.
    pub(super) fn of(t: &Transfer) -> Result<Option<Self>, StoreError> {
        let stated = t.properties.as_ref().and_then(|p| p.headers.content_encoding.as_deref()).map(str::trim);
        match stated.map(str::to_ascii_lowercase).as_deref() {
            None | Some("" | "identity") => Ok(None),
            Some("gzip" | "x-gzip") => Ok(Some(Self::Gzip)),
            Some("deflate") => Ok(Some(Self::Zlib)),
            Some(other) => Err(StoreError::new(
                ErrorKind::InvalidInput,
                &t.source_key,
                format!("--decompress inflates gzip and deflate, not Content-Encoding `{other}`; nothing was written"),
            )
            .with_hint("download it without --decompress and decode it with the matching tool")),
        }
    }

    /// The name a file stored with this encoding gets once inflated: the extension that says
    /// so (`.gz`, `.gzip` for gzip; `.zz` for zlib) is dropped, as AzCopy does.
    pub(super) fn inflated_name(self, name: &str) -> &str {
        let extensions: &[&str] = match self {
            Self::Gzip => &[".gz", ".gzip"],
            Self::Zlib => &[".zz"],
        };
        let base = name.rsplit('/').next().unwrap_or(name);
        for extension in extensions {
            let cut = name.len().saturating_sub(extension.len());
            // Only a real extension: `dir/.gz` keeps its name.
            if base.len() > extension.len() && name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(extension)
            {
                return &name[..cut];
            }
        }
        name
    }
}

/// The destination name of `key` for a download of `t` with `--decompress`.
pub fn inflated_key(key: &str, t: &Transfer) -> String {
    match Encoding::of(t) {
        Ok(Some(encoding)) => encoding.inflated_name(key).to_owned(),
        _ => key.to_owned(),
    }
}

impl Context {
    /// Downloads `t` inflated into a temporary file, checks the compressed bytes against the
    /// stored MD5, then publishes the file.
    pub(super) async fn download_inflated(
        &self,
        t: &Transfer,
        encoding: Encoding,
        moved: &AtomicU64,
    ) -> Result<(), StoreError> {
        self.require_md5(t)?;
        let chunk = block_size(t.size, self.options.policy.block_size).map_err(|e| sizing_error(&t.source_key, e))?;
        let writer = self.dest.begin_positional_write(&t.dest_key, 0).await?;
        let (to_inflater, compressed) = mpsc::channel::<Bytes>(2);
        let (to_writer, mut inflated) = mpsc::channel::<io::Result<Bytes>>(2);
        let inflater = tokio::task::spawn_blocking(move || inflate(encoding, compressed, &to_writer));

        let verify = t.content_md5.is_some() && self.options.policy.check_md5 != CheckMd5::NoCheck;
        let feed = async move {
            let mut ranges = std::pin::pin!(
                stream::iter(chunks(t.size, chunk))
                    .map(|range| async move {
                        self.check_cancelled(&t.source_key)?;
                        let _budget = self.budget.reserve(range.end - range.start).await;
                        let _request = self.requests.acquire().await.expect("never closed");
                        self.read_range(&t.source_key, range).await
                    })
                    .buffered(FETCHES)
            );
            let mut hasher = verify.then(Md5::new);
            while let Some(data) = ranges.try_next().await? {
                self.count_moved(moved, data.len() as u64);
                if let Some(h) = hasher.take() {
                    hasher = Some(hash_more(h, data.clone()).await);
                }
                if to_inflater.send(data).await.is_err() {
                    // The inflater stopped (bad data): the writer reports why.
                    break;
                }
            }
            Ok::<Option<Md5>, StoreError>(hasher)
        };
        let write = async {
            let mut at = 0u64;
            while let Some(piece) = inflated.recv().await {
                let piece = piece.map_err(|e| {
                    StoreError::new(
                        ErrorKind::InvalidInput,
                        &t.source_key,
                        format!(
                            "the data is not valid {encoding:?} as its Content-Encoding says ({e}); nothing was written"
                        ),
                    )
                    .with_hint("download it without --decompress to keep the bytes as they are stored")
                })?;
                let end = at + piece.len() as u64;
                writer.grow(end).await?;
                writer.write_at(at, piece).await?;
                at = end;
            }
            Ok::<u64, StoreError>(at)
        };
        let (hasher, _written) = tokio::try_join!(feed, write)?;
        inflater
            .await
            .map_err(|e| StoreError::new(ErrorKind::Other, &t.source_key, format!("the inflater failed: {e}")))?;
        if let (Some(hasher), Some(expected)) = (hasher, t.content_md5) {
            let actual: [u8; 16] = hasher.finalize();
            self.judge_md5(t, actual, expected)?;
        }
        writer.finish(&self.finish_options(t)).await
    }
}

/// Inflates what arrives on `compressed` and sends it on in pieces of [`PIECE`] bytes; a
/// decoding error is sent on too, and ends it. Runs on a blocking thread.
fn inflate(encoding: Encoding, compressed: mpsc::Receiver<Bytes>, out: &mpsc::Sender<io::Result<Bytes>>) {
    let input = ChannelReader { rx: compressed, current: Bytes::new() };
    let mut decoder: Box<dyn Read> = match encoding {
        Encoding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
        Encoding::Zlib => Box::new(flate2::read::ZlibDecoder::new(input)),
    };
    loop {
        let mut buffer = vec![0u8; PIECE];
        let mut filled = 0;
        let result = loop {
            match decoder.read(&mut buffer[filled..]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    filled += n;
                    if filled == PIECE {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        if filled > 0 {
            buffer.truncate(filled);
            if out.blocking_send(Ok(Bytes::from(buffer))).is_err() {
                return;
            }
        }
        match result {
            Err(e) => {
                let _ = out.blocking_send(Err(e));
                return;
            }
            Ok(()) if filled < PIECE => return,
            Ok(()) => {}
        }
    }
}

/// Reads the compressed data as it arrives on a channel; the channel's end is the data's end.
struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(data) => self.current = data,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::Encoding;

    #[test]
    fn only_the_encodings_own_extension_is_dropped() {
        assert_eq!(Encoding::Gzip.inflated_name("logs/a.txt.gz"), "logs/a.txt");
        assert_eq!(Encoding::Gzip.inflated_name("logs/a.GZIP"), "logs/a");
        assert_eq!(Encoding::Gzip.inflated_name("logs/a.zz"), "logs/a.zz");
        assert_eq!(Encoding::Zlib.inflated_name("a.zz"), "a");
        assert_eq!(Encoding::Zlib.inflated_name("a.gz"), "a.gz");
        assert_eq!(Encoding::Gzip.inflated_name("dir/.gz"), "dir/.gz");
        assert_eq!(Encoding::Gzip.inflated_name("plain"), "plain");
    }
}
