//! The payment devices on the MDB bus, as the controller sees them: each device's events become
//! the vend core's (a coin or a stacked bill is credit, a card session and its answers are the
//! card's), and the core's card commands and the acceptor's inhibit become requests to the bus
//! thread, applied between two exchanges.
//!
//! Owns: the link to the bus thread, and the escrow decision's inputs (credit, the limit, the
//! cheapest thing for sale, whether change can be paid). Must not touch: the words on the bus
//! (the `mdb` drivers'), any vending rule (the core's), the port (the `payments` module's).

use happiness_hardware::mdb::{MdbPort, PortError};
use happiness_hardware::Clock;
use tokio::sync::mpsc::UnboundedSender;

use super::{Controller, ControllerError, Request};
use crate::config::{CoinDevice, PaymentDevices};
use crate::mdb::bills::{should_stack, BillEvent, Bills};
use crate::mdb::coins::{CoinEvent, Coins};
use crate::mdb::master::{Master, MdbEvent};
use crate::mdb::reader::{Reader, ReaderEvent};
use crate::model::ColumnSpec;
use crate::money::Cents;
use crate::payments::Bus;
use crate::vend::{Command, Event};

/// The running bus, and the way back into the controller for what happens on its thread.
#[derive(Debug)]
pub struct PaymentsLink {
    bus: Bus,
    back: UnboundedSender<Request>,
    /// The devices up now, by name (`changer`, `bills`, `reader`).
    up: Vec<&'static str>,
}

impl PaymentsLink {
    /// Bring up the devices `devices` names on `port`, their events going to `requests` as
    /// [`Request::Mdb`]. The reader is told the machine's price range from `columns`. Every
    /// device starts refusing money: the controller enables them once it sells.
    pub fn start(
        devices: &PaymentDevices,
        columns: &[ColumnSpec],
        port: Box<dyn MdbPort>,
        clock: Clock,
        requests: UnboundedSender<Request>,
    ) -> Result<PaymentsLink, PortError> {
        let coins = (devices.coins == CoinDevice::Mdb).then(Coins::new);
        let bills = devices.bills.then(Bills::new);
        let reader = devices.cashless.then(|| {
            let prices = columns.iter().filter(|c| c.for_sale).map(|c| c.price);
            let min = prices.clone().min().unwrap_or(Cents::ZERO);
            let max = prices.max().unwrap_or(Cents::ZERO);
            Reader::new(min, max)
        });
        let sink = requests.clone();
        let bus =
            crate::payments::spawn(Master::new(coins, bills, reader), port, clock, move |e| {
                let _ = sink.send(Request::Mdb(e));
            })?;
        Ok(PaymentsLink {
            bus,
            back: requests,
            up: Vec::new(),
        })
    }

    /// Take money, or refuse it (the changer and the validator follow the coin inhibit).
    fn accept(&self, on: bool) {
        self.bus.request(Box::new(move |m, _| {
            if let Some(c) = m.coins() {
                c.accept(on);
            }
            if let Some(b) = m.bills() {
                b.accept(on);
            }
        }));
    }

    /// Have the changer pay `amount`; a payout it cannot start comes back as nothing paid.
    fn pay_change(&self, amount: Cents) {
        let back = self.back.clone();
        self.bus.request(Box::new(move |m, _| {
            let started = match m.coins() {
                Some(c) => c.pay(amount),
                None => Err("no coin changer".into()),
            };
            if let Err(why) = started {
                tracing::warn!("the change of {amount} could not be paid: {why}");
                let _ = back.send(Request::Mdb(MdbEvent::Coins(CoinEvent::Paid {
                    paid: Cents::ZERO,
                    owed: amount,
                })));
            }
        }));
    }

    /// Carry a card command of the core to the reader. A vend the reader cannot ask for (no
    /// session any more, a price it cannot write) comes back as a decline.
    fn card(&self, command: &Command) {
        let back = self.back.clone();
        match *command {
            Command::CardVend { column, price } => {
                let item = u16::try_from(column.number()).unwrap_or(u16::MAX);
                self.bus.request(Box::new(move |m, _| {
                    let refused = match m.reader() {
                        Some(r) => r.vend(price, item).err().map(|e| e.to_string()),
                        None => Some("no card reader".into()),
                    };
                    if let Some(why) = refused {
                        tracing::warn!("the card vend could not be asked for: {why}");
                        let _ = back.send(Request::Mdb(MdbEvent::Reader(ReaderEvent::Denied)));
                    }
                }));
            }
            Command::CardVendResult { dropped } => {
                self.bus.request(Box::new(move |m, _| {
                    if let Some(Err(e)) = m.reader().map(|r| r.vend_done(dropped)) {
                        tracing::warn!("the card vend's outcome could not be told: {e}");
                    }
                }));
            }
            Command::CardEndSession => {
                self.bus.request(Box::new(|m, _| {
                    if let Some(r) = m.reader() {
                        r.end_session();
                    }
                }));
            }
            Command::CardCashSale { column, price } => {
                let item = u16::try_from(column.number()).unwrap_or(u16::MAX);
                self.bus.request(Box::new(move |m, _| {
                    if let Some(r) = m.reader() {
                        r.cash_sale(price, item);
                    }
                }));
            }
            _ => {}
        }
    }

    /// Keep the bill in escrow or hand it back: kept only within the credit limit and when the
    /// change after the cheapest item can be paid (by the changer's tubes; with the hopper, in
    /// its coins; with neither, the rest stays credit for the next choice).
    fn settle_bill(
        &self,
        value: Cents,
        credit: Cents,
        limit: Cents,
        cheapest: Option<Cents>,
        hopper: Option<Cents>,
    ) {
        self.bus.request(Box::new(move |m, now| {
            let keep = {
                let changer = m.coins();
                let can_pay = |amount: Cents| match (&changer, hopper) {
                    (Some(c), _) => c.can_pay(amount),
                    (None, Some(coin)) => {
                        coin > Cents::ZERO && amount.get().is_multiple_of(coin.get())
                    }
                    (None, None) => true,
                };
                should_stack(value, credit, limit, cheapest, can_pay)
            };
            if let Some(b) = m.bills() {
                let done = if keep { b.stack(now) } else { b.give_back(now) };
                if let Err(e) = done {
                    tracing::warn!("the bill in escrow could not be settled: {e}");
                }
            }
        }));
    }
}

impl Controller {
    /// The payment devices on the bus that are up now (for the status).
    pub(super) fn payment_devices_up(&self) -> Vec<String> {
        self.payments
            .as_ref()
            .map(|p| p.up.iter().map(|d| (*d).to_string()).collect())
            .unwrap_or_default()
    }

    /// Note a device coming up or going away.
    fn device_up(&mut self, device: &'static str, up: bool) {
        if let Some(p) = self.payments.as_mut() {
            p.up.retain(|d| *d != device);
            if up {
                p.up.push(device);
                p.up.sort_unstable();
            }
        }
    }

    /// Attach the payment devices' bus (before the controller is installed).
    pub fn attach_payments(&mut self, link: PaymentsLink) {
        self.payments = Some(link);
    }

    /// A command of the core for the payment devices (none without a bus).
    pub(super) fn drive_payments(&mut self, command: &Command) {
        let Some(link) = &self.payments else { return };
        match command {
            Command::CoinInhibit { on } => link.accept(!on),
            Command::PayChange { amount } => link.pay_change(*amount),
            other => link.card(other),
        }
    }

    /// Something a payment device said.
    pub(super) fn on_mdb(&mut self, event: MdbEvent) -> Result<(), ControllerError> {
        let now = self.clock.now();
        match event {
            MdbEvent::Coins(e) => self.on_coins(now, e),
            MdbEvent::Bills(e) => self.on_bills(now, e),
            MdbEvent::Reader(e) => self.on_reader(now, e),
        }
    }

    fn on_coins(
        &mut self,
        now: happiness_hardware::Timestamp,
        e: CoinEvent,
    ) -> Result<(), ControllerError> {
        match e {
            CoinEvent::CoinIn { value, .. } => self.feed(now, Event::Coin { value }),
            CoinEvent::ReturnLever => self.feed(now, Event::CoinReturn),
            CoinEvent::Ready => {
                self.device_up("changer", true);
                self.device_event("changer_ready", "the coin changer is up")?;
                self.feed(now, Event::Changer { ready: true })
            }
            CoinEvent::Lost { why } => {
                self.device_up("changer", false);
                self.device_event("changer_lost", &why)?;
                self.feed(now, Event::Changer { ready: false })
            }
            CoinEvent::Fault { what } => self.device_event("changer_fault", &what),
            CoinEvent::ManualPayout { value } => self.device_event(
                "manual_payout",
                &format!("{value} paid out of the tubes by hand (not a customer's money)"),
            ),
            CoinEvent::Paid { paid, owed } => {
                if owed > Cents::ZERO {
                    self.device_event(
                        "change_short",
                        &format!(
                            "the changer paid {paid} and could not pay {owed}: it stays the \
                             customer's credit"
                        ),
                    )?;
                }
                self.feed(now, Event::ChangePaid { paid, owed })
            }
        }
    }

    fn on_bills(
        &mut self,
        now: happiness_hardware::Timestamp,
        e: BillEvent,
    ) -> Result<(), ControllerError> {
        match e {
            BillEvent::Escrowed { value } => {
                if let Some(link) = &self.payments {
                    let limit = self.config.max_credit;
                    let cheapest = if self.core.is_vending() || self.core.door_open() {
                        None
                    } else {
                        self.core.cheapest_for_sale()
                    };
                    let hopper = self.config.payout.map(|p| p.coin);
                    link.settle_bill(value, self.core.credit(), limit, cheapest, hopper);
                }
                Ok(())
            }
            BillEvent::Stacked { value } => self.feed(now, Event::Coin { value }),
            BillEvent::Returned { value } => {
                self.device_event("bill_returned", &format!("a {value} bill handed back"))
            }
            BillEvent::Rejected => Ok(()),
            BillEvent::Unsure { value } => self.device_event(
                "bill_unsure",
                &format!(
                    "a {value} bill was told to stack and the validator went silent: it may be \
                     in the stacker without being credited; count the cash box"
                ),
            ),
            BillEvent::Ready => {
                self.device_up("bills", true);
                self.device_event("validator_ready", "the bill validator is up")
            }
            BillEvent::Lost { why } => {
                self.device_up("bills", false);
                self.device_event("validator_lost", &why)
            }
            BillEvent::StackerFull => {
                self.device_event("stacker_full", "the bill stacker is full: empty it")
            }
            BillEvent::Fault { what } => self.device_event("validator_fault", &what),
        }
    }

    fn on_reader(
        &mut self,
        now: happiness_hardware::Timestamp,
        e: ReaderEvent,
    ) -> Result<(), ControllerError> {
        match e {
            ReaderEvent::Ready => {
                self.device_up("reader", true);
                self.device_event("reader_ready", "the card reader is up")?;
                self.feed(now, Event::CardReader { ready: true })
            }
            ReaderEvent::Lost { why } => {
                self.device_up("reader", false);
                self.device_event("reader_lost", &why)?;
                self.feed(now, Event::CardReader { ready: false })
            }
            ReaderEvent::Identified { id } => {
                self.journal.set_card_reader(Some(id));
                Ok(())
            }
            ReaderEvent::SessionBegun { funds } => self.feed(now, Event::CardSession { funds }),
            ReaderEvent::Approved { amount } => self.feed(now, Event::CardApproved { amount }),
            ReaderEvent::Denied => self.feed(now, Event::CardDenied),
            ReaderEvent::CancelRequested | ReaderEvent::SessionEnded => {
                self.feed(now, Event::CardSessionEnded)
            }
            ReaderEvent::Fault { what } => self.device_event("reader_fault", &what),
        }
    }

    /// A payment device's news for the operator: logged and kept in the books' events.
    fn device_event(&mut self, kind: &str, detail: &str) -> Result<(), ControllerError> {
        tracing::info!(kind, "{detail}");
        if self.starting.is_some() || self.halted.is_some() {
            return Ok(());
        }
        self.journal.record_event(self.local, kind, detail)?;
        Ok(())
    }
}
