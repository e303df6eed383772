//! The report behind `happiness report`: money balance, sales, refunds, surprises, faults.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::seal::{self, SealReport};
use super::{cents, JournalError};
use crate::money::Cents;

/// The money balance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MoneyBalance {
    /// Every coin inserted.
    pub inserted: Cents,
    /// Cash credit spent on paid items the drop sensor saw delivered.
    pub spent: Cents,
    /// Charged to cards for paid items delivered (never credit: outside the cash balance).
    pub card: Cents,
    /// Paid back to customers by the payout hopper.
    pub paid_out: Cents,
    /// Still held: the controller's last recorded credit plus the escrow of an open vend.
    pub held: Cents,
    /// Held as the books compute it: inserted - spent - paid out.
    pub held_computed: Cents,
    /// Whether inserted = spent + paid out + held, to the cent.
    pub balanced: bool,
}

fn sum(conn: &Connection, sql: &str) -> rusqlite::Result<Cents> {
    conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
        .map(|v| cents(v.unwrap_or(0)))
}

pub(super) fn money_totals(conn: &Connection) -> Result<MoneyBalance, JournalError> {
    let inserted = sum(
        conn,
        "SELECT sum(amount) FROM credit_events WHERE kind = 'coin'",
    )?;
    let paid_out = sum(
        conn,
        "SELECT sum(amount) FROM credit_events WHERE kind = 'payout'",
    )?;
    let spent = sum(
        conn,
        "SELECT sum(price) FROM vends WHERE kind = 'paid' AND outcome = 'delivered' \
         AND id NOT IN (SELECT vend_id FROM card_vends)",
    )?;
    let card = sum(
        conn,
        "SELECT sum(price) FROM vends WHERE kind = 'paid' AND outcome = 'delivered' \
         AND id IN (SELECT vend_id FROM card_vends)",
    )?;
    // A card vend under way holds no cash: the card is charged only when the item drops.
    let escrow = sum(
        conn,
        "SELECT sum(price) FROM vends WHERE kind = 'paid' AND outcome IS NULL \
         AND id NOT IN (SELECT vend_id FROM card_vends)",
    )?;
    let recorded: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'credit'", [], |r| {
            r.get(0)
        })
        .optional()?;
    let recorded = cents(recorded.and_then(|v| v.parse().ok()).unwrap_or(0));
    let held = recorded.saturating_add(escrow);
    let held_computed = inserted.saturating_sub(spent).saturating_sub(paid_out);
    let balanced = inserted
        .checked_sub(spent)
        .and_then(|r| r.checked_sub(paid_out))
        == Some(held)
        && held == held_computed;
    Ok(MoneyBalance {
        inserted,
        spent,
        card,
        paid_out,
        held,
        held_computed,
        balanced,
    })
}

/// Sales of one product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductSales {
    /// Product.
    pub product: String,
    /// Items sold.
    pub count: u64,
    /// Revenue.
    pub amount: Cents,
}

/// Surprises of one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurpriseTotals {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Times awarded.
    pub count: u64,
    /// Total cost.
    pub cost: Cents,
    /// Items handed out.
    pub items: u64,
    /// Awards that ended partial.
    pub partial: u64,
}

/// Faults of one column (or of the whole machine, column `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultCount {
    /// Column number, or none for machine-wide events.
    pub column: Option<i64>,
    /// Kind of fault.
    pub kind: String,
    /// How often.
    pub count: u64,
}

/// One column's state in the books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryLine {
    /// Column number.
    pub column: i64,
    /// Product.
    pub product: String,
    /// Stock.
    pub stock: i64,
    /// "in_service" or "faulted".
    pub status: String,
    /// Why it is faulted.
    pub reason: Option<String>,
}

/// Everything `happiness report` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BooksReport {
    /// Money in and out, and whether it adds up.
    pub money: MoneyBalance,
    /// Sales per product.
    pub sales: Vec<ProductSales>,
    /// Sales per payment method ("cash", "card"): (method, count, amount).
    pub by_payment: Vec<(String, u64, Cents)>,
    /// Paid vends whose price went back to credit, per reason: (reason, count, amount).
    pub refunds: Vec<(String, u64, Cents)>,
    /// Card vends that did not deliver, so the card was not charged: (count, amount).
    pub card_not_charged: (u64, Cents),
    /// Surprises per name.
    pub surprises: Vec<SurpriseTotals>,
    /// Total surprise cost.
    pub surprise_cost: Cents,
    /// Failures made right (offers, free items, their value), apart from surprises.
    pub recovery: super::RecoveryTally,
    /// Faults.
    pub faults: Vec<FaultCount>,
    /// Vends a power cut interrupted.
    pub interrupted: u64,
    /// Vends of any kind with no outcome (only while a vend is under way).
    pub open_vends: u64,
    /// Coins the acceptor reported that no configured coin matches.
    pub unknown_coins: u64,
    /// Stock and state per column.
    pub inventory: Vec<InventoryLine>,
    /// Config versions recorded.
    pub config_versions: u64,
    /// Answers to "how was it?": (happy, not happy).
    pub feedback: (u64, u64),
    /// `PRAGMA integrity_check`.
    pub integrity: String,
    /// Every record checked against its seal.
    pub seals: SealReport,
}

/// Every row `sql` gives, mapped by `row`.
pub(super) fn all<T>(
    conn: &Connection,
    sql: &str,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    conn.prepare(sql)?.query_map([], row)?.collect()
}

/// A count column as an unsigned number (a negative count would be damage: read as 0).
fn count_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
}

/// Surprises per name and kind: awards, cost, items delivered, partial packs.
fn surprise_totals(conn: &Connection) -> rusqlite::Result<Vec<SurpriseTotals>> {
    all(
        conn,
        "SELECT name, kind, count(*), sum(cost), sum(delivered), sum(status = 'partial') \
         FROM surprises WHERE kind <> 'recovery' GROUP BY name, kind ORDER BY name",
        |r| {
            Ok(SurpriseTotals {
                name: r.get(0)?,
                kind: r.get(1)?,
                count: count_at(r, 2)?,
                cost: cents(r.get(3)?),
                items: count_at(r, 4)?,
                partial: count_at(r, 5)?,
            })
        },
    )
}

/// Faults (and the events an operator treats as faults) per column and kind.
fn fault_counts(conn: &Connection) -> rusqlite::Result<Vec<FaultCount>> {
    all(
        conn,
        "SELECT column_no, kind, count(*) FROM events WHERE kind IN \
         ('column_fault', 'sensor_stuck', 'unexpected_drop', 'interrupted', 'unknown_coin', \
         'storage_full') GROUP BY column_no, kind ORDER BY column_no, kind",
        |r| {
            Ok(FaultCount {
                column: r.get(0)?,
                kind: r.get(1)?,
                count: count_at(r, 2)?,
            })
        },
    )
}

pub(super) fn books_report(
    conn: &Connection,
    path: &Path,
    key: Option<&super::SealKey>,
) -> Result<BooksReport, JournalError> {
    // Before any figure is read: a commit made meanwhile only raises the books' count.
    let missing = super::mark::missing(conn, path)?;
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    let money = money_totals(conn)?;
    let sales = all(
        conn,
        "SELECT product, count(*), sum(price) FROM vends WHERE kind = 'paid' \
         AND outcome = 'delivered' GROUP BY product ORDER BY product",
        |r| {
            Ok(ProductSales {
                product: r.get(0)?,
                count: count_at(r, 1)?,
                amount: cents(r.get(2)?),
            })
        },
    )?;
    let by_payment = all(
        conn,
        "SELECT CASE WHEN id IN (SELECT vend_id FROM card_vends) THEN 'card' ELSE 'cash' END \
         AS payment, count(*), sum(price) FROM vends WHERE kind = 'paid' \
         AND outcome = 'delivered' GROUP BY payment ORDER BY payment DESC",
        |r| Ok((r.get::<_, String>(0)?, count_at(r, 1)?, cents(r.get(2)?))),
    )?;
    let refunds = all(
        conn,
        "SELECT coalesce(reason, ''), count(*), sum(price) FROM vends WHERE kind = 'paid' \
         AND outcome IN ('refunded', 'interrupted') \
         AND id NOT IN (SELECT vend_id FROM card_vends) GROUP BY reason ORDER BY reason",
        |r| Ok((r.get::<_, String>(0)?, count_at(r, 1)?, cents(r.get(2)?))),
    )?;
    let card_not_charged = conn.query_row(
        "SELECT count(*), sum(price) FROM vends WHERE kind = 'paid' \
         AND outcome IN ('refunded', 'interrupted') \
         AND id IN (SELECT vend_id FROM card_vends)",
        [],
        |r| {
            Ok((
                count_at(r, 0)?,
                cents(r.get::<_, Option<i64>>(1)?.unwrap_or(0)),
            ))
        },
    )?;
    let surprises = surprise_totals(conn)?;
    let faults = fault_counts(conn)?;
    let inventory = all(
        conn,
        "SELECT column_no, product, stock, status, reason FROM inventory ORDER BY column_no",
        |r| {
            Ok(InventoryLine {
                column: r.get(0)?,
                product: r.get(1)?,
                stock: r.get(2)?,
                status: r.get(3)?,
                reason: r.get(4)?,
            })
        },
    )?;
    let count = |sql: &str| conn.query_row(sql, [], |r| count_at(r, 0));
    Ok(BooksReport {
        money,
        sales,
        by_payment,
        refunds,
        card_not_charged,
        surprise_cost: surprises.iter().map(|s| s.cost).sum(),
        surprises,
        recovery: super::recovery::tally(conn, i64::MIN, i64::MAX)?,
        faults,
        interrupted: count("SELECT count(*) FROM vends WHERE outcome = 'interrupted'")?,
        open_vends: count("SELECT count(*) FROM vends WHERE outcome IS NULL")?,
        unknown_coins: count("SELECT count(*) FROM events WHERE kind = 'unknown_coin'")?,
        inventory,
        config_versions: count("SELECT count(*) FROM config_versions")?,
        feedback: (
            count("SELECT count(*) FROM feedback WHERE happy = 1")?,
            count("SELECT count(*) FROM feedback WHERE happy = 0")?,
        ),
        seals: {
            let mut seals = if integrity == "ok" {
                seal::check(conn, key)?
            } else {
                SealReport::default()
            };
            seals.problems.splice(0..0, missing);
            seals
        },
        integrity,
    })
}

impl BooksReport {
    /// The report for people.
    pub fn to_text(&self, currency: &str) -> String {
        let m = |c: Cents| c.with_symbol(currency);
        let mut out = String::new();
        self.write_money(&mut out, &m);
        self.write_sales(&mut out, &m);
        self.write_faults_and_stock(&mut out);
        self.write_integrity(&mut out);
        out
    }

    /// Money in and out, and whether it balances.
    fn write_money(&self, out: &mut String, m: &dyn Fn(Cents) -> String) {
        use std::fmt::Write as _;
        let b = &self.money;
        let _ = writeln!(out, "Money");
        let _ = writeln!(out, "  inserted            {:>12}", m(b.inserted));
        let _ = writeln!(out, "  spent on items      {:>12}", m(b.spent));
        if b.card > Cents::ZERO {
            let _ = writeln!(
                out,
                "  charged to cards    {:>12}  (outside the cash balance)",
                m(b.card)
            );
        }
        let _ = writeln!(out, "  paid back (coins)   {:>12}", m(b.paid_out));
        let _ = writeln!(out, "  still held (credit) {:>12}", m(b.held));
        let _ = writeln!(
            out,
            "  balance: {}",
            if b.balanced {
                "OK: inserted = spent + paid back + held".to_string()
            } else {
                format!(
                    "MISMATCH: the books compute {} held, the controller recorded {}",
                    m(b.held_computed),
                    m(b.held)
                )
            }
        );
    }

    /// Sales, refunds to credit and surprises.
    fn write_sales(&self, out: &mut String, m: &dyn Fn(Cents) -> String) {
        use std::fmt::Write as _;
        let _ = writeln!(out, "\nSales");
        for s in &self.sales {
            let _ = writeln!(
                out,
                "  {:<20} {:>6} x  {:>12}",
                s.product,
                s.count,
                m(s.amount)
            );
        }
        let _ = writeln!(out, "\nSales by payment");
        for (payment, n, amount) in &self.by_payment {
            let _ = writeln!(out, "  {payment:<20} {n:>6} x  {:>12}", m(*amount));
        }
        let _ = writeln!(out, "\nRefunds to credit");
        for (reason, n, amount) in &self.refunds {
            let _ = writeln!(out, "  {reason:<20} {n:>6} x  {:>12}", m(*amount));
        }
        let (n, amount) = self.card_not_charged;
        if n > 0 {
            let _ = writeln!(
                out,
                "  card vends not charged (the item did not drop) {n} x  {}",
                m(amount)
            );
        }
        let _ = writeln!(out, "\nSurprises (cost {})", m(self.surprise_cost));
        for s in &self.surprises {
            let _ = writeln!(
                out,
                "  {:<20} {:<10} {:>6} x  {:>10}  items {:>5}  partial {}",
                s.name,
                s.kind,
                s.count,
                m(s.cost),
                s.items,
                s.partial
            );
        }
        let r = &self.recovery;
        let _ = writeln!(out, "\nMade right (apart from surprises)");
        let _ = writeln!(
            out,
            "  offers {:>6}  (after a failed vend {}, after \"not happy\" {}, apologies only {})",
            r.offers, r.after_failure, r.after_unhappy, r.apologies
        );
        let _ = writeln!(
            out,
            "  free items {:>6} x  {:>10}  delivered {}  lapsed unused {}",
            r.items,
            m(r.value),
            r.delivered,
            r.lapsed
        );
    }

    /// Faults per column and the inventory.
    fn write_faults_and_stock(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = writeln!(out, "\nFaults");
        for f in &self.faults {
            let column = f.column.map_or("-".to_string(), |c| c.to_string());
            let _ = writeln!(out, "  column {column:<3} {:<16} {:>6}", f.kind, f.count);
        }
        let _ = writeln!(
            out,
            "  interrupted vends: {}   unknown coins: {}   vends open now: {}",
            self.interrupted, self.unknown_coins, self.open_vends
        );
        let _ = writeln!(out, "\nInventory");
        for i in &self.inventory {
            let _ = writeln!(
                out,
                "  [{}] {:<16} stock {:>4}  {}{}",
                i.column,
                i.product,
                i.stock,
                i.status,
                i.reason
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            );
        }
    }

    /// Config versions, the file's integrity and the seals.
    fn write_integrity(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = writeln!(
            out,
            "\nConfig versions recorded: {}   integrity: {}",
            self.config_versions, self.integrity
        );
        if self.seals.ok() {
            let _ = write!(
                out,
                "Seals: OK ({} records, none changed since written)",
                self.seals.records
            );
        } else {
            let _ = writeln!(
                out,
                "Seals: ALTERED: the books were changed outside the journal; first: {}",
                self.seals
                    .problems
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            );
            for p in self.seals.problems.iter().skip(1) {
                let _ = writeln!(out, "  also: {p}");
            }
        }
    }

    /// The exit code of `happiness report`, the same for text and JSON: 0 when the books are
    /// sound and balance, 4 when they do not balance, 5 when the file is damaged or a record was
    /// altered (which also makes any balance meaningless).
    pub fn exit_code(&self) -> u8 {
        if self.integrity != "ok" || !self.seals.ok() {
            5
        } else if !self.money.balanced {
            4
        } else {
            0
        }
    }
}
