//! Human byte sizes for `--min-size` / `--max-size`.

/// Parses `500`, `10K`, `10KB` (1,000s), `10KiB` (1,024s), `1.5M`, `2MiB`, `1G`, `1GiB`, `1T`,
/// `1TiB` (case-insensitive; a bare `K`/`M`/`G`/`T` means binary units, as most tools read
/// them).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("`{text}` is not a size such as 500, 10KiB, 1.5GB"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "kb" => 1e3,
        "m" | "mib" => 1024.0 * 1024.0,
        "mb" => 1e6,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "gb" => 1e9,
        "t" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "tb" => 1e12,
        other => {
            return Err(format!(
                "`{other}` in `{text}` is not a size unit (B, K, KB, KiB, M, MB, MiB, G, GB, GiB, T, TB, TiB)"
            ));
        }
    };
    let bytes = value * factor;
    if !(0.0..=1.8e19).contains(&bytes) {
        return Err(format!("`{text}` is out of range"));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("500").unwrap(), 500);
        assert_eq!(parse_size("10K").unwrap(), 10_240);
        assert_eq!(parse_size("10KB").unwrap(), 10_000);
        assert_eq!(parse_size("1.5MiB").unwrap(), 1_572_864);
        assert_eq!(parse_size("2gb").unwrap(), 2_000_000_000);
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }
}
