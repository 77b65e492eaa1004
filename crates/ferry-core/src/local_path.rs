//! Local paths: `~`, relative and absolute paths, trailing `/*`, wildcards in the last segments.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::location::LocationError;

/// A local source or destination.
///
/// `root` is an absolute path with no wildcard in it; `pattern`, when present, is the wildcard
/// part that followed it (`*` for a trailing `/*`, meaning "the contents of `root`").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath {
    root: PathBuf,
    pattern: Option<String>,
}

fn has_glob(segment: &str) -> bool {
    segment.contains(['*', '?', '['])
}

impl LocalPath {
    /// Parses a local path. A path that exists as typed is taken literally even if it contains
    /// glob characters (`[draft].txt`); otherwise the segments from the first one with `*`, `?`
    /// or `[` on form the pattern.
    pub fn parse(text: &str) -> Result<Self, LocationError> {
        if text.is_empty() {
            return Err(LocationError::new(text, "the path is empty"));
        }
        if text.contains('\0') {
            return Err(LocationError::new(text, "the path contains a NUL character"));
        }
        let expanded = expand_home(text)
            .ok_or_else(|| LocationError::new(text, "cannot expand `~`: the HOME environment variable is not set"))?;
        let absolute = std::path::absolute(&expanded)
            .map_err(|e| LocationError::new(text, format!("cannot make the path absolute ({e})")))?;
        if absolute.exists() || !absolute.to_str().is_some_and(has_glob) {
            return Ok(Self { root: absolute, pattern: None });
        }
        let mut root = PathBuf::new();
        let mut pattern: Vec<String> = Vec::new();
        for component in absolute.components() {
            let piece = component.as_os_str().to_string_lossy();
            if pattern.is_empty() && !(matches!(component, Component::Normal(_)) && has_glob(&piece)) {
                root.push(component);
            } else {
                pattern.push(piece.into_owned());
            }
        }
        Ok(Self { root, pattern: Some(pattern.join("/")) })
    }

    /// The path up to (not including) the first wildcard segment.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The wildcard part, relative to [`LocalPath::root`], if any.
    pub fn pattern(&self) -> Option<&str> {
        self.pattern.as_deref()
    }

    /// True for a trailing `/*`: the contents of the directory, not the directory itself.
    pub fn contents_only(&self) -> bool {
        self.pattern.as_deref() == Some("*")
    }
}

fn expand_home(text: &str) -> Option<PathBuf> {
    if text == "~" || text.starts_with("~/") {
        let home = std::env::var_os("HOME")?;
        let rest = text.strip_prefix('~').unwrap_or_default().trim_start_matches('/');
        Some(Path::new(&home).join(rest))
    } else {
        Some(PathBuf::from(text))
    }
}

impl fmt::Display for LocalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.root.display())?;
        if let Some(p) = &self.pattern {
            write!(f, "/{p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_become_absolute() {
        let p = LocalPath::parse("some/dir").unwrap();
        assert!(p.root().is_absolute());
        assert!(p.root().ends_with("some/dir"));
        assert_eq!(p.pattern(), None);
    }

    #[test]
    fn home_is_expanded() {
        let home = std::env::var("HOME").unwrap();
        let p = LocalPath::parse("~/x/y").unwrap();
        assert_eq!(p.root(), Path::new(&home).join("x/y"));
    }

    #[test]
    fn trailing_star_is_contents_only() {
        let p = LocalPath::parse("/no/such/dir/*").unwrap();
        assert_eq!(p.root(), Path::new("/no/such/dir"));
        assert!(p.contents_only());
    }

    #[test]
    fn wildcards_in_last_segments() {
        let p = LocalPath::parse("/no/such/logs/2024-*/*.gz").unwrap();
        assert_eq!(p.root(), Path::new("/no/such/logs"));
        assert_eq!(p.pattern(), Some("2024-*/*.gz"));
        assert!(!p.contents_only());
    }

    #[test]
    fn an_existing_path_with_glob_characters_is_literal() {
        let dir = std::env::temp_dir().join(format!("ferry-lp-{}", std::process::id()));
        let file = dir.join("[draft].txt");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&file, b"x").unwrap();
        let p = LocalPath::parse(file.to_str().unwrap()).unwrap();
        assert_eq!(p.root(), file.as_path());
        assert_eq!(p.pattern(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn empty_and_nul_are_refused() {
        assert!(LocalPath::parse("").is_err());
        assert!(LocalPath::parse("a\0b").is_err());
    }
}
