//! The chDB C API, loaded at run time from `libchdb.so`.
//!
//! Loading at run time keeps the build and unit tests free of a 560 MB link dependency and lets
//! the app say exactly what is missing. chDB runs one engine per process, so this module allows
//! one open connection at a time and closes it explicitly: without `chdb_close_conn` the engine
//! aborts in its destructors at exit.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use libloading::Library;

use super::StoreError;

/// The libchdb release `pulseboard engine install` and the set-up script fetch, and the app
/// looks for.
pub const LIBCHDB_VERSION: &str = "26.5.3";
/// Environment variable naming the library file explicitly.
pub const LIBCHDB_ENV: &str = "PULSEBOARD_LIBCHDB";

static ENGINE_OPEN: AtomicBool = AtomicBool::new(false);

type Conn = *mut c_void; // chdb_connection
type ResultPtr = *mut c_void; // chdb_result*

struct Api {
    connect: unsafe extern "C" fn(c_int, *mut *mut c_char) -> *mut Conn,
    close_conn: unsafe extern "C" fn(*mut Conn),
    query_n: unsafe extern "C" fn(Conn, *const c_char, usize, *const c_char, usize) -> ResultPtr,
    query_with_params: unsafe extern "C" fn(
        Conn,
        *const c_char,
        *const c_char,
        *const *const c_char,
        *const *const c_char,
        usize,
    ) -> ResultPtr,
    result_buffer: unsafe extern "C" fn(ResultPtr) -> *const c_char,
    result_length: unsafe extern "C" fn(ResultPtr) -> usize,
    result_error: unsafe extern "C" fn(ResultPtr) -> *const c_char,
    destroy_result: unsafe extern "C" fn(ResultPtr),
}

/// The library stays loaded for the life of the process: chDB registers thread-local
/// destructors, and unloading it would leave threads that exit later calling into unmapped code.
static API: OnceLock<Api> = OnceLock::new();

impl Api {
    fn get(path: &Path) -> Result<&'static Self, StoreError> {
        if let Some(api) = API.get() {
            return Ok(api);
        }
        let api = Self::load(path)?;
        Ok(API.get_or_init(|| api))
    }

    fn load(path: &Path) -> Result<Self, StoreError> {
        let load_err = |reason: String| StoreError::LibraryLoad {
            path: path.to_owned(),
            reason,
        };
        // SAFETY: loading libchdb runs its static initialisers, which have no preconditions.
        let lib = unsafe { Library::new(path) }.map_err(|e| load_err(e.to_string()))?;
        macro_rules! sym {
            ($name:literal) => {
                // SAFETY: the signature matches chdb.h of the pinned libchdb release.
                *unsafe { lib.get(concat!($name, "\0").as_bytes()) }
                    .map_err(|e| load_err(format!("missing symbol {}: {e}", $name)))?
            };
        }
        let api = Self {
            connect: sym!("chdb_connect"),
            close_conn: sym!("chdb_close_conn"),
            query_n: sym!("chdb_query_n"),
            query_with_params: sym!("chdb_query_with_params"),
            result_buffer: sym!("chdb_result_buffer"),
            result_length: sym!("chdb_result_length"),
            result_error: sym!("chdb_result_error"),
            destroy_result: sym!("chdb_destroy_query_result"),
        };
        std::mem::forget(lib); // never unloaded: see API
        Ok(api)
    }
}

/// One open chDB engine and its connection. Not thread-safe: callers serialise access.
pub struct Chdb {
    api: &'static Api,
    conn: *mut Conn,
}

// SAFETY: the connection is used from one thread at a time (the owner holds it behind a Mutex);
// chDB does not tie a connection to the thread that opened it.
unsafe impl Send for Chdb {}

impl Chdb {
    /// Loads the library and opens the engine on `data_path`.
    pub fn open(library: &Path, data_path: &Path) -> Result<Self, StoreError> {
        if ENGINE_OPEN.swap(true, Ordering::SeqCst) {
            return Err(StoreError::AlreadyOpen);
        }
        Self::open_inner(library, data_path)
            .inspect_err(|_| ENGINE_OPEN.store(false, Ordering::SeqCst))
    }

    fn open_inner(library: &Path, data_path: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_path)?;
        let api = Api::get(library)?;
        let args = [
            CString::new("pulseboard").unwrap(),
            CString::new(format!("--path={}", data_path.display()))
                .map_err(|_| StoreError::Connect("data path contains a NUL byte".into()))?,
        ];
        let mut argv: Vec<*mut c_char> = args.iter().map(|a| a.as_ptr() as *mut c_char).collect();
        // SAFETY: argv holds valid NUL-terminated strings that outlive the call.
        let conn = unsafe { (api.connect)(argv.len() as c_int, argv.as_mut_ptr()) };
        if conn.is_null() {
            return Err(StoreError::Connect(format!(
                "chdb_connect returned no connection for {}",
                data_path.display()
            )));
        }
        Ok(Self { api, conn })
    }

    /// Runs one statement (binary-safe: `query` may carry RowBinary data) and returns its output.
    pub fn query(&mut self, query: &[u8], format: &str) -> Result<Vec<u8>, StoreError> {
        // SAFETY: conn is open; the buffers are valid for the given lengths.
        let result = unsafe {
            (self.api.query_n)(
                *self.conn,
                query.as_ptr().cast(),
                query.len(),
                format.as_ptr().cast(),
                format.len(),
            )
        };
        self.take(result)
    }

    /// Runs a query with `{name:Type}` placeholders bound server-side to `params`.
    pub fn query_with_params(
        &mut self,
        query: &str,
        format: &str,
        params: &[(String, String)],
    ) -> Result<Vec<u8>, StoreError> {
        let c = |s: &str| {
            CString::new(s).map_err(|_| StoreError::Statement("a NUL byte in the query".into()))
        };
        let (query, format) = (c(query)?, c(format)?);
        let names = params
            .iter()
            .map(|(n, _)| c(n))
            .collect::<Result<Vec<_>, _>>()?;
        let values = params
            .iter()
            .map(|(_, v)| c(v))
            .collect::<Result<Vec<_>, _>>()?;
        let name_ptrs: Vec<*const c_char> = names.iter().map(|s| s.as_ptr()).collect();
        let value_ptrs: Vec<*const c_char> = values.iter().map(|s| s.as_ptr()).collect();
        // SAFETY: every pointer refers to a CString alive until the call returns.
        let result = unsafe {
            (self.api.query_with_params)(
                *self.conn,
                query.as_ptr(),
                format.as_ptr(),
                name_ptrs.as_ptr(),
                value_ptrs.as_ptr(),
                params.len(),
            )
        };
        self.take(result)
    }

    fn take(&mut self, result: ResultPtr) -> Result<Vec<u8>, StoreError> {
        if result.is_null() {
            return Err(StoreError::Query("chDB returned no result".into()));
        }
        // SAFETY: result is a live chdb_result until destroyed below; the buffer (NULL for
        // statements that return nothing) is valid for result_length bytes.
        let outcome = unsafe {
            let error = (self.api.result_error)(result);
            if error.is_null() {
                let buffer = (self.api.result_buffer)(result);
                let len = (self.api.result_length)(result);
                Ok(if buffer.is_null() {
                    Vec::new()
                } else {
                    std::slice::from_raw_parts(buffer.cast::<u8>(), len).to_vec()
                })
            } else {
                Err(StoreError::from_engine(
                    CStr::from_ptr(error).to_string_lossy().trim().to_string(),
                ))
            }
        };
        // SAFETY: destroyed exactly once, after its contents were copied.
        unsafe { (self.api.destroy_result)(result) };
        outcome
    }
}

impl Drop for Chdb {
    fn drop(&mut self) {
        // SAFETY: conn came from chdb_connect and is closed exactly once.
        unsafe { (self.api.close_conn)(self.conn) };
        ENGINE_OPEN.store(false, Ordering::SeqCst);
    }
}

/// Where the app looks for `libchdb.so`, in order.
pub fn library_candidates() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(path) = std::env::var_os(LIBCHDB_ENV) {
        paths.push(PathBuf::from(path));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_owned))
    {
        paths.push(dir.join("libchdb.so"));
    }
    if let Some(dir) = library_cache_dir() {
        paths.push(dir.join("libchdb.so"));
    }
    paths
}

/// The cache folder `pulseboard engine install` (and the set-up script) fills:
/// `$XDG_CACHE_HOME/pulseboard/libchdb/<version>`.
pub fn library_cache_dir() -> Option<PathBuf> {
    cache_root().map(|root| root.join(LIBCHDB_VERSION))
}

/// `~/.cache/pulseboard/libchdb` (`$XDG_CACHE_HOME` on Linux): a folder per version, which
/// `crate::storage::libchdb` installs into.
pub fn cache_root() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|dirs| dirs.cache_dir().join("pulseboard").join("libchdb"))
}

/// Finds the library or explains how to get it.
pub fn find_library() -> Result<PathBuf, StoreError> {
    let candidates = library_candidates();
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    let searched = candidates
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>();
    Err(StoreError::LibraryMissing {
        searched: searched.join(", "),
    })
}
