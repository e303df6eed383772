//! Anonymous streams and slow request heads cannot lock the operator or the machine's own
//! screen out of the console: they have their own, smaller share of its connections.

mod common;

use common::rig::{Rig, TOKEN};

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Enough open files for the attack's sockets and the server's in one process.
fn enough_open_files(needed: u64) {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    if soft < needed {
        assert!(
            hard >= needed,
            "this test needs {needed} open files; the hard limit is {hard}"
        );
        setrlimit(Resource::RLIMIT_NOFILE, needed, hard).expect("setrlimit");
    }
}

/// A connection to `server` from the loopback address 127.0.0.`host` (a stranger on the
/// network, as far as the server can tell: not the address it was reached at).
async fn connect_from(host: u8, server: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, host)),
            0,
        ))
        .expect("bind a loopback source address");
    socket.connect(server).await.expect("connect")
}

/// The status line the server answers with, or None when it closes the connection first.
async fn status_line(stream: &mut TcpStream) -> Option<String> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        if let Some(end) = seen.windows(2).position(|w| w == b"\r\n") {
            return Some(String::from_utf8_lossy(&seen[..end]).into_owned());
        }
        match tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf)).await {
            Ok(Ok(n @ 1..)) => seen.extend_from_slice(&buf[..n]),
            _ => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_hundred_anonymous_streams_and_three_hundred_slow_heads_leave_room_for_the_operator_and_the_screen(
) {
    enough_open_files(4096);
    let rig = Rig::start(Some(TOKEN)).await;
    let server = rig.console.addr;

    // 400 anonymous event streams from 50 addresses, 8 each.
    let mut streams = Vec::new();
    let (mut live, mut busy, mut closed) = (0, 0, 0);
    for i in 0..400u32 {
        let host = 2 + u8::try_from(i / 8).expect("host");
        let mut s = connect_from(host, server).await;
        s.write_all(b"GET /api/kiosk/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .expect("write");
        match status_line(&mut s).await.as_deref() {
            Some("HTTP/1.1 200 OK") => live += 1,
            Some("HTTP/1.1 503 Service Unavailable") => busy += 1,
            Some(other) => panic!("unexpected answer {other}"),
            None => closed += 1,
        }
        streams.push(s);
    }
    assert!(
        (1..=96).contains(&live),
        "{live} anonymous streams open: at most the anonymous share of 96"
    );
    assert!(busy > 0, "past the share, streams are refused with 503");

    // 300 request heads that never end, from 30 more addresses.
    let mut heads = Vec::new();
    for i in 0..300u32 {
        let host = 60 + u8::try_from(i / 10).expect("host");
        let mut s = connect_from(host, server).await;
        // A refused or pushed-out connection is as good as a held one for the attack.
        let _ = s
            .write_all(b"GET /api/kiosk/state HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .await;
        heads.push(s);
    }

    // The operator, from yet another address, with the token.
    let operator = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 250)))
        .build()
        .expect("client");
    let started = Instant::now();
    let status = tokio::time::timeout(
        Duration::from_secs(20),
        operator
            .get(rig.url("/api/status"))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .send(),
    )
    .await
    .expect("the operator's status answers")
    .expect("the operator's connection is served");
    assert_eq!(status.status(), StatusCode::OK);
    println!("operator's /api/status: {:?}", started.elapsed());

    // The machine's own screen: its button and its own live stream.
    let started = Instant::now();
    let pressed = tokio::time::timeout(
        Duration::from_secs(20),
        rig.http.post(rig.url("/api/kiosk/select/1")).send(),
    )
    .await
    .expect("the screen's select answers")
    .expect("the screen's connection is served");
    assert_ne!(pressed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_ne!(pressed.status(), StatusCode::FORBIDDEN);
    println!(
        "the screen's select: {:?} ({})",
        started.elapsed(),
        pressed.status()
    );
    let mut own = TcpStream::connect(server).await.expect("connect");
    own.write_all(b"GET /api/kiosk/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    assert_eq!(
        status_line(&mut own).await.as_deref(),
        Some("HTTP/1.1 200 OK"),
        "the machine's own screen's stream is not in the anonymous share"
    );

    // A stranger's stream past the share is told when to come back.
    let mut late = connect_from(200, server).await;
    late.write_all(b"GET /api/kiosk/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(20), late.read(&mut buf)).await {
            Ok(Ok(n @ 1..)) => head.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    if live == 96 {
        assert!(head.starts_with("http/1.1 503"), "{head}");
        assert!(head.contains("retry-after: 5"), "{head}");
        assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    }
    println!("streams: {live} live, {busy} refused, {closed} closed to make room");

    // Once the crowd leaves, its places are given back: a stranger's stream is served again.
    drop(streams);
    drop(heads);
    assert!(
        common::rig::wait_for(async || {
            let mut s = connect_from(201, server).await;
            s.write_all(b"GET /api/kiosk/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .await
                .is_ok()
                && status_line(&mut s).await.as_deref() == Some("HTTP/1.1 200 OK")
        })
        .await
    );
    rig.stop().await;
}

/// Counting a request's place does not change its answer: a sized answer keeps its
/// `Content-Length` (scripts reading raw HTTP rely on it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_keep_their_length() {
    let rig = Rig::start(Some(TOKEN)).await;
    for host in [1, 9] {
        let mut s = connect_from(host, rig.console.addr).await;
        s.write_all(
            b"GET /api/kiosk/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        )
        .await
        .expect("write");
        let mut all = Vec::new();
        s.read_to_end(&mut all).await.expect("read");
        let text = String::from_utf8_lossy(&all).to_ascii_lowercase();
        assert!(text.starts_with("http/1.1 200"), "{text}");
        assert!(text.contains("content-length:"), "{text}");
        assert!(!text.contains("transfer-encoding: chunked"), "{text}");
    }
    rig.stop().await;
}
