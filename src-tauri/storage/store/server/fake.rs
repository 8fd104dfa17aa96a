//! A hand-written one-request HTTP server for the server store's tests: it shows what the
//! `clickhouse` crate's own mock cannot — the request's URL as sent — and answers what the mock
//! cannot say: ClickHouse exception texts, bare statuses, or nothing at all.

use std::io::{Read, Write};
use std::thread::JoinHandle;

/// Serves one request on a free local port: replies with `response`, or never when `None`
/// (reading on until the client gives up). Returns the server's URL and a handle that yields the
/// request as received.
pub fn server(response: Option<String>) -> (String, JoinHandle<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0; 8192];
        // Without a response, reading on until the client gives up keeps it waiting.
        while response.is_none() || !complete(&request) {
            match socket.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        if let Some(response) = response {
            socket.write_all(response.as_bytes()).unwrap();
        }
        String::from_utf8_lossy(&request).into_owned()
    });
    (url, served)
}

/// A whole HTTP/1.1 response with `status` ("403 Forbidden") and `body`.
pub fn reply(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The decoded query parameters of a raw request's URL, in order.
pub fn query_pairs(request: &str) -> Vec<(String, String)> {
    let target = request.split(' ').nth(1).unwrap();
    url::Url::parse(&format!("http://localhost{target}"))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Whether a request is whole: its head, then the last chunk or Content-Length bytes. A TLS
/// ClientHello (record type 0x16) is answered at once, as a plain HTTP server would.
fn complete(request: &[u8]) -> bool {
    if request.first() == Some(&0x16) {
        return true;
    }
    let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
    if head.contains("transfer-encoding: chunked") {
        return request.ends_with(b"\r\n0\r\n\r\n");
    }
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .map_or(0, |n| n.parse().unwrap());
    request.len() >= end + 4 + length
}
