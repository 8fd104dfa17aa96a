//! The engine installer (`pulseboard::storage::libchdb`) against a registry on 127.0.0.1 that this file
//! runs: a small fake package (a real gzipped npm-style tarball, its SHA-512 pinned by the
//! test), served whole, cut off mid-body, trickled, refused or not at all.
//!
//! Needs nothing but the loopback. The real package's pinned digest is checked against the real
//! registry by `pulseboard engine install` itself (scripts/setup.sh), not here.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use pulseboard::storage::libchdb::{InstallError, Installer, Package, Progress};
use sha2::{Digest, Sha512};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const TARBALL_PATH: &str = "/@pulseboard-test/lib-fake/-/lib-fake-1.0.0.tgz";

/// The fake library: 300 kB that gzip cannot shrink, so the body comes in many pieces.
fn library() -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(7);
    (0..300_000).map(|_| rng.u8(..)).collect()
}

/// An npm tarball: `package/package.json` and `package/libchdb.so` holding `library`.
fn tarball(library: &[u8]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (path, data) in [
        (
            "package/package.json",
            &br#"{"name":"@pulseboard-test/lib-fake"}"#[..],
        ),
        ("package/libchdb.so", library),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, path, data).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

fn integrity(bytes: &[u8]) -> String {
    let digest = Sha512::digest(bytes);
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn package(pinned: &[u8]) -> Package {
    Package {
        name: "@pulseboard-test/lib-fake".into(),
        version: "1.0.0".into(),
        integrity: integrity(pinned),
        member: "package/libchdb.so".into(),
    }
}

/// What the test registry does with each request.
#[derive(Clone, Copy)]
enum Behaviour {
    /// The file, honouring `Range` (206).
    Serve,
    /// The first request gets the whole file's headers and this many bytes, then the
    /// connection closes; later requests are served.
    CutFirstAfter(usize),
    /// `Range` ignored: always the whole file (200).
    IgnoreRange,
    /// The whole file in `pieces` pieces, `gap` apart.
    Trickle { pieces: usize, gap: Duration },
    /// 404 for everything.
    NotFound,
}

/// Each request the registry saw: its path and its `Range` header.
type Requests = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A registry on 127.0.0.1 serving one file; it records each request's path and `Range`.
struct Registry {
    url: url::Url,
    requests: Requests,
}

impl Registry {
    async fn start(file: Vec<u8>, behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let file = Arc::new(file);
        tokio::spawn(async move {
            for nth in 0.. {
                let (socket, _) = listener.accept().await.unwrap();
                tokio::spawn(respond(socket, file.clone(), behaviour, nth, log.clone()));
            }
        });
        Self {
            url: url.parse().unwrap(),
            requests,
        }
    }

    fn requests(&self) -> Vec<(String, Option<String>)> {
        self.requests.lock().unwrap().clone()
    }
}

async fn respond(
    mut socket: TcpStream,
    file: Arc<Vec<u8>>,
    behaviour: Behaviour,
    nth: usize,
    log: Requests,
) {
    let (path, range) = read_request(&mut socket).await;
    log.lock().unwrap().push((path, range.clone()));
    let from = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .map(|start| start.parse::<usize>().unwrap());
    let len = file.len();
    let whole = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n");
    let (head, body): (String, &[u8]) = match (behaviour, from) {
        (Behaviour::NotFound, _) => (
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
            &[],
        ),
        (Behaviour::CutFirstAfter(cut), _) if nth == 0 => (whole, &file[..cut]),
        (Behaviour::Serve | Behaviour::CutFirstAfter(_), Some(start)) => (
            format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\n\
                 Content-Range: bytes {start}-{}/{len}\r\nConnection: close\r\n\r\n",
                len - start,
                len - 1
            ),
            &file[start..],
        ),
        (Behaviour::Trickle { pieces, gap }, _) => {
            socket.write_all(whole.as_bytes()).await.unwrap();
            for piece in file.chunks(len.div_ceil(pieces)) {
                tokio::time::sleep(gap).await;
                if socket.write_all(piece).await.is_err() {
                    return; // the client cancelled
                }
            }
            return;
        }
        _ => (whole, &file[..]),
    };
    socket.write_all(head.as_bytes()).await.unwrap();
    let _ = socket.write_all(body).await;
    // Dropping the socket closes the connection: after a cut, mid-body.
}

/// The request line's path and the `Range` header, if any.
async fn read_request(socket: &mut TcpStream) -> (String, Option<String>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        socket.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let path = head.split(' ').nth(1).unwrap().to_string();
    let range = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("range")
            .then(|| value.trim().to_string())
    });
    (path, range)
}

/// An installer for the fake package pinned to `pinned`, into a fresh cache folder.
fn installer(registry: &url::Url, pinned: &[u8]) -> (Installer, tempfile::TempDir) {
    let cache = tempfile::tempdir().unwrap();
    let installer =
        Installer::new(package(pinned), registry.clone(), cache.path().to_owned()).unwrap();
    (installer, cache)
}

/// Every file under `dir`, relative to it, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

/// Installs, recording every progress report with its time.
async fn install(
    installer: &Installer,
) -> (Result<PathBuf, InstallError>, Vec<(Instant, Progress)>) {
    let mut reports = Vec::new();
    let (_keep, cancel) = watch::channel(false);
    let result = installer
        .install(|p| reports.push((Instant::now(), p)), cancel)
        .await;
    (result, reports)
}

#[tokio::test]
async fn a_good_tarball_installs_with_progress_from_start_to_end() {
    let (library, tarball) = (library(), tarball(&library()));
    let registry = Registry::start(tarball.clone(), Behaviour::Serve).await;
    let (installer, cache) = installer(&registry.url, &tarball);

    let (result, reports) = install(&installer).await;

    let installed = result.unwrap();
    assert_eq!(installed, cache.path().join("1.0.0/libchdb.so"));
    assert_eq!(std::fs::read(&installed).unwrap(), library);
    // The tarball is gone once unpacked; nothing else was written.
    assert_eq!(files(cache.path()), ["1.0.0/libchdb.so"]);
    assert_eq!(registry.requests(), [(TARBALL_PATH.to_string(), None)]);
    let total = Some(tarball.len() as u64);
    let phases: Vec<Progress> = reports.iter().map(|(_, p)| *p).collect();
    assert_eq!(phases[0], Progress::Downloading { done: 0, total });
    assert_eq!(
        phases[phases.len() - 3..],
        [
            Progress::Downloading {
                done: tarball.len() as u64,
                total
            },
            Progress::Verifying,
            Progress::Unpacking
        ]
    );
    assert!(installer.status().installed);
    assert_eq!(installer.status().partial_bytes, None);
}

#[tokio::test]
async fn an_installed_library_is_not_fetched_again() {
    let tarball = tarball(&library());
    let registry = Registry::start(tarball.clone(), Behaviour::Serve).await;
    let (installer, _cache) = installer(&registry.url, &tarball);
    install(&installer).await.0.unwrap();

    let (result, reports) = install(&installer).await;

    assert_eq!(result.unwrap(), installer.install_path());
    assert_eq!(reports, []);
    assert_eq!(registry.requests().len(), 1);
}

#[tokio::test]
async fn a_corrupt_tarball_is_refused_before_anything_is_unpacked() {
    let good = tarball(&library());
    let mut bad_library = library();
    bad_library[1000] ^= 0xff;
    let bad = tarball(&bad_library);
    let registry = Registry::start(bad.clone(), Behaviour::Serve).await;
    let (installer, cache) = installer(&registry.url, &good);

    let (result, reports) = install(&installer).await;

    match result.unwrap_err() {
        InstallError::Corrupt {
            path,
            expected,
            actual,
            url,
        } => {
            assert_eq!(path, installer.tarball_path());
            assert_eq!(expected, integrity(&good));
            assert_eq!(actual, integrity(&bad));
            assert_eq!(url, format!("{}{}", registry.url, &TARBALL_PATH[1..]));
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // Nothing installed, nothing half-unpacked, and the bad tarball deleted: a retry downloads.
    assert_eq!(files(cache.path()), Vec::<String>::new());
    assert_eq!(reports.last().unwrap().1, Progress::Verifying);
    assert!(!installer.status().installed);
}

#[tokio::test]
async fn a_cut_connection_resumes_where_it_stopped() {
    let (library, tarball) = (library(), tarball(&library()));
    let cut = tarball.len() / 3;
    let registry = Registry::start(tarball.clone(), Behaviour::CutFirstAfter(cut)).await;
    let (installer, cache) = installer(&registry.url, &tarball);

    let (result, reports) = install(&installer).await;

    assert_eq!(std::fs::read(result.unwrap()).unwrap(), library);
    assert_eq!(
        registry.requests(),
        [
            (TARBALL_PATH.to_string(), None),
            (TARBALL_PATH.to_string(), Some(format!("bytes={cut}-")))
        ]
    );
    // The resumed request reports from where the part ended, not from zero.
    let resumed_from = Progress::Downloading {
        done: cut as u64,
        total: Some(tarball.len() as u64),
    };
    assert!(reports.iter().any(|(_, p)| *p == resumed_from));
    assert_eq!(files(cache.path()), ["1.0.0/libchdb.so"]);
}

#[tokio::test]
async fn a_part_left_by_an_earlier_run_is_resumed() {
    let tarball = tarball(&library());
    let registry = Registry::start(tarball.clone(), Behaviour::Serve).await;
    let (installer, _cache) = installer(&registry.url, &tarball);
    let part = installer.tarball_path().with_extension("tgz.part");
    std::fs::write(&part, &tarball[..1000]).unwrap();
    assert_eq!(installer.status().partial_bytes, Some(1000));

    install(&installer).await.0.unwrap();

    assert_eq!(
        registry.requests(),
        [(TARBALL_PATH.to_string(), Some("bytes=1000-".to_string()))]
    );
    assert!(!part.exists());
}

#[tokio::test]
async fn a_server_that_cannot_resume_sends_the_whole_file_again() {
    let (library, tarball) = (library(), tarball(&library()));
    let registry = Registry::start(tarball.clone(), Behaviour::IgnoreRange).await;
    let (installer, _cache) = installer(&registry.url, &tarball);
    // A part that does not even match the file: appending to it would corrupt the result.
    std::fs::write(
        installer.tarball_path().with_extension("tgz.part"),
        [0u8; 5000],
    )
    .unwrap();

    let (result, _) = install(&installer).await;

    assert_eq!(std::fs::read(result.unwrap()).unwrap(), library);
    assert_eq!(
        registry.requests(),
        [(TARBALL_PATH.to_string(), Some("bytes=5000-".to_string()))]
    );
}

#[tokio::test]
async fn progress_comes_at_least_once_a_second_while_the_server_trickles() {
    let tarball = tarball(&library());
    let gap = Duration::from_millis(1500);
    let registry = Registry::start(tarball.clone(), Behaviour::Trickle { pieces: 3, gap }).await;
    let (installer, _cache) = installer(&registry.url, &tarball);

    let started = Instant::now();
    let (result, reports) = install(&installer).await;

    result.unwrap();
    let downloading: Vec<Instant> = reports
        .iter()
        .filter(|(_, p)| matches!(p, Progress::Downloading { .. }))
        .map(|(at, _)| *at)
        .collect();
    let mut previous = started;
    for at in &downloading {
        let silence = at.duration_since(previous);
        assert!(
            silence < Duration::from_secs(1),
            "no progress for {silence:?}"
        );
        previous = *at;
    }
    // 4.5 s of trickle, a report every half second.
    assert!(downloading.len() >= 8, "{} reports", downloading.len());
}

#[tokio::test]
async fn cancel_stops_the_download_and_keeps_what_arrived() {
    let tarball = tarball(&library());
    let gap = Duration::from_millis(300);
    let registry = Registry::start(tarball.clone(), Behaviour::Trickle { pieces: 20, gap }).await;
    let (installer, cache) = installer(&registry.url, &tarball);
    let (cancel_tx, cancel) = watch::channel(false);

    let result = installer
        .install(
            |p| {
                if matches!(p, Progress::Downloading { done, .. } if done > 0) {
                    cancel_tx.send_replace(true);
                }
            },
            cancel,
        )
        .await;

    let part = installer.tarball_path().with_extension("tgz.part");
    match result.unwrap_err() {
        InstallError::Cancelled { part: kept } => assert_eq!(kept, part),
        other => panic!("expected Cancelled, got {other:?}"),
    }
    let kept = std::fs::metadata(&part).unwrap().len();
    assert!(kept > 0 && kept < tarball.len() as u64, "kept {kept} bytes");
    assert_eq!(files(cache.path()), ["lib-fake-1.0.0.tgz.part"]);
}

#[tokio::test]
async fn offline_the_error_names_the_file_to_fetch_by_hand_and_that_file_is_used() {
    let tarball = tarball(&library());
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let registry: url::Url = format!("http://{}/", closed.local_addr().unwrap())
        .parse()
        .unwrap();
    drop(closed);
    let (installer, _cache) = installer(&registry, &tarball);

    let error = install(&installer).await.0.unwrap_err();

    let url = format!("{registry}{}", &TARBALL_PATH[1..]);
    let save_as = installer.tarball_path();
    assert!(
        matches!(error, InstallError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    let message = error.to_string();
    let by_hand = format!(
        "download {url} by hand (a browser, or `curl -fLo {path} {url}` where the registry is \
         reachable), save it as {path}, then run `pulseboard engine install` again",
        path = save_as.display()
    );
    assert!(message.contains(&by_hand), "{message}");

    // Doing just that installs, without the network.
    std::fs::write(&save_as, &tarball).unwrap();
    let installed = install(&installer).await.0.unwrap();
    assert_eq!(std::fs::read(installed).unwrap(), library());
}

#[tokio::test]
async fn a_missing_package_is_refused_for_good() {
    let tarball = tarball(&library());
    let registry = Registry::start(tarball.clone(), Behaviour::NotFound).await;
    let (installer, cache) = installer(&registry.url, &tarball);

    let error = install(&installer).await.0.unwrap_err();

    assert!(
        matches!(error, InstallError::Refused { status: 404, .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert_eq!(files(cache.path()), Vec::<String>::new());
}
