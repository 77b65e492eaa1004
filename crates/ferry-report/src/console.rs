//! Where messages go, in text and JSON mode.

use std::io::{self, Write};

use crate::json::envelope;

/// `--output-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// AzCopy's JSON envelope, one message per line, all on standard output.
    Json,
}

/// `--output-level`: how much is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputLevel {
    /// Everything.
    #[default]
    Default,
    /// No progress and no informational notes; results, warnings and errors only.
    Essential,
    /// Nothing on standard output; errors still go to standard error.
    Quiet,
}

/// Prints messages for one command run.
#[derive(Debug, Clone, Copy)]
pub struct Console {
    format: OutputFormat,
    level: OutputLevel,
}

/// `text` with every control character but tab (C0 including newline, DEL, C1) shown as an
/// escape (`\x1B`, `\u{9B}`): for a name inside a line. Names come from containers other
/// people write to, and a raw ESC, CR, LF or BEL in one could rewrite what the terminal shows
/// (a fake "verified" line, the window title, the clipboard on terminals that honour OSC 52).
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    escape_except(text, '\t')
}

/// As [`escape_controls`], but newlines are kept: for whole messages, whose lines are Ferry's.
fn escape_except(text: &str, keep: char) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c != '\t' && c != keep && (c.is_ascii_control() || ('\u{80}'..='\u{9f}').contains(&c));
    if !text.contains(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if unsafe_char(c) && c.is_ascii() => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:X}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Writes a line (control characters escaped), treating a closed pipe as done rather than as an
/// error.
pub(crate) fn write_line(out: &mut impl Write, line: &str) -> io::Result<()> {
    match writeln!(out, "{}", escape_except(line, '\n')) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

impl Console {
    /// A console in `format` at the default level.
    pub fn new(format: OutputFormat) -> Self {
        Self { format, level: OutputLevel::Default }
    }

    /// The same console at `level`.
    #[must_use]
    pub fn with_level(self, level: OutputLevel) -> Self {
        Self { level, ..self }
    }

    /// The level in use.
    pub fn level(&self) -> OutputLevel {
        self.level
    }

    /// The format in use.
    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Data for standard output, printed as is in text mode and as an `Info` message in JSON.
    pub fn data(&self, text: &str) {
        if self.level == OutputLevel::Quiet {
            return;
        }
        let line = match self.format {
            OutputFormat::Text => text.to_owned(),
            OutputFormat::Json => envelope("Info", text),
        };
        let _ = write_line(&mut io::stdout().lock(), &line);
    }

    /// A line already in its final form (a JSON envelope), printed unless quiet.
    pub fn data_raw(&self, line: &str) {
        if self.level != OutputLevel::Quiet {
            let _ = write_line(&mut io::stdout().lock(), line);
        }
    }

    /// A part of a long line already in its final form (a JSON envelope written in pieces),
    /// printed unless quiet; the last part goes through [`Console::data_raw`], which ends the line.
    pub fn data_raw_part(&self, part: &str) {
        if self.level != OutputLevel::Quiet {
            // A closed pipe is done, as in `write_line`.
            let _ = io::stdout().lock().write_all(escape_except(part, '\n').as_bytes());
        }
    }

    /// An informational note: `INFO: …` on standard error (JSON: an `Info` message).
    pub fn info(&self, text: &str) {
        if self.level == OutputLevel::Default {
            self.note("INFO", text);
        }
    }

    /// A warning: `WARN: …` on standard error (JSON: an `Info` message, as AzCopy does).
    pub fn warn(&self, text: &str) {
        if self.level != OutputLevel::Quiet {
            self.note("WARN", text);
        }
    }

    fn note(&self, level: &str, text: &str) {
        match self.format {
            OutputFormat::Text => {
                let _ = write_line(&mut io::stderr().lock(), &format!("{level}: {text}"));
            }
            OutputFormat::Json => {
                let _ = write_line(&mut io::stdout().lock(), &envelope("Info", &format!("{level}: {text}")));
            }
        }
    }

    /// A fatal error: `error: …`, its causes, and a `hint:` line (JSON: one `Error` message).
    pub fn error(&self, message: &str, causes: &[String], hint: Option<&str>) {
        match self.format {
            OutputFormat::Text => {
                let mut err = io::stderr().lock();
                let _ = write_line(&mut err, &format!("error: {message}"));
                for cause in causes {
                    let _ = write_line(&mut err, &format!("  caused by: {cause}"));
                }
                if let Some(hint) = hint {
                    let _ = write_line(&mut err, &format!("hint: {hint}"));
                }
            }
            OutputFormat::Json => {
                let mut text = message.to_owned();
                for cause in causes {
                    text.push_str(&format!(": {cause}"));
                }
                if let Some(hint) = hint {
                    text.push_str(&format!(" (hint: {hint})"));
                }
                let _ = write_line(&mut io::stdout().lock(), &envelope("Error", &text));
            }
        }
    }

    /// A question for the user, on standard error, without a newline (the answer follows).
    pub fn ask(&self, question: &str) {
        let mut err = io::stderr().lock();
        let _ = write!(err, "\n{}", escape_except(question, '\n'));
        let _ = err.flush();
    }

    /// A command's final message (JSON: `EndOfJob`).
    pub fn end_of_job(&self, text: &str) {
        if self.level == OutputLevel::Quiet {
            return;
        }
        match self.format {
            OutputFormat::Text if text.is_empty() => {}
            OutputFormat::Text => {
                let _ = write_line(&mut io::stdout().lock(), text);
            }
            OutputFormat::Json => {
                let _ = write_line(&mut io::stdout().lock(), &envelope("EndOfJob", text));
            }
        }
    }
}

/// `ferry env`: one block per variable (name, value as it may be shown, description), in
/// AzCopy's format.
pub fn env_table(rows: &[(&str, String, &str)], console: &Console) {
    for (name, value, description) in rows {
        let block = format!("Name: {name}\nCurrent Value: {value}\nDescription: {description}\n");
        match console.format() {
            OutputFormat::Text => console.data(&format!("INFO: {block}")),
            OutputFormat::Json => console.data(&block),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding 12: names with ESC, CR and BEL were printed raw, so a blob name could rewrite the
    /// line on the terminal or set its title.
    #[test]
    fn control_characters_in_names_are_escaped() {
        let name = "innocent.txt\r\x1b[2K\x1b]0;PWNED\x07\x1b[31mALL OK\x1b[0m\u{9b}\x7f";
        let shown = escape_controls(name);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown}");
        assert_eq!(shown, "innocent.txt\\x0D\\x1B[2K\\x1B]0;PWNED\\x07\\x1B[31mALL OK\\x1B[0m\\u{9B}\\x7F");
        assert_eq!(escape_controls("tab\there é 😀"), "tab\there é 😀");
        assert_eq!(escape_controls("a\nb"), "a\\x0Ab");
        let mut out = Vec::new();
        write_line(&mut out, &format!("line one\n{name}")).unwrap();
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 2, "a message keeps its own lines");
        assert!(!out.contains(&0x1b) && !out.contains(&b'\r'));
    }
}
