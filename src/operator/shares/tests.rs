use super::*;

fn ip(n: u8) -> IpAddr {
    IpAddr::from([192, 168, 1, n])
}

fn small() -> Shares {
    Shares::new(ShareLimits {
        others: 4,
        per_address: 3,
        anonymous: 2,
        anonymous_per_address: 1,
        home: 2,
    })
}

fn served(admit: Admit) -> (ConnId, Vec<ConnId>) {
    match admit {
        Admit::Serve { id, close } => (id, close),
        Admit::Refuse => panic!("refused"),
    }
}

#[test]
fn a_full_pool_closes_its_longest_waiting_connection_for_a_newcomer() {
    let mut s = small();
    let ids: Vec<ConnId> = (1..=4).map(|n| served(s.admit(ip(n), false)).0).collect();
    let (_, close) = served(s.admit(ip(9), false));
    assert_eq!(close, vec![ids[0]], "the oldest silent one goes");
    // One that sent a head is busy, and is passed over.
    assert!(s.begin(ids[1], true));
    let (_, close) = served(s.admit(ip(9), false));
    assert_eq!(close, vec![ids[2]]);
    assert_eq!(s.held(), (0, 4));
}

#[test]
fn an_address_at_its_cap_pushes_out_its_own_oldest_and_nobody_elses() {
    let mut s = small();
    let other = served(s.admit(ip(2), false)).0;
    let own: Vec<ConnId> = (0..3).map(|_| served(s.admit(ip(1), false)).0).collect();
    let (_, close) = served(s.admit(ip(1), false));
    assert_eq!(close, vec![own[0]]);
    assert!(s.conns.contains_key(&other));
    // All of the address's connections busy: the next from it is refused.
    for id in &own[1..] {
        assert!(s.begin(*id, true));
    }
    let latest = s.conns.keys().copied().max().unwrap_or_default();
    assert!(s.begin(latest, true));
    assert_eq!(s.admit(ip(1), false), Admit::Refuse);
}

#[test]
fn when_every_place_is_in_use_a_newcomer_is_refused() {
    let mut s = small();
    for n in 1..=4 {
        let id = served(s.admit(ip(n), false)).0;
        assert!(s.begin(id, true));
    }
    assert_eq!(s.admit(ip(9), false), Admit::Refuse);
    // The machine's own screen has its own pool.
    assert!(matches!(s.admit(ip(9), true), Admit::Serve { .. }));
}

#[test]
fn the_home_pool_is_never_filled_by_others_and_makes_its_own_room() {
    let mut s = small();
    for n in 1..=4 {
        served(s.admit(ip(n), false));
    }
    let a = served(s.admit(ip(100), true)).0;
    let b = served(s.admit(ip(100), true)).0;
    assert!(
        s.begin(b, false),
        "home requests need no token and count in no share"
    );
    assert_eq!(s.anonymous(), 0);
    let (_, close) = served(s.admit(ip(100), true));
    assert_eq!(close, vec![a], "only home connections are closed for home");
    assert_eq!(s.held(), (2, 4));
}

#[test]
fn anonymous_requests_have_a_smaller_share_per_address_too() {
    let mut s = small();
    let a1 = served(s.admit(ip(1), false)).0;
    let a2 = served(s.admit(ip(1), false)).0;
    let b1 = served(s.admit(ip(2), false)).0;
    let c1 = served(s.admit(ip(3), false)).0;
    assert!(s.begin(a1, false));
    assert!(!s.begin(a2, false), "one anonymous request per address");
    assert!(s.begin(b1, false));
    assert!(!s.begin(c1, false), "two in all");
    assert!(s.begin(c1, true), "the token is not in the share");
    s.end(a1, false);
    assert!(s.begin(a2, false), "the share is given back");
    assert_eq!(s.anonymous(), 2);
}

#[test]
fn a_refused_or_closed_connection_gives_back_everything_it_held() {
    let mut s = small();
    let a = served(s.admit(ip(1), false)).0;
    assert!(s.begin(a, false));
    s.closed(a);
    assert_eq!((s.held(), s.anonymous()), ((0, 0), 0));
    assert!(s.per_ip.is_empty() && s.anonymous_per_ip.is_empty());
    // Ends and begins for a connection already closed are harmless.
    s.end(a, false);
    assert!(s.begin(a, false));
    assert_eq!(s.anonymous(), 0);
}

#[test]
fn a_kept_alive_connection_waits_again_after_its_answer() {
    let mut s = small();
    let ids: Vec<ConnId> = (1..=4).map(|n| served(s.admit(ip(n), false)).0).collect();
    for id in &ids {
        assert!(s.begin(*id, true));
    }
    s.end(ids[2], true);
    let (_, close) = served(s.admit(ip(9), false));
    assert_eq!(close, vec![ids[2]]);
}

proptest::proptest! {
    /// Whatever happens, no pool, address or share holds more than its limit, and everything
    /// given back leaves nothing counted.
    #[test]
    fn limits_hold_and_counts_return_to_zero(steps in proptest::collection::vec((0u8..4, 0u8..6, proptest::bool::ANY), 0..300)) {
        let mut s = small();
        let mut open: Vec<(ConnId, Vec<bool>)> = Vec::new();
        for (what, who, flag) in steps {
            let at = usize::from(who) % open.len().max(1);
            match what {
                0 => {
                    if let Admit::Serve { id, close } = s.admit(ip(who), flag && who == 0) {
                        open.retain(|(c, _)| !close.contains(c));
                        open.push((id, Vec::new()));
                    }
                }
                1 => if let Some((id, busy)) = open.get_mut(at) {
                    if busy.is_empty() && s.begin(*id, flag) {
                        busy.push(flag);
                    }
                },
                2 => if let Some((id, busy)) = open.get_mut(at) {
                    if let Some(t) = busy.pop() {
                        s.end(*id, t);
                    }
                },
                _ => if !open.is_empty() {
                    let (id, _) = open.remove(at);
                    s.closed(id);
                },
            }
            let (home, others) = s.held();
            proptest::prop_assert!(home <= 2 && others <= 4);
            proptest::prop_assert!(s.per_ip.values().all(|&n| n <= 3));
            proptest::prop_assert!(s.anonymous() <= 2);
            proptest::prop_assert!(s.anonymous_per_ip.values().all(|&n| n <= 1));
            proptest::prop_assert_eq!(home + others, open.len());
        }
        for (id, _) in open {
            s.closed(id);
        }
        proptest::prop_assert_eq!(s.held(), (0, 0));
        proptest::prop_assert_eq!(s.anonymous(), 0);
        proptest::prop_assert!(s.per_ip.is_empty() && s.anonymous_per_ip.is_empty() && s.waiting.is_empty());
    }
}

#[test]
fn an_ipv6_host_counts_as_one_address_whatever_address_of_its_64_it_uses() {
    let mut s = small();
    let from = |n: u16| IpAddr::from([0x2001, 0xdb8, 0, 1, 0, 0, 0, n]);
    let ids: Vec<ConnId> = (1..=3).map(|n| served(s.admit(from(n), false)).0).collect();
    let (_, close) = served(s.admit(from(99), false));
    assert_eq!(
        close,
        vec![ids[0]],
        "its own oldest goes, as for one address"
    );
    let a = served(s.admit(IpAddr::from([0x2001, 0xdb8, 0, 2, 0, 0, 0, 1]), false));
    assert!(a.1.is_empty(), "another /64 is another address");
}
