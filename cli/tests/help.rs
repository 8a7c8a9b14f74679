//! `gridbook help` as a newcomer reads it: every command says what it does and every argument what
//! it means.

use clap::CommandFactory;
use gridbook_cli::Cli;

fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
    for arg in command.get_arguments() {
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        if help.trim().is_empty() {
            missing.push(format!("{path} {}: argument without help", arg.get_id()));
        }
    }
    for sub in command.get_subcommands() {
        let path = format!("{path} {}", sub.get_name());
        let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
        if about.trim().is_empty() {
            missing.push(format!("{path}: command without a description"));
        }
        walk(sub, &path, missing);
    }
}

#[test]
fn every_command_says_what_it_does_and_every_argument_what_it_means() {
    let cli = Cli::command();
    cli.clone().debug_assert();
    let mut missing = Vec::new();
    walk(&cli, "gridbook", &mut missing);
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_walk_reaches_nested_commands() {
    // A walk that missed the nesting would pass for the wrong reason.
    let cli = Cli::command();
    let event = cli.find_subcommand("event").expect("event");
    assert!(event.find_subcommand("report").is_some());
    assert!(event.find_subcommand("report").and_then(|r| r.get_about()).is_some());
}
