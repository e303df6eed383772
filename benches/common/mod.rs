//! What more than one benchmark needs: writing a paid vend into a journal the way the kiosk does.

use happiness::journal::Journal;
use happiness::localtime::LocalTime;
use happiness::money::Cents;
use happiness::vend::{ColumnId, Notice};

/// Record one paid vend as the kiosk's steps would: a coin of 2.00 (one commit), the intent before
/// the motor (one commit) and the outcome with a restock, so that the column never runs dry (one
/// commit). `credit` is the credit before the coin; returns the credit after the vend.
pub fn record_paid_vend(
    journal: &mut Journal,
    t: LocalTime,
    column: ColumnId,
    product: &str,
    price: Cents,
    credit: Cents,
) -> Cents {
    let amount = Cents::new(200);
    let credit = credit.saturating_add(amount);
    let coin = Notice::CreditIn { amount, credit };
    journal.record(t, &[&coin], credit).expect("coin");
    let credit = credit.saturating_sub(price);
    let started = Notice::VendStarted {
        column,
        product: product.into(),
        price,
    };
    journal.record(t, &[&started], credit).expect("intent");
    let delivered = Notice::VendDelivered {
        column,
        product: product.into(),
        price,
    };
    let restock = Notice::Restocked { column, stock: 8 };
    journal
        .record(t, &[&delivered, &restock], credit)
        .expect("outcome");
    credit
}
