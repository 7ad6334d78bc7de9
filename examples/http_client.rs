//! A client with one breaker per host: a hyper client as a tower service, behind
//! `CircuitBreakerLayer::per_key` keyed by the request's authority. Two backends run on
//! loopback, one healthy and one answering 503; the failing host's breaker opens and its
//! requests are answered at once, while the healthy host's keep going through.
//!
//! Run it with `cargo run --example http_client`.

use std::{convert::Infallible, net::SocketAddr};

use bytes::Bytes;
use fusebox::{
    Config, Failure, registry,
    tower::{CircuitBreakerLayer, HttpClassifier, authority},
};
use http_body_util::{Empty, Full};
use hyper::{Request, Response, StatusCode, body::Incoming, client, server, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tower::{Layer, Service, ServiceExt};

/// A backend on loopback that answers every request with `status`.
async fn backend(status: StatusCode) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let answer = service_fn(move |_: Request<Incoming>| async move {
                let mut response = Response::new(Full::new(Bytes::from_static(b"catalog page")));
                *response.status_mut() = status;
                Ok::<_, Infallible>(response)
            });
            tokio::spawn(
                server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), answer),
            );
        }
    });
    address
}

/// A connection refused, or an HTTP error: failures, for the breakers.
type SendError = Box<dyn std::error::Error + Send + Sync>;

/// One request on a connection of its own: the client the breakers wrap.
async fn send(request: Request<Empty<Bytes>>) -> Result<Response<Incoming>, SendError> {
    let host = request
        .uri()
        .authority()
        .map(ToString::to_string)
        .unwrap_or_default();
    let stream = TcpStream::connect(host).await?;
    let (mut sender, connection) = client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender.send_request(request).await?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let healthy = backend(StatusCode::OK).await;
    let failing = backend(StatusCode::SERVICE_UNAVAILABLE).await;

    let breakers = CircuitBreakerLayer::per_key(
        "catalog-client",
        Config::builder()
            .consecutive_failures(3)
            .build()
            .expect("valid"),
        authority,
    )
    .classifier(HttpClassifier::default());
    let mut client = breakers.layer(tower::service_fn(send));

    for round in 1..=5 {
        for host in [healthy, failing] {
            let request = Request::get(format!("http://{host}/items"))
                .body(Empty::new())
                .expect("a valid request");
            let answer = match client.ready().await.expect("ready").call(request).await {
                Ok(response) => format!("{}", response.status()),
                Err(Failure::Breaker(refused)) => format!("not sent: {refused}"),
                Err(Failure::Error(error)) => format!("failed: {error}"),
            };
            println!("round {round}, {host}: {answer}");
        }
    }
    for host in [healthy, failing] {
        let name = format!("catalog-client/{host}");
        let breaker = registry::get(&name).expect("a breaker per host");
        let counters = breaker.metrics().counters;
        println!(
            "{name}: {} after {} calls, {} not sent",
            breaker.state(),
            counters.calls,
            counters.rejected
        );
    }
}
