//! `pulseboard engine install | status`: the engine's library from a terminal.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::{InstallError, Installer, Progress, Status};
use crate::storage::store::{chdb, StoreError};

/// Why a `pulseboard engine` command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineCliError {
    #[error(transparent)]
    Install(#[from] InstallError),
    /// `status` found no library the app could load.
    #[error(transparent)]
    Missing(#[from] StoreError),
}

#[derive(Debug, clap::Subcommand)]
pub enum EngineCommand {
    /// Download the embedded ClickHouse engine (libchdb, ~170 MB) from the npm registry, check
    /// it against the SHA-512 pinned in Pulseboard, and install it into the user's cache.
    /// An interrupted download resumes. The registry is PULSEBOARD_NPM_REGISTRY (else npm's
    /// npm_config_registry, else https://registry.npmjs.org); proxies from HTTPS_PROXY.
    Install,
    /// Say which libchdb the app uses, what is installed where, and what a download would fetch.
    Status,
}

pub async fn run(command: EngineCommand) -> Result<(), EngineCliError> {
    let installer = Installer::from_env()?;
    match command {
        EngineCommand::Install => install(&installer).await,
        EngineCommand::Status => status(&installer.status()),
    }
}

async fn install(installer: &Installer) -> Result<(), EngineCliError> {
    let status = installer.status();
    if status.installed {
        println!(
            "libchdb {} is installed: {}",
            status.version,
            status.install_path.display()
        );
        return Ok(());
    }
    eprintln!(
        "fetching libchdb {} (~{} MB) from {}",
        status.version,
        super::DOWNLOAD_MB,
        status.url
    );
    let mut line = ProgressLine::new(std::io::stderr().is_terminal());
    // Nobody cancels from here: Ctrl-C ends the process and the next run resumes.
    let (_keep, cancel) = tokio::sync::watch::channel(false);
    let path = installer.install(|p| line.show(p), cancel).await;
    line.finish();
    let path = path?;
    println!("libchdb {} installed: {}", status.version, path.display());
    Ok(())
}

fn status(status: &Status) -> Result<(), EngineCliError> {
    println!(
        "engine:    chDB {} (npm {}@{})",
        status.version, status.package, status.version
    );
    let install_path = status.install_path.display();
    if status.installed {
        println!("installed: {install_path}");
    } else {
        println!("installed: no (`pulseboard engine install` puts it at {install_path})");
    }
    println!("download:  {}", status.url);
    if let Some(bytes) = status.partial_bytes {
        println!(
            "partial:   {} of an interrupted download, resumed by the next install",
            mb(bytes)
        );
    }
    let used = chdb::find_library()?;
    let size = std::fs::metadata(&used).map_or(0, |m| m.len());
    println!("in use:    {} ({})", used.display(), mb(size));
    Ok(())
}

/// One line on a terminal, rewritten in place; elsewhere (a log, CI) a line every few seconds.
struct ProgressLine {
    terminal: bool,
    started: Instant,
    last: Option<Instant>,
    /// Bytes already there when this run started (a resume): not counted in the speed.
    resumed: Option<u64>,
}

/// How often a non-terminal gets a line.
const LOG_EVERY: Duration = Duration::from_secs(5);

impl ProgressLine {
    fn new(terminal: bool) -> Self {
        Self {
            terminal,
            started: Instant::now(),
            last: None,
            resumed: None,
        }
    }

    fn show(&mut self, progress: Progress) {
        let due = self.last.is_none_or(|t| t.elapsed() >= LOG_EVERY);
        let downloading = match progress {
            Progress::Downloading { done, total } => total != Some(done),
            _ => false,
        };
        if !self.terminal && !due && downloading {
            return;
        }
        self.last = Some(Instant::now());
        let text = self.describe(progress);
        let mut err = std::io::stderr().lock();
        let _ = if self.terminal {
            write!(err, "\r\x1b[2K{text}")
        } else {
            writeln!(err, "{text}")
        };
        let _ = err.flush();
    }

    fn describe(&mut self, progress: Progress) -> String {
        match progress {
            Progress::Downloading { done, total } => {
                let resumed = *self.resumed.get_or_insert(done);
                let secs = self.started.elapsed().as_secs_f64().max(0.001);
                let speed = (done - resumed) as f64 / secs;
                let of = match total {
                    Some(total) if total > 0 => {
                        format!("{} of {} ({} %)", mb(done), mb(total), done * 100 / total)
                    }
                    _ => mb(done),
                };
                format!("downloading {of}, {}/s", mb(speed as u64))
            }
            Progress::Verifying => "checking the SHA-512".into(),
            Progress::Unpacking => "unpacking libchdb.so".into(),
        }
    }

    fn finish(&self) {
        if self.terminal && self.last.is_some() {
            eprintln!();
        }
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
