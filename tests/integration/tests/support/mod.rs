//! What the HTTP tests share: a router served on loopback, and plain HTTP/1.1 requests to it;
//! and what the overrides tests share (the facade's `tests/overrides.rs` takes this file by its
//! path): overrides that must be well formed, and a way back to none.

// Each test binary uses the helpers it needs.
#![allow(dead_code)]

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    sync::mpsc,
    thread,
};

/// Serves `app` on a loopback port, on a Tokio runtime of its own thread, for the rest of the
/// process.
pub fn serve(app: axum::Router) -> SocketAddr {
    let (sender, address) = mpsc::channel();
    thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a Tokio runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind a loopback port");
            sender
                .send(listener.local_addr().expect("local address"))
                .expect("the test waits for the address");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    address.recv().expect("the server's address")
}

/// A request with an empty body, on a connection of its own: the status, the headers (as
/// sent) and the body.
pub fn request(server: SocketAddr, method: &str, path: &str) -> (u16, String, String) {
    request_with(server, method, path, &[], "")
}

/// A request with `headers` and `body`, on a connection of its own: the status, the headers
/// (as sent) and the body.
pub fn request_with(
    server: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(server).expect("connect to the server");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {server}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.extend([name, ": ", value, "\r\n"]);
    }
    write!(stream, "{head}\r\n{body}").expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

/// An operator's action as the dashboard's buttons send it: a `POST` with the admin header.
pub fn act(server: SocketAddr, path: &str) -> (u16, String, String) {
    request_with(server, "POST", path, &[("X-Breaker-Admin", "1")], "")
}

/// Overrides from a TOML document that must be well formed.
pub fn toml(document: &str) -> fusebox::Overrides {
    fusebox::Overrides::from_toml_str(document).expect("well-formed overrides")
}

/// Overrides from environment variables that must be well formed.
pub fn env(vars: &[(&str, &str)]) -> fusebox::Overrides {
    fusebox::Overrides::from_vars(vars.iter().copied()).expect("well-formed variables")
}

/// Takes the override layers back to nothing, so that a test starts from the compiled
/// configuration.
pub fn clear_overrides() {
    fusebox::registry::apply(&fusebox::Overrides::new()).expect("no overrides apply");
    fusebox::registry::apply(&env(&[])).expect("no variables apply");
}
