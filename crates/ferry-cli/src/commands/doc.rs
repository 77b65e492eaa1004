//! `ferry completion` and `ferry doc`: shell completions, Markdown pages and man pages, all
//! generated from the one clap definition, under the name Ferry was invoked as.

use std::io::Write as _;
use std::path::Path;

use clap::CommandFactory as _;

use super::Ctx;
use crate::CliError;
use crate::args::{Cli, CompletionCommand, DocArgs, DocFormat};

/// The command-line definition as `--help` shows it under this process's name.
fn definition() -> clap::Command {
    let name = crate::version::invoked_name();
    let mut command = Cli::command().name(name.clone()).bin_name(name.clone());
    command.build();
    command
}

/// Drops every about and help text (for `--no-descriptions`).
fn without_descriptions(command: clap::Command) -> clap::Command {
    command
        .about(None::<&str>)
        .long_about(None::<&str>)
        .mut_args(|arg| arg.help(None::<&str>).long_help(None::<&str>))
        .mut_subcommands(without_descriptions)
}

/// Prints the completion script for the shell asked for.
pub(super) fn completion(command: &CompletionCommand, ctx: &Ctx<'_>) -> Result<(), CliError> {
    use clap_complete::Shell;
    let (shell, args) = match command {
        CompletionCommand::Bash(a) => (Shell::Bash, a),
        CompletionCommand::Zsh(a) => (Shell::Zsh, a),
        CompletionCommand::Fish(a) => (Shell::Fish, a),
        CompletionCommand::Powershell(a) => (Shell::PowerShell, a),
    };
    let mut definition = definition();
    if args.no_descriptions {
        definition = without_descriptions(definition);
    }
    let name = definition.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut definition, name, &mut script);
    ctx.console.data_raw(String::from_utf8_lossy(&script).trim_end());
    Ok(())
}

/// Writes a page for every command (and subcommand) into the output folder.
pub(super) fn doc(args: &DocArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let dir = &args.output_location;
    std::fs::create_dir_all(dir).map_err(|e| CliError::failed(format!("cannot create `{}`: {e}", dir.display())))?;
    let definition = definition();
    let mut written = 0usize;
    write_pages(&definition, &[], args.format, dir, &mut written)?;
    ctx.console.end_of_job(&format!("Wrote {written} pages to {}", dir.display()));
    Ok(())
}

fn write_pages(
    command: &clap::Command,
    parents: &[&str],
    format: DocFormat,
    dir: &Path,
    written: &mut usize,
) -> Result<(), CliError> {
    if command.is_hide_set() || command.get_name() == "help" {
        return Ok(());
    }
    let mut path: Vec<&str> = parents.to_vec();
    path.push(command.get_name());
    let (file, text) = match format {
        DocFormat::Man => (format!("{}.1", path.join("-")), man_page(command, &path)?),
        DocFormat::Default | DocFormat::Wiki => (format!("{}.md", path.join("_")), markdown(command, &path, format)),
    };
    let target = dir.join(&file);
    std::fs::File::create(&target)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| CliError::failed(format!("cannot write `{}`: {e}", target.display())))?;
    *written += 1;
    for sub in command.get_subcommands() {
        write_pages(sub, &path, format, dir, written)?;
    }
    Ok(())
}

fn man_page(command: &clap::Command, path: &[&str]) -> Result<String, CliError> {
    let mut page = Vec::new();
    let named = command.clone().name(path.join("-")).bin_name(path.join(" "));
    clap_mangen::Man::new(named)
        .render(&mut page)
        .map_err(|e| CliError::failed(format!("cannot render the man page of `{}`: {e}", path.join(" "))))?;
    Ok(String::from_utf8_lossy(&page).into_owned())
}

/// One command's page: what it does, its usage, its options (as `--help` shows them, or as a
/// table), its examples, and links to its subcommands' pages.
fn markdown(command: &clap::Command, path: &[&str], format: DocFormat) -> String {
    let mut page = format!("## {}\n\n", path.join(" "));
    if let Some(about) = command.get_long_about().or(command.get_about()) {
        page.push_str(&format!("{about}\n\n"));
    }
    let usage = command.clone().bin_name(path.join(" ")).render_usage().to_string();
    page.push_str(&format!("### Synopsis\n\n```\n{}\n```\n\n", usage.trim_start_matches("Usage: ")));
    let options: Vec<&clap::Arg> =
        command.get_arguments().filter(|a| !a.is_hide_set() && a.get_long().is_some()).collect();
    if !options.is_empty() {
        page.push_str("### Options\n\n");
        match format {
            DocFormat::Wiki => {
                page.push_str("| Option | Description |\n|---|---|\n");
                for arg in &options {
                    let help = arg.get_help().map(ToString::to_string).unwrap_or_default().replace('|', "\\|");
                    page.push_str(&format!("| `--{}` | {} |\n", arg.get_long().unwrap_or_default(), help));
                }
                page.push('\n');
            }
            _ => {
                page.push_str("```\n");
                for arg in &options {
                    let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                    page.push_str(&format!("      --{:<32} {help}\n", arg.get_long().unwrap_or_default()));
                }
                page.push_str("```\n\n");
            }
        }
    }
    if let Some(examples) = command.get_after_help() {
        page.push_str(&format!(
            "### Examples\n\n```\n{}\n```\n\n",
            examples.to_string().trim_start_matches("Examples:\n")
        ));
    }
    let subcommands: Vec<&clap::Command> =
        command.get_subcommands().filter(|c| !c.is_hide_set() && c.get_name() != "help").collect();
    if !subcommands.is_empty() {
        page.push_str("### See also\n\n");
        for sub in subcommands {
            let file = format!("{}_{}.md", path.join("_"), sub.get_name());
            let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
            page.push_str(&format!("* [{} {}]({file}) - {about}\n", path.join(" "), sub.get_name()));
        }
    }
    page
}
