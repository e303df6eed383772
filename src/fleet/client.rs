//! The operator's side of the fleet: read every machine's state into the table, watch it live,
//! and send commands and wait for their replies, to one machine or many.

use std::collections::BTreeMap;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, Packet, QoS};
use serde_json::{json, Value};
use tokio::time::Instant;

use super::mqtt::{options, Credentials};
use super::protocol::{Topics, ROOT};
use super::view::FleetView;
use crate::config::{BrokerUrl, MachineId};

/// Where the fleet's broker is and how to log in.
#[derive(Debug, Clone)]
pub struct Broker {
    /// Its address.
    pub url: BrokerUrl,
    /// What to present.
    pub credentials: Credentials,
}

/// A connection with its subscriptions in place.
pub struct Connected {
    /// Publishes and subscriptions.
    pub client: AsyncClient,
    /// Must be polled for anything to happen.
    pub eventloop: EventLoop,
    /// Messages that came while the subscriptions were being confirmed (retained states come
    /// at once after the first), to be taken before any polled.
    pub early: Vec<rumqttc::Publish>,
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

impl Broker {
    /// Connect and subscribe to `topics`; returns once the broker confirmed them.
    pub async fn connect(&self, topics: &[String]) -> Result<Connected, String> {
        let opts = options(
            &unique("happiness-fleet"),
            &self.url,
            &self.credentials,
            Duration::from_secs(30),
        );
        let (client, mut eventloop) = AsyncClient::new(opts, 1024);
        for t in topics {
            client
                .subscribe(t.as_str(), QoS::AtLeastOnce)
                .await
                .map_err(|e| e.to_string())?;
        }
        let mut confirmed = 0;
        let mut early = Vec::new();
        let wait = async {
            while confirmed < topics.len() {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(a)))
                        if a.code != rumqttc::ConnectReturnCode::Success =>
                    {
                        return Err(format!("the broker refused the connection: {:?}", a.code));
                    }
                    Ok(Event::Incoming(Packet::SubAck(ack))) => {
                        if ack
                            .return_codes
                            .iter()
                            .any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure))
                        {
                            return Err("the broker refused a subscription (see its ACL)".into());
                        }
                        confirmed += 1;
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => early.push(p),
                    Ok(_) => {}
                    Err(e) => return Err(format!("cannot reach the broker at {}: {e}", self.url)),
                }
            }
            Ok(())
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .map_err(|_| format!("the broker at {} did not answer within 10 s", self.url))??;
        Ok(Connected {
            client,
            eventloop,
            early,
        })
    }

    /// The fleet as the retained states tell it: everything that arrives until `settle` passes
    /// with nothing new.
    pub async fn snapshot(&self, settle: Duration) -> Result<FleetView, String> {
        let mut c = self.connect(&[format!("{ROOT}/+/state")]).await?;
        let mut view = FleetView::new();
        for p in c.early.drain(..) {
            view.on_message(&p.topic, &p.payload);
        }
        loop {
            match tokio::time::timeout(settle, c.eventloop.poll()).await {
                Err(_) => break,
                Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                    view.on_message(&p.topic, &p.payload);
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(format!("connection lost: {e}")),
            }
        }
        let _ = c.client.try_disconnect();
        Ok(view)
    }

    /// Watch every machine's state and events, calling `changed` with the table whenever it
    /// changes, until the connection fails.
    pub async fn watch(&self, mut changed: impl FnMut(&FleetView)) -> Result<(), String> {
        let mut c = self
            .connect(&[format!("{ROOT}/+/state"), format!("{ROOT}/+/events")])
            .await?;
        let mut view = FleetView::new();
        for p in c.early.drain(..) {
            view.on_message(&p.topic, &p.payload);
        }
        changed(&view);
        loop {
            match c.eventloop.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if view.on_message(&p.topic, &p.payload) {
                        changed(&view);
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(format!("connection lost: {e}")),
            }
        }
    }

    /// Send `action` with `args` to each machine in `ids` and wait (up to `timeout` in all)
    /// for every reply. Each machine's reply, or why there is none.
    pub async fn send_many(
        &self,
        ids: &[MachineId],
        action: &str,
        args: &Value,
        timeout: Duration,
    ) -> Result<BTreeMap<MachineId, Result<Value, String>>, String> {
        let replies: Vec<String> = ids.iter().map(|id| Topics::of(id).reply).collect();
        let mut c = self.connect(&replies).await?;
        let mut waiting: BTreeMap<String, MachineId> = BTreeMap::new();
        for id in ids {
            let cmd_id = unique("cmd");
            let body = json!({ "id": cmd_id, "action": action, "args": args });
            c.client
                .publish(
                    Topics::of(id).cmd,
                    QoS::AtLeastOnce,
                    false,
                    serde_json::to_vec(&body).unwrap_or_default(),
                )
                .await
                .map_err(|e| e.to_string())?;
            waiting.insert(cmd_id, id.clone());
        }
        let mut answers = BTreeMap::new();
        let deadline = Instant::now() + timeout;
        while !waiting.is_empty() {
            let event = match tokio::time::timeout_at(deadline, c.eventloop.poll()).await {
                Err(_) => break,
                Ok(Ok(event)) => event,
                Ok(Err(e)) => return Err(format!("connection lost: {e}")),
            };
            let Event::Incoming(Packet::Publish(p)) = event else {
                continue;
            };
            let Ok(reply) = serde_json::from_slice::<Value>(&p.payload) else {
                continue;
            };
            let key = reply["id"].as_str().unwrap_or_default().to_string();
            // Only a reply on the machine's own topic answers its command.
            if let Some(id) = waiting
                .get(&key)
                .filter(|id| Topics::of(id).reply == p.topic)
            {
                let id = id.clone();
                waiting.remove(&key);
                answers.insert(id, Ok(reply));
            }
        }
        for id in waiting.into_values() {
            answers.insert(
                id,
                Err(format!(
                    "no reply within {} s (is it online?)",
                    timeout.as_secs()
                )),
            );
        }
        let _ = c.client.try_disconnect();
        Ok(answers)
    }

    /// Send one command and wait for its reply.
    pub async fn send(
        &self,
        id: &MachineId,
        action: &str,
        args: &Value,
        timeout: Duration,
    ) -> Result<Value, String> {
        let mut answers = self
            .send_many(std::slice::from_ref(id), action, args, timeout)
            .await?;
        answers
            .remove(id)
            .unwrap_or_else(|| Err("no reply".to_string()))
    }
}
