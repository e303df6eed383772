//! The kiosk's side of the fleet: one task beside the controller that keeps a connection to the
//! broker, publishes the machine's state (retained, at most once a second, with a last will
//! saying it went offline), sends the journal's outbox in order and clears what the broker
//! acknowledged, and answers commands on the machine's own `cmd` topic.
//!
//! Vending never waits for it: the link reads the status channel, asks the controller for outbox
//! copies between vend steps, and when the broker is away it only tries again, with a growing
//! pause, while the copies wait on disk. Each connection starts afresh (clean session): what was
//! in flight when one broke is sent again from the outbox, so the broker may see a copy twice,
//! always with its `seq`, and never misses one.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, LastWill, Outgoing, Packet, QoS};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::acks::{Acks, Tag};
use super::mqtt::{options, Credentials};
use super::protocol::{
    event_message, offline_state, parse_command, reply_err, MachineState, Topics,
};
use crate::config::FleetConfig;
use crate::controller::{Request, Status};
use crate::journal::{OutboxBacklog, OutboxEntry};
use crate::metrics::Metrics;
use crate::operator::actions::Actions;

/// Copies asked of the controller at a time.
const BATCH: usize = 256;
/// Ask for more once fewer than this are in flight.
const LOW_WATER: usize = 256;
/// The state is republished at most this often.
const STATE_EVERY: Duration = Duration::from_secs(1);
/// Delivered copies are cleared from the outbox at most this often (each clearing is a commit).
const CLEAR_EVERY: Duration = Duration::from_secs(1);
/// The longest pause between attempts to reach the broker.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How the link is doing, for the status pages and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LinkStatus {
    /// Connected to the broker now.
    pub connected: bool,
    /// Every record up to this sequence number is at the broker.
    pub delivered: u64,
    /// Records waiting in the outbox (as last read).
    pub waiting: u64,
    /// Why the last connection failed or ended, if it did.
    pub last_error: Option<String>,
    /// Messages dropped unread because they were too large.
    pub dropped: u64,
}

/// A running fleet link.
pub struct FleetLink {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    /// How the link is doing.
    pub status: watch::Receiver<LinkStatus>,
}

impl FleetLink {
    /// Start the link for a machine: `actions` carries out commands, `machine` is its status.
    /// Messages dropped for their size are counted in `metrics`, if given.
    pub fn start(
        config: FleetConfig,
        credentials: Credentials,
        actions: Actions,
        metrics: Option<Arc<Metrics>>,
    ) -> FleetLink {
        let (stop, stopped) = oneshot::channel();
        let (status_tx, status) = watch::channel(LinkStatus::default());
        let link = Link {
            topics: Topics::of(&config.id),
            config,
            credentials,
            machine: actions.status_channel(),
            actions,
            status: status_tx,
            delivered: 0,
            commands: Recent::default(),
            metrics,
        };
        let task = tokio::spawn(link.run(stopped));
        FleetLink {
            stop: Some(stop),
            task,
            status,
        }
    }

    /// Say goodbye to the broker (the state turns offline), within two seconds.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(Duration::from_secs(2), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

/// What a session's helpers hand back to it.
enum Msg {
    /// Outbox copies read (or why not).
    Batch(Result<(Vec<OutboxEntry>, OutboxBacklog), String>),
    /// A command's reply, to publish (and remember, by the command's id).
    Reply {
        /// The command's id, when it had one.
        id: Option<String>,
        /// The reply.
        reply: serde_json::Value,
    },
}

/// How a session ended.
enum Ended {
    /// Asked to stop.
    Stopped,
    /// The connection failed or broke (after a working connection, when `was_up`).
    Lost { error: String, was_up: bool },
}

struct Link {
    config: FleetConfig,
    credentials: Credentials,
    topics: Topics,
    actions: Actions,
    machine: watch::Receiver<Status>,
    status: watch::Sender<LinkStatus>,
    /// Every copy up to this one is at the broker (across connections).
    delivered: u64,
    /// Commands being carried out, and the latest replies, by command id.
    commands: Recent,
    /// Where dropped messages are counted for the operator.
    metrics: Option<Arc<Metrics>>,
}

/// The commands a link is carrying out and the replies it gave last, by command id: a command
/// that arrives again (a redelivery, an operator's retry) is answered with the reply already
/// given rather than carried out twice (a restock of 4 must not load 8).
#[derive(Debug, Default)]
struct Recent {
    /// Commands being carried out, each with the copies of it that arrived meanwhile (each
    /// gets the reply too).
    running: std::collections::HashMap<String, usize>,
    order: std::collections::VecDeque<String>,
    replies: std::collections::HashMap<String, serde_json::Value>,
}

/// Replies remembered for repeated commands.
const REMEMBERED: usize = 256;
/// Commands carried out at once; more get a refusal that says so.
const MAX_RUNNING: usize = 8;

/// What to do with a command that arrives.
#[derive(Debug, PartialEq)]
enum Arrival {
    /// Carry it out.
    Run,
    /// Answer again with this reply, already given.
    Repeat(serde_json::Value),
    /// It is being carried out: its reply will come.
    Running,
    /// Too many are being carried out.
    Busy,
}

impl Recent {
    fn arrive(&mut self, id: &str) -> Arrival {
        if let Some(reply) = self.replies.get(id) {
            return Arrival::Repeat(reply.clone());
        }
        if let Some(copies) = self.running.get_mut(id) {
            *copies += 1;
            return Arrival::Running;
        }
        if self.running.len() >= MAX_RUNNING {
            return Arrival::Busy;
        }
        self.running.insert(id.to_string(), 0);
        Arrival::Run
    }

    /// A command's reply: remembered, and how many times to send it (once, and once more for
    /// each copy that arrived while it ran).
    fn answered(&mut self, id: &str, reply: &serde_json::Value) -> usize {
        let Some(copies) = self.running.remove(id) else {
            return 1;
        };
        if self.order.len() >= REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.replies.remove(&old);
            }
        }
        self.order.push_back(id.to_string());
        self.replies.insert(id.to_string(), reply.clone());
        copies + 1
    }
}

/// A session's progress.
struct Session {
    client: AsyncClient,
    acks: Acks,
    tx: mpsc::UnboundedSender<Msg>,
    /// A read of the outbox is under way.
    fetching: bool,
    /// The outbox may hold copies not yet read.
    need_fetch: bool,
    /// The delivered mark not yet cleared from the outbox.
    to_clear: Option<u64>,
    clear_due: Instant,
    /// The state last published, and when.
    last_state: Option<MachineState>,
    state_at: Option<Instant>,
    /// The state changed since it was last published.
    state_dirty: bool,
    commits_seen: u64,
    waiting: u64,
}

impl Link {
    async fn run(mut self, mut stopped: oneshot::Receiver<()>) {
        let mut backoff = Duration::from_millis(250);
        loop {
            match self.session(&mut stopped).await {
                Ended::Stopped => return,
                Ended::Lost { error, was_up } => {
                    if was_up {
                        backoff = Duration::from_millis(250);
                    }
                    tracing::warn!(
                        broker = %self.config.broker,
                        "fleet link: {error}; trying again in {} ms (vending goes on, records \
                         wait in the outbox)",
                        backoff.as_millis()
                    );
                    self.status.send_modify(|s| {
                        s.connected = false;
                        s.last_error = Some(error);
                    });
                }
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = &mut stopped => return,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn client_id(&self) -> String {
        format!("happiness-{}", self.config.id)
    }

    /// Connect; Ok once the broker accepted the connection.
    async fn connect(&self, eventloop: &mut EventLoop) -> Result<(), String> {
        let wait = async {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                        return if ack.code == rumqttc::ConnectReturnCode::Success {
                            Ok(())
                        } else {
                            Err(format!("the broker refused the connection: {:?}", ack.code))
                        };
                    }
                    Ok(_) => {}
                    Err(e) => return Err(format!("cannot reach the broker: {e}")),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .unwrap_or_else(|_| Err("the broker did not answer within 10 s".into()))
    }

    async fn session(&mut self, stopped: &mut oneshot::Receiver<()>) -> Ended {
        let mut opts = options(
            &self.client_id(),
            &self.config.broker,
            &self.credentials,
            Duration::from_secs(u64::from(self.config.keep_alive_s)),
        );
        opts.set_last_will(LastWill::new(
            &self.topics.state,
            offline_state(&self.config.id),
            QoS::AtLeastOnce,
            true,
        ));
        let (client, mut eventloop) = AsyncClient::new(opts, 1024);
        tokio::select! {
            r = self.connect(&mut eventloop) => {
                if let Err(error) = r {
                    return Ended::Lost { error, was_up: false };
                }
            }
            _ = &mut *stopped => return Ended::Stopped,
        }
        tracing::info!(broker = %self.config.broker, id = %self.config.id, "fleet link up");
        if let Err(e) = client.try_subscribe(&self.topics.cmd, QoS::AtLeastOnce) {
            return Ended::Lost {
                error: e.to_string(),
                was_up: true,
            };
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut s = Session {
            client,
            acks: Acks::new(self.delivered),
            tx,
            fetching: false,
            need_fetch: true,
            to_clear: None,
            clear_due: Instant::now(),
            last_state: None,
            state_at: None,
            state_dirty: true,
            commits_seen: self.machine.borrow().journal_commits,
            waiting: 0,
        };
        self.status.send_modify(|st| {
            st.connected = true;
            st.last_error = None;
        });
        let ended = self.serve(&mut s, &mut eventloop, &mut rx, stopped).await;
        self.clear(&mut s);
        if matches!(ended, Ended::Stopped) {
            self.goodbye(&s, &mut eventloop).await;
        }
        ended
    }

    /// The session's loop, until the connection breaks or the link is stopped.
    async fn serve(
        &mut self,
        s: &mut Session,
        eventloop: &mut EventLoop,
        rx: &mut mpsc::UnboundedReceiver<Msg>,
        stopped: &mut oneshot::Receiver<()>,
    ) -> Ended {
        let far = || Instant::now() + Duration::from_secs(86_400);
        loop {
            self.fetch(s);
            if s.state_dirty && s.state_at.is_none_or(|t| t.elapsed() >= STATE_EVERY) {
                if let Err(error) = self.publish_state(s) {
                    return Ended::Lost {
                        error,
                        was_up: true,
                    };
                }
            }
            let state_due = match (s.state_dirty, s.state_at) {
                (true, Some(t)) => t + STATE_EVERY,
                _ => far(),
            };
            let clear_due = if s.to_clear.is_some() {
                s.clear_due
            } else {
                far()
            };
            tokio::select! {
                event = eventloop.poll() => match event {
                    Ok(event) => {
                        if let Err(error) = self.on_event(s, event) {
                            return Ended::Lost { error, was_up: true };
                        }
                    }
                    Err(e) => return Ended::Lost {
                        error: format!("connection lost: {e}"),
                        was_up: true,
                    },
                },
                Some(msg) = rx.recv() => {
                    if let Err(error) = self.on_msg(s, msg) {
                        return Ended::Lost { error, was_up: true };
                    }
                }
                changed = self.machine.changed() => {
                    if changed.is_err() {
                        // The controller is gone: say so to the broker.
                        return Ended::Stopped;
                    }
                    let commits = self.machine.borrow().journal_commits;
                    if commits != s.commits_seen {
                        s.commits_seen = commits;
                        s.need_fetch = true;
                    }
                    s.state_dirty = true;
                }
                () = tokio::time::sleep_until(state_due) => {}
                () = tokio::time::sleep_until(clear_due) => self.clear(s),
                _ = &mut *stopped => return Ended::Stopped,
            }
        }
    }

    /// Read more of the outbox when it may hold more and few copies are in flight.
    fn fetch(&self, s: &mut Session) {
        if !s.need_fetch || s.fetching || s.acks.in_flight() >= LOW_WATER {
            return;
        }
        s.need_fetch = false;
        s.fetching = true;
        let after = s.acks.last();
        let actions = self.actions.clone();
        let tx = s.tx.clone();
        tokio::spawn(async move {
            let read = actions
                .ask(|reply| Request::Outbox {
                    after,
                    limit: BATCH,
                    reply,
                })
                .await
                .map_err(|e| e.message())
                .and_then(|r| r);
            let _ = tx.send(Msg::Batch(read));
        });
    }

    fn on_event(&mut self, s: &mut Session, event: Event) -> Result<(), String> {
        match event {
            Event::Outgoing(Outgoing::Publish(pkid)) => s.acks.written(pkid),
            Event::Incoming(Packet::PubAck(ack)) => {
                if let Some(mark) = s.acks.acked(ack.pkid) {
                    self.delivered = mark;
                    if s.to_clear.is_none() {
                        s.clear_due = Instant::now() + CLEAR_EVERY;
                    }
                    s.to_clear = Some(mark);
                    if s.acks.in_flight() < LOW_WATER && s.waiting > 0 {
                        s.need_fetch = true;
                    }
                }
            }
            Event::Incoming(Packet::Publish(p)) => {
                if super::mqtt::too_large(&p.topic, p.payload.len()) {
                    self.status.send_modify(|s| s.dropped += 1);
                    if let Some(metrics) = &self.metrics {
                        metrics.fleet_message_dropped();
                    }
                    return Ok(());
                }
                // Only the machine's own command topic is obeyed, whatever the broker sends.
                if p.topic != self.topics.cmd {
                    tracing::warn!(topic = %p.topic, "fleet link: ignored a message on a topic that is not this machine's commands");
                    return Ok(());
                }
                // A retained command would come again with every subscription (every reconnect,
                // every restart) and be carried out each time: it is refused.
                if p.retain {
                    let id = parse_command(&p.payload).ok().map(|c| c.id);
                    let error = "a retained command is not carried out (it would be again at \
                                 every reconnect): publish commands without the retain flag";
                    return self.publish_reply(s, &reply_err(id.as_deref(), error, None));
                }
                let command = match parse_command(&p.payload) {
                    Ok(command) => command,
                    Err(bad) => {
                        let reply = reply_err(bad.id.as_deref(), &bad.error, None);
                        return self.publish_reply(s, &reply);
                    }
                };
                match self.commands.arrive(&command.id) {
                    Arrival::Run => {}
                    Arrival::Repeat(reply) => return self.publish_reply(s, &reply),
                    Arrival::Running => return Ok(()),
                    Arrival::Busy => {
                        let error = format!(
                            "busy: {MAX_RUNNING} commands are being carried out; send it again \
                             after their replies"
                        );
                        return self.publish_reply(s, &reply_err(Some(&command.id), &error, None));
                    }
                }
                let tx = s.tx.clone();
                let actions = self.actions.clone();
                tokio::spawn(async move {
                    let id = Some(command.id.clone());
                    let reply = super::command::at_most_once(&actions, command).await;
                    let _ = tx.send(Msg::Reply { id, reply });
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn on_msg(&mut self, s: &mut Session, msg: Msg) -> Result<(), String> {
        match msg {
            Msg::Batch(Ok((entries, backlog))) => {
                s.fetching = false;
                s.waiting = backlog.waiting;
                // A full batch, or copies left beyond it: read on.
                if entries.len() == BATCH {
                    s.need_fetch = true;
                }
                for e in entries {
                    let body = event_message(&self.config.id, e.seq, &e.payload);
                    s.client
                        .try_publish(&self.topics.events, QoS::AtLeastOnce, false, body)
                        .map_err(|e| format!("cannot hand an event to the client: {e}"))?;
                    s.acks.queued(Tag::Event(e.seq));
                }
                self.status.send_modify(|st| {
                    st.waiting = backlog.waiting;
                    st.delivered = self.delivered;
                });
            }
            Msg::Batch(Err(e)) => {
                s.fetching = false;
                tracing::warn!("fleet link: cannot read the outbox: {e}");
            }
            Msg::Reply { id, reply } => {
                let times = id
                    .as_deref()
                    .map_or(1, |id| self.commands.answered(id, &reply));
                for _ in 0..times {
                    self.publish_reply(s, &reply)?;
                }
            }
        }
        Ok(())
    }

    fn publish_reply(&self, s: &mut Session, reply: &serde_json::Value) -> Result<(), String> {
        let body = serde_json::to_vec(reply).unwrap_or_default();
        s.client
            .try_publish(&self.topics.reply, QoS::AtLeastOnce, false, body)
            .map_err(|e| format!("cannot hand a reply to the client: {e}"))?;
        s.acks.queued(Tag::Other);
        Ok(())
    }

    fn publish_state(&mut self, s: &mut Session) -> Result<(), String> {
        s.state_dirty = false;
        let state = MachineState::of(&self.config.id, &self.machine.borrow(), s.waiting);
        if s.last_state.as_ref() == Some(&state) {
            return Ok(());
        }
        let body = serde_json::to_vec(&state).unwrap_or_default();
        s.client
            .try_publish(&self.topics.state, QoS::AtLeastOnce, true, body)
            .map_err(|e| format!("cannot hand the state to the client: {e}"))?;
        s.acks.queued(Tag::Other);
        s.last_state = Some(state);
        s.state_at = Some(Instant::now());
        Ok(())
    }

    /// Clear what the broker has from the outbox.
    fn clear(&self, s: &mut Session) {
        if let Some(upto) = s.to_clear.take() {
            let _ = self.actions.send(Request::OutboxDelivered { upto });
            self.status.send_modify(|st| st.delivered = upto);
        }
    }

    /// A clean stop: the state turns offline, then the connection closes.
    async fn goodbye(&self, s: &Session, eventloop: &mut EventLoop) {
        let _ = s.client.try_publish(
            &self.topics.state,
            QoS::AtLeastOnce,
            true,
            offline_state(&self.config.id),
        );
        let _ = s.client.try_disconnect();
        let drain = async {
            while let Ok(event) = eventloop.poll().await {
                if matches!(event, Event::Outgoing(Outgoing::Disconnect)) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_command_gets_the_same_reply_and_runs_once() {
        let mut r = Recent::default();
        assert_eq!(r.arrive("a"), Arrival::Run);
        assert_eq!(r.arrive("a"), Arrival::Running);
        assert_eq!(r.arrive("a"), Arrival::Running);
        let reply = serde_json::json!({"id": "a", "ok": true});
        assert_eq!(
            r.answered("a", &reply),
            3,
            "once, and once for each copy meanwhile"
        );
        assert_eq!(r.arrive("a"), Arrival::Repeat(reply));
        for i in 0..MAX_RUNNING {
            assert_eq!(r.arrive(&format!("b{i}")), Arrival::Run);
        }
        assert_eq!(r.arrive("c"), Arrival::Busy);
        for i in 0..REMEMBERED + 1 {
            let id = format!("d{i}");
            r.running.insert(id.clone(), 0);
            r.answered(&id, &serde_json::json!(i));
        }
        assert_eq!(r.replies.len(), REMEMBERED);
        assert!(
            !r.replies.contains_key("a"),
            "the oldest reply is forgotten"
        );
    }
}
