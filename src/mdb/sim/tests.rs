//! The simulated peripherals answer the spec's byte sequences.

use super::*;

fn send(bus: &mut SimBus, code: u8, data: &[u8]) -> Vec<Word> {
    let c = Command::new(code, data).expect("command");
    bus.receive(&c.words())
}

fn bytes(words: &[Word]) -> Vec<(u8, bool)> {
    words.iter().map(|w| (w.byte, w.mode)).collect()
}

#[test]
fn a_changer_answers_reset_then_just_reset_with_the_mode_bit_on_the_last_byte() {
    let mut bus = SimBus::full();
    // RESET: a lone ACK with the mode bit.
    assert_eq!(bytes(&send(&mut bus, 0x08, &[])), vec![(0x00, true)]);
    // POLL: CHANGER WAS RESET (0Bh), then its checksum, marked.
    assert_eq!(
        bytes(&send(&mut bus, 0x0B, &[])),
        vec![(0x0B, false), (0x0B, true)]
    );
    // The VMC's ACK; then POLL has nothing to say.
    assert!(bus.receive(&[Word::data(ACK)]).is_empty());
    assert_eq!(bytes(&send(&mut bus, 0x0B, &[])), vec![(0x00, true)]);
}

#[test]
fn ret_gets_the_same_answer_again_and_a_bad_checksum_gets_none() {
    let mut bus = SimBus::full();
    send(&mut bus, 0x08, &[]);
    let first = send(&mut bus, 0x0B, &[]);
    assert_eq!(bus.receive(&[Word::data(RET)]), first);
    let mut words = Command::new(0x0B, &[]).expect("poll").words();
    words[1].byte ^= 1;
    assert!(bus.receive(&words).is_empty());
}

#[test]
fn an_unplugged_device_and_an_unknown_address_say_nothing() {
    let mut bus = SimBus::full();
    if let Some(c) = bus.changer.as_mut() {
        c.plug(false);
    }
    assert!(send(&mut bus, 0x08, &[]).is_empty());
    assert!(send(&mut bus, 0x48, &[]).is_empty());
}

#[test]
fn garbled_answers_carry_a_wrong_checksum() {
    let mut bus = SimBus::full();
    bus.garble = 1;
    send(&mut bus, 0x30, &[]);
    let words = send(&mut bus, 0x33, &[]);
    assert_eq!(words.len(), 2);
    assert_ne!(words[1].byte, checksum_of(&[0x06]));
    let again = bus.receive(&[Word::data(RET)]);
    assert_eq!(again[1].byte, checksum_of(&[0x06]));
}

fn checksum_of(bytes: &[u8]) -> u8 {
    crate::mdb::wire::checksum(bytes)
}

#[test]
fn a_card_vend_is_held_then_charged_only_by_vend_success() {
    let mut bus = SimBus::full();
    send(&mut bus, 0x14, &[0x01]);
    let card = bus.card.as_mut().expect("card");
    assert!(card.tap(500));
    assert!(!card.tap(500), "one card at a time");
    send(&mut bus, 0x13, &[0x00, 0x00, 30, 0x00, 0x01]);
    let card = bus.card.as_ref().expect("card");
    assert!(card.is_holding());
    assert!(card.charged.is_empty());
    send(&mut bus, 0x13, &[0x03]);
    let card = bus.card.as_ref().expect("card");
    assert_eq!(card.refunded, vec![150]);
    assert!(card.charged.is_empty());
}
