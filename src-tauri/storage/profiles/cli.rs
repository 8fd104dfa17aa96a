//! `pulseboard profile …`: manage connection profiles from the command line.

use std::io::Read;
use std::path::PathBuf;

use super::{config_dir, Password, Profile, ProfileError, ProfileView, Profiles, Sensitive};
use crate::storage::store::StoreError;

/// Why a `pulseboard profile` command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileCliError {
    #[error("{}", describe(.0))]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The password could not be read (no terminal, an empty standard input).
    #[error("{0}")]
    Password(String),
}

#[derive(Debug, clap::Subcommand)]
pub enum ProfileCommand {
    /// Add a ClickHouse server profile, or replace the one with this name. Asks for the password
    /// on the terminal; it goes to the OS keychain, never to a file.
    Add {
        /// Profile name: 1 to 64 characters of A-Z a-z 0-9 _ . -
        name: String,
        /// The server's HTTP(S) interface, e.g. https://clickhouse.example.com:8443
        #[arg(long)]
        url: String,
        /// ClickHouse user
        #[arg(long, default_value = "default")]
        user: String,
        /// Database that holds Pulseboard's tables
        #[arg(long, default_value = "pulseboard")]
        database: String,
        /// Read the password from standard input instead of asking on the terminal
        #[arg(long, conflicts_with = "no_password")]
        password_stdin: bool,
        /// The user has no password: nothing goes to the keychain (a stored one is deleted)
        #[arg(long)]
        no_password: bool,
    },
    /// List the profiles; `*` marks the active one.
    List,
    /// Remove a profile and its keychain password (if it was active, `embedded` becomes active).
    Remove {
        /// The profile to remove
        name: String,
    },
    /// Make a profile the active one (`embedded` for the built-in store).
    Use {
        /// The profile to use
        name: String,
    },
    /// Check that a profile's server answers and accepts its credentials.
    Test {
        /// The profile to test [default: the active one]
        name: Option<String>,
    },
}

/// Runs one `pulseboard profile` command against the profiles in `config_dir` (default: see
/// [`config_dir`]).
pub async fn run(cmd: ProfileCommand, config_dir: Option<PathBuf>) -> Result<(), ProfileCliError> {
    match cmd {
        ProfileCommand::Add {
            name,
            url,
            user,
            database,
            password_stdin,
            no_password,
        } => {
            let profile = Profile {
                name,
                url,
                user,
                database,
            };
            let source = match (password_stdin, no_password) {
                (_, true) => PasswordSource::NoPassword,
                (true, false) => PasswordSource::Stdin,
                (false, false) => PasswordSource::Prompt,
            };
            blocking(move || add(profile, source, config_dir)).await
        }
        ProfileCommand::List => blocking(move || list(config_dir)).await,
        ProfileCommand::Remove { name } => blocking(move || remove(&name, config_dir)).await,
        ProfileCommand::Use { name } => blocking(move || use_profile(&name, config_dir)).await,
        ProfileCommand::Test { name } => test(name, config_dir).await,
    }
}

/// Keychain calls (D-Bus round trips) and the password prompt block: keep them off the async
/// workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ProfileCliError> + Send + 'static,
) -> Result<T, ProfileCliError> {
    tokio::task::spawn_blocking(work)
        .await
        .expect("a profile command panicked")
}

fn open(config_dir_arg: Option<PathBuf>) -> Result<Profiles, ProfileCliError> {
    Ok(Profiles::load(config_dir(config_dir_arg)?)?)
}

/// The error's stable message, plus what the keychain itself said: the message says what to do,
/// the cause tells an expert which part of D-Bus or the Secret Service failed.
fn describe(error: &ProfileError) -> String {
    let cause = match error {
        ProfileError::Keychain(keychain) => std::error::Error::source(keychain),
        _ => None,
    };
    match cause {
        Some(cause) => format!("{error}\n  cause: {cause}"),
        None => error.to_string(),
    }
}

enum PasswordSource {
    Prompt,
    Stdin,
    NoPassword,
}

fn add(
    profile: Profile,
    source: PasswordSource,
    dir: Option<PathBuf>,
) -> Result<(), ProfileCliError> {
    let mut profiles = open(dir)?;
    // Checked before asking, so that a typo in the URL does not cost a password prompt.
    profile.validate()?;
    let password = read_password(&profile, source)?;
    let stored_where = match password {
        Password::Set(_) => "password in the OS keychain",
        Password::Keep => "password unchanged",
        Password::Clear => "no password",
    };
    let name = profile.name.clone();
    profiles.add(profile, password)?;
    println!(
        "saved profile {name} ({stored_where}) in {}",
        profiles.path().display()
    );
    if profiles.active_name() != name {
        println!("  use it: pulseboard profile use {name}");
    }
    Ok(())
}

fn read_password(profile: &Profile, source: PasswordSource) -> Result<Password, ProfileCliError> {
    match source {
        PasswordSource::NoPassword => Ok(Password::Clear),
        PasswordSource::Stdin => password_from_stdin().map(Password::Set),
        PasswordSource::Prompt => prompt_password(profile),
    }
}

fn password_from_stdin() -> Result<Sensitive<String>, ProfileCliError> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|error| {
            ProfileCliError::Password(format!(
                "cannot read the password from standard input: {error}"
            ))
        })?;
    let password = strip_line_end(&input);
    // Most likely an unset variable in `echo "$PASSWORD" | …`, not a deliberate empty password.
    if password.is_empty() {
        return Err(ProfileCliError::Password(
            "standard input held an empty password; use --no-password for a user without one"
                .into(),
        ));
    }
    Ok(Sensitive::from(password.to_string()))
}

/// `echo` and here-strings add one line end that is not part of the password.
fn strip_line_end(input: &str) -> &str {
    let input = input.strip_suffix('\n').unwrap_or(input);
    input.strip_suffix('\r').unwrap_or(input)
}

/// An empty answer keeps the stored password (the window's rule too, see [`Password`]).
fn prompt_password(profile: &Profile) -> Result<Password, ProfileCliError> {
    let prompt = format!(
        "Password for {} on {} (empty keeps the stored one; --no-password for none): ",
        profile.user, profile.url
    );
    let password = rpassword::prompt_password(prompt).map_err(|error| {
        ProfileCliError::Password(format!(
            "cannot ask for the password on a terminal ({error}); \
             pipe it in with --password-stdin, or use --no-password"
        ))
    })?;
    Ok(Password::from_field(password))
}

fn list(dir: Option<PathBuf>) -> Result<(), ProfileCliError> {
    print!("{}", table(&open(dir)?.list()));
    Ok(())
}

fn table(rows: &[ProfileView]) -> String {
    let header = ["", "NAME", "URL", "USER", "DATABASE", "PASSWORD"].map(String::from);
    let cells: Vec<[String; 6]> = std::iter::once(header)
        .chain(rows.iter().map(row_cells))
        .collect();
    let widths: Vec<usize> = (0..6)
        .map(|col| {
            cells
                .iter()
                .map(|row| row[col].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &cells {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &width)| format!("{cell:width$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn row_cells(view: &ProfileView) -> [String; 6] {
    let or_dash = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".into());
    [
        if view.active { "*" } else { "" }.into(),
        view.name.clone(),
        view.url
            .clone()
            .unwrap_or_else(|| "(built-in: embedded ClickHouse on this machine)".into()),
        or_dash(&view.user),
        or_dash(&view.database),
        if view.has_password { "keychain" } else { "-" }.into(),
    ]
}

fn remove(name: &str, dir: Option<PathBuf>) -> Result<(), ProfileCliError> {
    let mut profiles = open(dir)?;
    let was_active = profiles.active_name() == name;
    profiles.remove(name)?;
    println!("removed profile {name}");
    if was_active {
        println!("the active profile is now {}", super::EMBEDDED);
    }
    Ok(())
}

fn use_profile(name: &str, dir: Option<PathBuf>) -> Result<(), ProfileCliError> {
    let mut profiles = open(dir)?;
    profiles.set_active(name)?;
    println!("active profile: {name}");
    Ok(())
}

async fn test(name: Option<String>, dir: Option<PathBuf>) -> Result<(), ProfileCliError> {
    // Resolving the store reports an unknown profile or an unreachable keychain already.
    let (name, store) = blocking(move || {
        let profiles = open(dir)?;
        let name = name.unwrap_or_else(|| profiles.active_name().to_string());
        let store = profiles.store_for(&name)?;
        Ok((name, store))
    })
    .await?;
    println!(
        "{}",
        super::test_connection(&name, &store, super::TEST_TIMEOUT).await?
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_end_is_not_part_of_the_password() {
        assert_eq!(strip_line_end("s3cret\n"), "s3cret");
        assert_eq!(strip_line_end("s3cret\r\n"), "s3cret");
        assert_eq!(strip_line_end("s3cret"), "s3cret");
        assert_eq!(strip_line_end("s3cret \n\n"), "s3cret \n");
    }

    #[test]
    fn the_table_marks_the_active_profile_and_passwords_in_the_keychain() {
        let rows = [
            ProfileView {
                name: "embedded".into(),
                url: None,
                user: None,
                database: None,
                active: false,
                has_password: false,
            },
            ProfileView {
                name: "prod".into(),
                url: Some("https://ch.example.com:8443".into()),
                user: Some("default".into()),
                database: Some("pulseboard".into()),
                active: true,
                has_password: true,
            },
        ];
        let table = table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(
            lines[0].contains("NAME") && lines[0].contains("DATABASE"),
            "{table}"
        );
        assert!(lines[1].starts_with("   embedded"), "{table}");
        assert!(lines[2].starts_with("*  prod"), "{table}");
        assert!(lines[2].contains("https://ch.example.com:8443"), "{table}");
        assert!(lines[2].ends_with("keychain"), "{table}");
    }
}
