//! Who gets the console's connections when there are too few: the bookkeeping, without any I/O.
//!
//! Two pools. The machine's own screen (a connection from this very machine, or from an address
//! named with `run --touchscreen`) has one of its own that nobody else can fill. Everyone else
//! shares the other, with a cap per address. A connection waiting for a request head (a new one,
//! or a kept-alive one between requests) holds its place only until someone needs it: a pool
//! that is full makes room by closing its longest-waiting connection, so slow or silent heads
//! cannot keep the operator out, and the newest arrival is the last to be pushed out. A request
//! in flight without the operator's token from outside the machine (an anonymous event stream,
//! a body sent a byte at a time) counts against a smaller share, per address too; past it the
//! request is answered 503 at once, so the rest of the pool always has room for requests that
//! carry the token.
//!
//! Owns: the counts and the choice of whom to close. Must not touch: sockets, HTTP, tokens
//! (the server and its middleware decide what is home and what is trusted, and do the closing).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// The sizes of the pools and shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareLimits {
    /// Connections from everyone but the machine's own screen, at once.
    pub others: usize,
    /// Of those, from any one address.
    pub per_address: usize,
    /// Requests in flight without the token from outside (anonymous streams, mostly).
    pub anonymous: usize,
    /// Of those, from any one address.
    pub anonymous_per_address: usize,
    /// Connections from the machine's own screen (and the named touchscreens), at once.
    pub home: usize,
}

impl Default for ShareLimits {
    fn default() -> Self {
        ShareLimits {
            others: 256,
            per_address: 32,
            anonymous: 96,
            anonymous_per_address: 8,
            home: 64,
        }
    }
}

/// A connection's number, in the order they came.
pub type ConnId = u64;

/// What to do with a new connection.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    /// Serve it, as `id`, after closing the waiting connections `close` (to make room).
    Serve { id: ConnId, close: Vec<ConnId> },
    /// No room: every place is taken by a request in flight. Close it.
    Refuse,
}

#[derive(Debug)]
struct Conn {
    ip: IpAddr,
    home: bool,
    /// Requests in flight on it (HTTP/1.1 serves one at a time, but counting is exact).
    busy: u32,
    /// Of which without the token, from outside.
    anonymous: u32,
}

/// The console's connections and requests in flight, by pool and address.
#[derive(Debug, Default)]
pub struct Shares {
    limits: ShareLimits,
    next: ConnId,
    conns: HashMap<ConnId, Conn>,
    /// Connections waiting for a request head, oldest first (ids grow).
    waiting: BTreeMap<ConnId, ()>,
    per_ip: HashMap<IpAddr, usize>,
    anonymous: usize,
    anonymous_per_ip: HashMap<IpAddr, usize>,
}

impl Shares {
    /// No connections yet, within `limits` (each at least 1).
    pub fn new(limits: ShareLimits) -> Shares {
        Shares {
            limits: ShareLimits {
                others: limits.others.max(1),
                per_address: limits.per_address.max(1),
                anonymous: limits.anonymous.max(1),
                anonymous_per_address: limits.anonymous_per_address.max(1),
                home: limits.home.max(1),
            },
            ..Shares::default()
        }
    }

    /// A connection from `ip` arrives; `home` if it is the machine's own screen.
    pub fn admit(&mut self, ip: IpAddr, home: bool) -> Admit {
        let ip = address_of(ip);
        let mut close = Vec::new();
        if !home && self.per_ip.get(&ip).copied().unwrap_or(0) >= self.limits.per_address {
            match self.oldest_waiting(|c| c.ip == ip && !c.home) {
                Some(victim) => close.push(self.remove(victim)),
                None => return Admit::Refuse,
            }
        }
        let (in_pool, cap) = if home {
            (self.count(|c| c.home), self.limits.home)
        } else {
            (self.count(|c| !c.home), self.limits.others)
        };
        if in_pool >= cap {
            match self.oldest_waiting(|c| c.home == home) {
                Some(victim) => close.push(self.remove(victim)),
                // (A victim closed for the address's own cap above already made room in
                // the pool, so nothing is closed for a connection then refused.)
                None => return Admit::Refuse,
            }
        }
        let id = self.next;
        self.next += 1;
        self.conns.insert(
            id,
            Conn {
                ip,
                home,
                busy: 0,
                anonymous: 0,
            },
        );
        self.waiting.insert(id, ());
        if !home {
            *self.per_ip.entry(ip).or_default() += 1;
        }
        Admit::Serve { id, close }
    }

    /// A request head arrived on `id`; `trusted` if it carries the operator's token. False: it
    /// is over the anonymous share and is to be answered 503 (and is not counted).
    pub fn begin(&mut self, id: ConnId, trusted: bool) -> bool {
        let limits = self.limits;
        let Some(conn) = self.conns.get_mut(&id) else {
            // Closed while its head was read: let the request finish, counted nowhere.
            return true;
        };
        let anonymous = !trusted && !conn.home;
        if anonymous {
            let from_ip = self.anonymous_per_ip.get(&conn.ip).copied().unwrap_or(0);
            if self.anonymous >= limits.anonymous || from_ip >= limits.anonymous_per_address {
                return false;
            }
            self.anonymous += 1;
            *self.anonymous_per_ip.entry(conn.ip).or_default() += 1;
            conn.anonymous += 1;
        }
        conn.busy += 1;
        self.waiting.remove(&id);
        true
    }

    /// The answer to a request on `id` begun as `trusted` has been sent (or dropped).
    pub fn end(&mut self, id: ConnId, trusted: bool) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if !trusted && !conn.home && conn.anonymous > 0 {
            conn.anonymous -= 1;
            let ip = conn.ip;
            self.anonymous = self.anonymous.saturating_sub(1);
            decrement(&mut self.anonymous_per_ip, ip);
        }
        conn.busy = conn.busy.saturating_sub(1);
        if conn.busy == 0 {
            self.waiting.insert(id, ());
        }
    }

    /// Connection `id` is gone.
    pub fn closed(&mut self, id: ConnId) {
        if self.conns.contains_key(&id) {
            self.remove(id);
        }
    }

    /// Connections held now: (the machine's own screen's, everyone else's).
    #[cfg(test)]
    pub fn held(&self) -> (usize, usize) {
        (self.count(|c| c.home), self.count(|c| !c.home))
    }

    /// Requests in flight without the token from outside.
    #[cfg(test)]
    pub fn anonymous(&self) -> usize {
        self.anonymous
    }

    fn count(&self, which: impl Fn(&Conn) -> bool) -> usize {
        self.conns.values().filter(|c| which(c)).count()
    }

    fn oldest_waiting(&self, which: impl Fn(&Conn) -> bool) -> Option<ConnId> {
        self.waiting
            .keys()
            .copied()
            .find(|id| self.conns.get(id).is_some_and(&which))
    }

    /// Forgets `id` entirely (its requests in flight with it); returns it.
    fn remove(&mut self, id: ConnId) -> ConnId {
        self.waiting.remove(&id);
        if let Some(conn) = self.conns.remove(&id) {
            if !conn.home {
                decrement(&mut self.per_ip, conn.ip);
            }
            for _ in 0..conn.anonymous {
                self.anonymous = self.anonymous.saturating_sub(1);
                decrement(&mut self.anonymous_per_ip, conn.ip);
            }
        }
        id
    }
}

/// The address a connection counts against: an IPv4 address, or an IPv6 address's /64 (one
/// host's share of addresses: anyone may use every address of their own /64).
fn address_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::from(octets)
        }
        v4 => v4,
    }
}

fn decrement(counts: &mut HashMap<IpAddr, usize>, ip: IpAddr) {
    if let Some(n) = counts.get_mut(&ip) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            counts.remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests;
