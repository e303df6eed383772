//! Change from an MDB coin changer: one payout of the whole credit, the credit lowered by what
//! the changer says it paid, the rest kept and shown; a late or missing answer.

use crate::vend::CHANGE_WAIT;

use super::*;

fn with_changer(credit: u64) -> VendCore {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.start(ms(0));
    core.handle(ms(0), Event::Changer { ready: true });
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(credit),
        },
    );
    core
}

fn pay_commands(cmds: &[Command]) -> Vec<Command> {
    cmds.iter()
        .filter(|c| matches!(c, Command::PayChange { .. } | Command::Payout { .. }))
        .cloned()
        .collect()
}

#[test]
fn coin_return_pays_the_whole_credit_from_the_tubes() {
    let mut core = with_changer(200);
    let cmds = core.handle(ms(10), Event::CoinReturn);
    assert_eq!(
        pay_commands(&cmds),
        vec![Command::PayChange {
            amount: Cents::new(200)
        }]
    );
    assert!(core.is_paying_out());
    // Nothing is sold while the change is on its way.
    let cmds = core.handle(ms(20), Event::Select { column: col(1) });
    assert!(motors(&cmds).is_empty());
    let cmds = core.handle(
        ms(900),
        Event::ChangePaid {
            paid: Cents::new(200),
            owed: Cents::ZERO,
        },
    );
    assert!(notices(&cmds).contains(&Notice::CoinPaidOut {
        amount: Cents::new(200),
        credit: Cents::ZERO
    }));
    assert!(!core.is_paying_out());
    assert_eq!(core.credit(), Cents::ZERO);
    assert_eq!(core.ledger().returned, Cents::new(200));
    assert_conserved(&core);
}

#[test]
fn what_the_changer_could_not_pay_stays_credit_on_the_display() {
    let mut core = with_changer(200);
    core.handle(ms(10), Event::CoinReturn);
    let cmds = core.handle(
        ms(900),
        Event::ChangePaid {
            paid: Cents::new(150),
            owed: Cents::new(50),
        },
    );
    assert_eq!(core.credit(), Cents::new(50));
    assert!(screens(&cmds).contains(&Screen::CreditKept {
        credit: Cents::new(50)
    }));
    assert_conserved(&core);
}

#[test]
fn the_door_does_not_cut_a_changer_payout_short() {
    let mut core = with_changer(100);
    core.handle(ms(10), Event::CoinReturn);
    core.handle(ms(20), Event::Door { open: true });
    assert!(core.is_paying_out(), "the payout is one command under way");
    core.handle(
        ms(500),
        Event::ChangePaid {
            paid: Cents::new(100),
            owed: Cents::ZERO,
        },
    );
    assert_eq!(core.credit(), Cents::ZERO);
    assert_conserved(&core);
}

#[test]
fn an_answer_that_never_comes_keeps_the_credit_and_a_late_one_still_counts() {
    let mut core = with_changer(200);
    core.handle(ms(10), Event::CoinReturn);
    let wait = u64::try_from(CHANGE_WAIT.as_millis()).unwrap_or(0);
    core.poll(ms(10 + wait));
    assert!(!core.is_paying_out());
    assert_eq!(core.credit(), Cents::new(200));
    core.handle(
        ms(20 + wait),
        Event::ChangePaid {
            paid: Cents::new(200),
            owed: Cents::ZERO,
        },
    );
    assert_eq!(core.credit(), Cents::ZERO, "the coins did leave the tubes");
    assert_conserved(&core);
}

#[test]
fn without_a_changer_coin_return_uses_no_payout_command() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.start(ms(0));
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(100),
        },
    );
    let cmds = core.handle(ms(10), Event::CoinReturn);
    assert!(pay_commands(&cmds).is_empty());
    assert_eq!(core.credit(), Cents::new(100));
}
