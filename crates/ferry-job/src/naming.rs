//! Where each source object lands: AzCopy's path rules, decided in one place.
//!
//! The I/O (does the path exist, is it a directory) is done by the caller and summarised as
//! [`SourceShape`] and [`DestShape`]; [`decide`] is pure and tested by a table of cases.
//!
//! - A single object goes *into* a destination directory under its own name, or *to* a
//!   destination path that is not a directory.
//! - A directory (local folder, container, virtual directory) needs `--recursive`; with
//!   `--as-subdir` (the default) it lands in a subdirectory named after it.
//! - A trailing `/*` means the directory's contents, without the subdirectory; without
//!   `--recursive` only the objects directly in it.

use ferry_store::ListDepth;

use crate::JobError as CliError;

/// What the source named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SourceShape {
    /// One object: its key in the source store and its own name.
    Object { key: String, name: String },
    /// A directory: the key prefix of its contents (`""` or ending in `/`) and its name.
    Directory { prefix: String, name: String },
    /// The contents of a directory (`…/*`): the key prefix.
    Contents { prefix: String },
}

/// What the destination is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DestShape {
    /// The path inside the destination store (no leading or trailing `/`; may be empty).
    pub(crate) base: String,
    /// Whether the destination is (or will be) a directory rather than an object's name.
    pub(crate) is_directory: bool,
}

/// The decision: what to list and how to name each destination key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Naming {
    /// Copy one object.
    Single { source_key: String, dest_key: String },
    /// Copy everything listed under `source_prefix` at `depth`; a key `source_prefix + rest`
    /// lands at `dest_prefix + rest`.
    Tree { source_prefix: String, depth: ListDepth, dest_prefix: String },
}

fn join(base: &str, rest: &str) -> String {
    let base = base.trim_matches('/');
    match (base.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_owned(),
        (false, true) => format!("{base}/"),
        (false, false) => format!("{base}/{rest}"),
    }
}

/// Applies the path rules.
pub(crate) fn decide(
    source: &SourceShape,
    dest: &DestShape,
    recursive: bool,
    as_subdir: bool,
) -> Result<Naming, CliError> {
    match source {
        SourceShape::Object { key, name } => {
            let dest_key =
                if dest.is_directory || dest.base.is_empty() { join(&dest.base, name) } else { dest.base.clone() };
            Ok(Naming::Single { source_key: key.clone(), dest_key })
        }
        SourceShape::Directory { prefix, name } => {
            if !recursive {
                return Err(CliError::usage(format!("`{name}` is a directory; copying a directory needs --recursive"))
                    .with_hint(format!("add --recursive, or name `{name}/*` to copy only the files directly in it")));
            }
            let sub = if as_subdir && !name.is_empty() { format!("{name}/") } else { String::new() };
            Ok(Naming::Tree {
                source_prefix: prefix.clone(),
                depth: ListDepth::Recursive,
                dest_prefix: join(&dest.base, &sub),
            })
        }
        SourceShape::Contents { prefix } => Ok(Naming::Tree {
            source_prefix: prefix.clone(),
            depth: if recursive { ListDepth::Recursive } else { ListDepth::OneLevel },
            dest_prefix: join(&dest.base, ""),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: &str) -> SourceShape {
        SourceShape::Object { key: key.into(), name: key.rsplit('/').next().unwrap().into() }
    }
    fn dir(prefix: &str, name: &str) -> SourceShape {
        SourceShape::Directory { prefix: prefix.into(), name: name.into() }
    }
    fn contents(prefix: &str) -> SourceShape {
        SourceShape::Contents { prefix: prefix.into() }
    }
    fn into_dir(base: &str) -> DestShape {
        DestShape { base: base.into(), is_directory: true }
    }
    fn to_path(base: &str) -> DestShape {
        DestShape { base: base.into(), is_directory: false }
    }
    fn single(s: &str, d: &str) -> Naming {
        Naming::Single { source_key: s.into(), dest_key: d.into() }
    }
    fn tree(s: &str, depth: ListDepth, d: &str) -> Naming {
        Naming::Tree { source_prefix: s.into(), depth, dest_prefix: d.into() }
    }

    #[test]
    fn the_rules_by_case() {
        use ListDepth::{OneLevel, Recursive};
        let cases: Vec<(&str, SourceShape, DestShape, bool, bool, Naming)> = vec![
            ("file into a container root", object("a.txt"), into_dir(""), false, true, single("a.txt", "a.txt")),
            (
                "file into a virtual directory",
                object("a.txt"),
                into_dir("backup/2024"),
                false,
                true,
                single("a.txt", "backup/2024/a.txt"),
            ),
            (
                "file to a new name",
                object("a.txt"),
                to_path("renamed.txt"),
                false,
                true,
                single("a.txt", "renamed.txt"),
            ),
            (
                "blob from a virtual directory",
                object("d/e/f.bin"),
                into_dir(""),
                false,
                true,
                single("d/e/f.bin", "f.bin"),
            ),
            (
                "directory as a subdirectory",
                dir("", "photos"),
                into_dir(""),
                true,
                true,
                tree("", Recursive, "photos/"),
            ),
            (
                "directory under a path",
                dir("", "photos"),
                into_dir("x/y/"),
                true,
                true,
                tree("", Recursive, "x/y/photos/"),
            ),
            ("directory without as-subdir", dir("", "photos"), into_dir("x"), true, false, tree("", Recursive, "x/")),
            ("virtual directory", dir("2024/", "2024"), into_dir(""), true, true, tree("2024/", Recursive, "2024/")),
            ("container as a directory", dir("", "box"), into_dir(""), true, true, tree("", Recursive, "box/")),
            ("contents, recursive", contents("2024/"), into_dir("dst"), true, true, tree("2024/", Recursive, "dst/")),
            ("contents, top level only", contents(""), into_dir(""), false, true, tree("", OneLevel, "")),
        ];
        for (what, source, dest, recursive, as_subdir, expected) in cases {
            assert_eq!(decide(&source, &dest, recursive, as_subdir).unwrap(), expected, "{what}");
        }
    }

    #[test]
    fn a_directory_without_recursive_is_a_usage_error_with_a_hint() {
        let err = decide(&dir("", "photos"), &into_dir(""), false, true).unwrap_err();
        assert_eq!(err.class(), crate::ErrorClass::Usage);
        assert!(err.message().contains("--recursive"));
        assert!(err.hint().unwrap().contains("photos/*"));
    }
}
