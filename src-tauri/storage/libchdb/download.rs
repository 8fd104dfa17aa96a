//! One file over HTTP into a `.part` file that survives interruptions: a cut connection is
//! resumed where it stopped (HTTP `Range`), or started over when the server cannot resume.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_RANGE, RANGE};
use reqwest::StatusCode;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use super::{InstallError, Progress};

/// A registry that does not accept the connection within this is taken as unreachable.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Progress is reported this often, whether bytes arrive or not (the target is once a second).
const TICK: Duration = Duration::from_millis(500);
/// A body that brings nothing for this long counts as cut, and is resumed.
const STALL: Duration = Duration::from_secs(30);
/// Resumes in a row that bring no new byte before the download gives up.
const MAX_FRUITLESS_RESUMES: u32 = 3;

/// Where a download comes from and goes to.
pub(super) struct Source<'a> {
    pub client: &'a reqwest::Client,
    pub url: &'a str,
    /// Grows as bytes arrive; kept when the download stops early.
    pub part: &'a Path,
    /// The part is renamed to this once complete.
    pub save_as: &'a Path,
}

impl Source<'_> {
    /// Downloads the whole file to `save_as`, resuming after cut connections by itself.
    pub async fn fetch(
        &self,
        progress: &mut (impl FnMut(Progress) + Send),
        mut cancel: watch::Receiver<bool>,
    ) -> Result<(), InstallError> {
        if let Some(dir) = self.part.parent() {
            std::fs::create_dir_all(dir).map_err(InstallError::io(dir))?;
        }
        let mut fruitless = 0;
        loop {
            let before = part_len(self.part).await;
            match self.attempt(progress, &mut cancel).await {
                Ok(()) => break,
                Err(error @ InstallError::Interrupted { .. }) => {
                    fruitless = if part_len(self.part).await > before {
                        0
                    } else {
                        fruitless + 1
                    };
                    if fruitless >= MAX_FRUITLESS_RESUMES {
                        return Err(error);
                    }
                    tracing::warn!(%error, "download interrupted; resuming");
                    tokio::time::sleep(Duration::from_millis(250 * u64::from(fruitless))).await;
                }
                Err(error) => return Err(error),
            }
        }
        tokio::fs::rename(self.part, self.save_as)
            .await
            .map_err(InstallError::io(self.save_as))
    }

    /// One request: from where the part ends to the end of the file.
    async fn attempt(
        &self,
        progress: &mut (impl FnMut(Progress) + Send),
        cancel: &mut watch::Receiver<bool>,
    ) -> Result<(), InstallError> {
        let offset = part_len(self.part).await;
        let mut request = self.client.get(self.url);
        if offset > 0 {
            request = request.header(RANGE, format!("bytes={offset}-"));
        }
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        let (file, done, total) = self.open_part(&response, offset).await?;
        let mut body = Body {
            response,
            file,
            done,
            total,
        };
        let result = body.copy(progress, cancel).await;
        // What arrived stays on disk whatever happened, for the next attempt to resume from.
        body.file
            .sync_all()
            .await
            .map_err(InstallError::io(self.part))?;
        match result {
            Err(BodyError::Write(e)) => Err(InstallError::io(self.part)(e)),
            Err(BodyError::Cancelled) => Err(InstallError::Cancelled {
                part: self.part.to_owned(),
            }),
            Err(BodyError::Cut(reason)) => Err(self.interrupted(reason)),
            Ok(()) => match body.total {
                Some(total) if body.done != total => Err(self.interrupted(format!(
                    "the body ended after {} of {total} bytes",
                    body.done
                ))),
                _ => Ok(()),
            },
        }
    }

    /// Opens the part for what the response brings: appended after a resume (206), from
    /// scratch when the server sends the whole file (200). Returns it with the bytes already
    /// there and the file's full size when known.
    async fn open_part(
        &self,
        response: &reqwest::Response,
        offset: u64,
    ) -> Result<(tokio::fs::File, u64, Option<u64>), InstallError> {
        let mut options = tokio::fs::OpenOptions::new();
        let (done, total) = match response.status() {
            StatusCode::PARTIAL_CONTENT => {
                let Some(total) = resumed_total(response, offset) else {
                    self.start_over().await?;
                    return Err(self.interrupted(
                        "the server resumed at another place than asked; starting over".into(),
                    ));
                };
                options.append(true);
                (offset, total)
            }
            StatusCode::OK => {
                options.write(true).truncate(true);
                (0, response.content_length())
            }
            // The part is as long as the file or longer: it cannot be trusted.
            StatusCode::RANGE_NOT_SATISFIABLE => {
                self.start_over().await?;
                return Err(self.interrupted(
                    "the partial download does not fit the file on the server; starting over"
                        .into(),
                ));
            }
            status => {
                return Err(InstallError::Refused {
                    url: self.url.into(),
                    save_as: self.save_as.to_owned(),
                    status: status.as_u16(),
                })
            }
        };
        let file = options
            .create(true)
            .open(self.part)
            .await
            .map_err(InstallError::io(self.part))?;
        Ok((file, done, total))
    }

    async fn start_over(&self) -> Result<(), InstallError> {
        match tokio::fs::remove_file(self.part).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(InstallError::io(self.part)(e))
            }
            _ => Ok(()),
        }
    }

    fn unreachable(&self, error: &reqwest::Error) -> InstallError {
        InstallError::Unreachable {
            url: self.url.into(),
            save_as: self.save_as.to_owned(),
            reason: chain(error),
        }
    }

    fn interrupted(&self, reason: String) -> InstallError {
        InstallError::Interrupted {
            url: self.url.into(),
            reason,
        }
    }
}

/// A response body on its way into the part file.
struct Body {
    response: reqwest::Response,
    file: tokio::fs::File,
    done: u64,
    total: Option<u64>,
}

enum BodyError {
    Cut(String),
    Write(std::io::Error),
    Cancelled,
}

impl Body {
    /// Copies the body into the file, reporting every [`TICK`] until it ends, stalls for
    /// [`STALL`], breaks or is cancelled.
    async fn copy(
        &mut self,
        progress: &mut (impl FnMut(Progress) + Send),
        cancel: &mut watch::Receiver<bool>,
    ) -> Result<(), BodyError> {
        let mut last_byte = Instant::now();
        let mut last_report = Instant::now();
        self.report(progress);
        loop {
            let next = tokio::select! {
                // Until the next report is due, so reports come every TICK however bytes come.
                next = tokio::time::timeout_at(
                    (last_report + TICK).into(),
                    self.response.chunk(),
                ) => next,
                () = cancelled(cancel) => return Err(BodyError::Cancelled),
            };
            match next {
                Ok(Ok(Some(bytes))) => {
                    self.file
                        .write_all(&bytes)
                        .await
                        .map_err(BodyError::Write)?;
                    self.done += bytes.len() as u64;
                    last_byte = Instant::now();
                }
                Ok(Ok(None)) => break,
                Ok(Err(error)) => return Err(BodyError::Cut(chain(&error))),
                Err(_tick) if last_byte.elapsed() >= STALL => {
                    return Err(BodyError::Cut(format!("no data for {} s", STALL.as_secs())))
                }
                Err(_tick) => {}
            }
            if last_report.elapsed() >= TICK {
                self.report(progress);
                last_report = Instant::now();
            }
        }
        self.file.flush().await.map_err(BodyError::Write)?;
        self.report(progress);
        Ok(())
    }

    fn report(&self, progress: &mut impl FnMut(Progress)) {
        progress(Progress::Downloading {
            done: self.done,
            total: self.total,
        });
    }
}

/// Resolves once `cancel` turns true; never, if nobody can cancel any more.
async fn cancelled(cancel: &mut watch::Receiver<bool>) {
    if cancel.wait_for(|&c| c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The full size from a 206's `Content-Range: bytes <offset>-<end>/<total>`, when the range
/// starts where the part ends (else `None`: appending would corrupt the file). An unknown
/// total (`*`) is `Some(None)`.
fn resumed_total(response: &reqwest::Response, offset: u64) -> Option<Option<u64>> {
    let value = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    parse_content_range(value, offset)
}

fn parse_content_range(value: &str, offset: u64) -> Option<Option<u64>> {
    let (range, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    let start: u64 = range.split_once('-')?.0.parse().ok()?;
    if start != offset {
        return None;
    }
    Some(total.parse().ok())
}

async fn part_len(part: &Path) -> u64 {
    tokio::fs::metadata(part).await.map_or(0, |m| m.len())
}

/// reqwest's message plus its causes ("error sending request" alone says nothing).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::parse_content_range;

    #[test]
    fn a_resume_must_start_where_the_part_ends() {
        assert_eq!(
            parse_content_range("bytes 100-999/1000", 100),
            Some(Some(1000))
        );
        assert_eq!(parse_content_range("bytes 100-999/*", 100), Some(None));
        assert_eq!(parse_content_range("bytes 0-999/1000", 100), None);
        assert_eq!(parse_content_range("items 100-999/1000", 100), None);
    }
}
