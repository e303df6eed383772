use std::net::IpAddr;

use super::auth::{Limiter, MAX_FAILURES};
use super::*;

#[test]
fn listening_beyond_loopback_needs_a_token() {
    assert_eq!(listen_address("off", false), Ok(None));
    assert!(listen_address("127.0.0.1:8080", false).is_ok_and(|a| a.is_some()));
    assert!(listen_address("[::1]:8080", false).is_ok_and(|a| a.is_some()));
    let refused = listen_address("0.0.0.0:8080", false).expect_err("needs a token");
    assert!(refused.contains("without an operator token"), "{refused}");
    assert!(listen_address("0.0.0.0:8080", true).is_ok_and(|a| a.is_some()));
    let bad = listen_address("eight thousand", true).expect_err("not an address");
    assert!(bad.contains("is not an address"), "{bad}");
}

#[test]
fn tokens_must_be_long_and_compare_exactly() {
    assert!(matches!(Token::new("short"), Err(TokenError::TooShort(5))));
    assert!(matches!(
        Token::new("correct horse battery staple"),
        Err(TokenError::NotVisibleAscii { position: 8 })
    ));
    assert!(matches!(
        Token::new("süßer-geheimer-schlüssel"),
        Err(TokenError::NotVisibleAscii { position: 2 })
    ));
    let t = Token::new("  correct-horse-battery-staple\n").expect("token");
    assert!(t.matches("correct-horse-battery-staple"));
    assert!(!t.matches("correct-horse-battery-stapl"));
    assert!(!t.matches(""));
    assert_eq!(format!("{t:?}"), "Token(..)");
}

#[test]
fn token_files_open_to_others_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("token");
    std::fs::write(&path, "a-long-enough-secret-token\n").expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    assert!(matches!(
        Token::load(None, Some(&path)),
        Err(TokenError::TooOpen { .. })
    ));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    assert!(Token::load(None, Some(&path)).expect("load").is_some());
    assert!(Token::load(None, None).expect("none").is_none());
    // A token file named but not there stops the start (a typo must not leave the API off).
    assert!(Token::load(None, Some(&dir.path().join("absent"))).is_err());
    assert!(
        Token::load(Some("from-the-environment-1234".into()), Some(&path))
            .expect("env wins")
            .is_some_and(|t| t.matches("from-the-environment-1234"))
    );
}

#[test]
fn repeated_failures_are_blocked_for_a_minute() {
    let mut l = Limiter::default();
    let ip: IpAddr = "127.0.0.1".parse().expect("ip");
    for _ in 0..MAX_FAILURES {
        assert!(!l.blocked(ip));
        l.fail(ip);
    }
    assert!(l.blocked(ip));
    // The right token clears the count.
    l.succeed(ip);
    assert!(!l.blocked(ip));
    assert!(!l.blocked("10.0.0.1".parse().expect("ip")));
}
