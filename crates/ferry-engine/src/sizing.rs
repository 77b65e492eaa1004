//! Block sizes, by AzCopy's rule.

/// The starting block size: 8 MiB.
pub const DEFAULT_BLOCK_SIZE: u64 = 8 * 1024 * 1024;
/// The largest block the service accepts: 4,000 MiB.
pub const MAX_BLOCK_SIZE: u64 = 4000 * 1024 * 1024;
/// The most blocks one blob may have.
pub const MAX_BLOCKS: u64 = 50_000;

/// The largest range a download asks for unless told: big enough that a large file takes a few
/// dozen requests, not hundreds (Azurite spent 2.64 CPU-s serving a 1 GiB download in 8 MiB
/// ranges, 2.27 in 32 MiB ones, medians of five, on the two cores the client shares; README,
/// Performance).
pub(crate) const DOWNLOAD_RANGE_MOST: u64 = 32 * 1024 * 1024;

/// A requested block size that cannot hold the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizingError(pub String);

impl std::fmt::Display for SizingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The block size for an object of `size` bytes, in Azure's limits (50,000 blocks).
///
/// Without a request: 8 MiB, doubled while 50,000 blocks would not hold the object, up to
/// 256 MiB; beyond that the smallest size that fits in 50,000 blocks. With a request: that size,
/// unless it needs more than 50,000 blocks or exceeds 4,000 MiB, which is an error naming the
/// smallest size that works.
pub fn block_size(size: u64, requested: Option<u64>) -> Result<u64, SizingError> {
    part_size(size, requested, MAX_BLOCKS, 0)
}

/// Objects up to this size are downloaded in one range unless told otherwise: one request, and
/// hashed by the thread that receives it instead of read back. 64 × 16 MiB downloaded with
/// 3.20 CPU-s instead of 3.83 and the emulator's 3.0 instead of 3.8 in 8 MiB ranges (medians of
/// six); one 16 MiB file in 0.10 s instead of 0.14 (README, Performance). A job of many
/// files keeps its connections busy with other files; a lone mid-size file is quick either way.
pub(crate) const DOWNLOAD_WHOLE_MOST: u64 = 16 * 1024 * 1024;

/// The range size for downloading an object of `size` bytes.
///
/// With a request, [`block_size`]'s answer (AzCopy's `--block-size-mb` sizes downloads too).
/// Without one: the whole object up to [`DOWNLOAD_WHOLE_MOST`]; above it a quarter of the object
/// rounded up to a MiB, at least the automatic block size and at most [`DOWNLOAD_RANGE_MOST`] (or
/// that block size, if larger), so a mid-size file still arrives over four connections while a
/// large one takes few requests.
pub(crate) fn download_range(size: u64, requested: Option<u64>) -> Result<u64, SizingError> {
    let block = block_size(size, requested)?;
    if requested.is_some() {
        return Ok(block);
    }
    if size <= DOWNLOAD_WHOLE_MOST {
        return Ok(block.max(size));
    }
    Ok(size.div_ceil(4).next_multiple_of(1024 * 1024).clamp(block, DOWNLOAD_RANGE_MOST.max(block)))
}

/// The part size for an object of `size` bytes at a store that takes at most `max_parts` parts
/// of at least `min_part` bytes (but the last): [`block_size`]'s rule with those limits, a
/// smaller size (asked for or not) raised to `min_part` (S3's 5 MiB).
pub(crate) fn part_size(size: u64, requested: Option<u64>, max_parts: u64, min_part: u64) -> Result<u64, SizingError> {
    let max_parts = max_parts.max(1);
    let block = match requested {
        None => {
            let mut block = DEFAULT_BLOCK_SIZE.max(min_part);
            while size >= max_parts * block && block < 256 * 1024 * 1024 {
                block *= 2;
            }
            if size > max_parts * block {
                block = size.div_ceil(max_parts);
            }
            return Ok(block.min(MAX_BLOCK_SIZE));
        }
        Some(0) => return Err(SizingError("the block size must be more than 0".into())),
        Some(block) => block.max(min_part),
    };
    if block > MAX_BLOCK_SIZE {
        return Err(SizingError(format!("a block is at most 4000 MiB; {} MiB was asked for", block / (1024 * 1024))));
    }
    if size.div_ceil(block) > max_parts {
        let needed = size.div_ceil(max_parts).div_ceil(1024 * 1024);
        return Err(SizingError(format!(
            "{size} bytes in blocks of {block} bytes needs more than {max_parts} blocks; use --block-size-mb {needed} or more"
        )));
    }
    Ok(block)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn s3_parts_are_at_least_5_mib_and_at_most_10000() {
        assert_eq!(part_size(100 * MIB, Some(MIB), 10_000, 5 * MIB).unwrap(), 5 * MIB);
        assert_eq!(part_size(100 * MIB, None, 10_000, 5 * MIB).unwrap(), 8 * MIB);
        assert_eq!(part_size(10_000 * 8 * MIB, None, 10_000, 5 * MIB).unwrap(), 16 * MIB);
        assert!(part_size(10_001 * 5 * MIB, Some(5 * MIB), 10_000, 5 * MIB).unwrap_err().0.contains("10000 blocks"));
    }

    #[test]
    fn downloads_take_a_quarter_of_the_object_between_8_and_32_mib_unless_told() {
        assert_eq!(download_range(0, None).unwrap(), 8 * MIB);
        assert_eq!(download_range(MIB, None).unwrap(), 8 * MIB);
        assert_eq!(download_range(9 * MIB + 1, None).unwrap(), 9 * MIB + 1, "up to 16 MiB in one range");
        assert_eq!(download_range(16 * MIB, None).unwrap(), 16 * MIB);
        assert_eq!(download_range(16 * MIB + 1, None).unwrap(), 8 * MIB);
        assert_eq!(download_range(16 * MIB, Some(8 * MIB)).unwrap(), 8 * MIB);
        assert_eq!(download_range(40 * MIB, None).unwrap(), 10 * MIB);
        assert_eq!(download_range(40 * MIB + 1, None).unwrap(), 11 * MIB);
        assert_eq!(download_range(1024 * MIB, None).unwrap(), 32 * MIB);
        assert_eq!(download_range(1024 * MIB, Some(8 * MIB)).unwrap(), 8 * MIB);
        // Past 50,000 × 32 MiB the block rule's larger size wins.
        let huge = 50_000 * 64 * MIB;
        assert_eq!(download_range(huge, None).unwrap(), block_size(huge, None).unwrap());
        assert!(download_range(50_001 * MIB, Some(MIB)).is_err());
    }

    #[test]
    fn automatic_sizes_follow_azcopy() {
        assert_eq!(block_size(0, None).unwrap(), 8 * MIB);
        assert_eq!(block_size(100 * MIB, None).unwrap(), 8 * MIB);
        assert_eq!(block_size(50_000 * 8 * MIB - 1, None).unwrap(), 8 * MIB);
        assert_eq!(block_size(50_000 * 8 * MIB, None).unwrap(), 16 * MIB);
        assert_eq!(block_size(50_000 * 256 * MIB + 1, None).unwrap(), (50_000 * 256 * MIB + 1).div_ceil(50_000));
        for size in [1, MIB, 10_000 * MIB, 4 * 1024 * 1024 * MIB] {
            let block = block_size(size, None).unwrap();
            assert!(size.div_ceil(block) <= MAX_BLOCKS, "{size}");
        }
    }

    #[test]
    fn requested_sizes_are_checked() {
        assert_eq!(block_size(300 * MIB, Some(8 * MIB)).unwrap(), 8 * MIB);
        let err = block_size(50_001 * MIB, Some(MIB)).unwrap_err();
        assert!(err.0.contains("--block-size-mb 2"), "{err}");
        assert!(block_size(1, Some(0)).is_err());
        assert!(block_size(1, Some(MAX_BLOCK_SIZE + 1)).is_err());
    }
}
