//! Answers as the spec lays them out, byte by byte.

use super::*;

#[test]
fn a_reader_that_was_reset_sends_just_reset_then_its_config() {
    // JUST RESET, then READER CONFIG DATA: level 2, euro (1978), scale 1, 2 decimals, 10 s,
    // options: refunds and cash sale.
    let data = [0x00, 0x01, 0x02, 0x19, 0x78, 0x01, 0x02, 0x0A, 0x09];
    let messages = Message::parse_all(&data, 1).expect("parsed");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0], Message::JustReset);
    let Message::Config(config) = messages[1] else {
        panic!("{messages:?}")
    };
    assert_eq!(
        (config.level, config.currency, config.scale, config.decimals),
        (2, 0x1978, 1, 2)
    );
    assert_eq!(config.max_response_s, 10);
    assert!(config.refunds() && config.takes_cash_sales());
}

#[test]
fn a_session_from_begin_to_end() {
    // BEGIN SESSION with 5.00 at level 1; FFFF is "funds unknown".
    assert_eq!(
        Message::parse_all(&[0x03, 0x01, 0xF4], 1),
        Ok(vec![Message::BeginSession {
            funds: Some(500),
            media_id: None
        }])
    );
    assert_eq!(
        Message::parse_all(&[0x03, 0xFF, 0xFF], 1),
        Ok(vec![Message::BeginSession {
            funds: None,
            media_id: None
        }])
    );
    // Level 2: media id 00 00 12 34, type 00, data 00 00.
    assert_eq!(
        Message::parse_all(
            &[0x03, 0x01, 0xF4, 0x00, 0x00, 0x12, 0x34, 0x00, 0x00, 0x00],
            2
        ),
        Ok(vec![Message::BeginSession {
            funds: Some(500),
            media_id: Some(0x1234)
        }])
    );
    assert_eq!(
        Message::parse_all(&[0x05, 0x00, 0x96], 2),
        Ok(vec![Message::VendApproved { amount: 150 }])
    );
    assert_eq!(
        Message::parse_all(&[0x06], 2),
        Ok(vec![Message::VendDenied])
    );
    assert_eq!(
        Message::parse_all(&[0x04, 0x07], 2),
        Ok(vec![Message::SessionCancelRequest, Message::EndSession])
    );
    assert_eq!(
        Message::parse_all(&[0x0A, 0x71], 2),
        Ok(vec![Message::Malfunction { code: 0x71 }])
    );
    assert_eq!(malfunction_text(0x71), "reader failure");
}

#[test]
fn the_peripheral_id_names_the_reader() {
    let mut data = vec![0x09];
    data.extend_from_slice(b"ABC");
    data.extend_from_slice(b"000012345678");
    data.extend_from_slice(b"READER-9    ");
    data.extend_from_slice(&[0x01, 0x23]);
    let parsed = Message::parse_all(&data, 2).expect("parsed");
    assert_eq!(
        parsed,
        vec![Message::PeripheralId {
            manufacturer: "ABC".into(),
            serial: "000012345678".into(),
            model: "READER-9".into(),
            version: 0x0123
        }]
    );
}

#[test]
fn short_and_unknown_messages_are_refused() {
    assert!(matches!(
        Message::parse_all(&[0x05, 0x00], 2),
        Err(CashlessError::Short { need: 3, .. })
    ));
    assert!(matches!(
        Message::parse_all(&[0x01, 0x02], 2),
        Err(CashlessError::Short { need: 8, .. })
    ));
    assert_eq!(
        Message::parse_all(&[0x42], 2),
        Err(CashlessError::Unknown(0x42))
    );
}

#[test]
fn commands_are_laid_out_as_the_spec_says() {
    assert_eq!(command::poll().code(), 0x12);
    assert_eq!(
        command::vend_request(150, 3).data(),
        &[0x00, 0x00, 0x96, 0x00, 0x03]
    );
    assert_eq!(command::vend_success(3).data(), &[0x02, 0x00, 0x03]);
    assert_eq!(command::vend_failure().data(), &[0x03]);
    assert_eq!(command::session_complete().data(), &[0x04]);
    assert_eq!(
        command::cash_sale(150, 3).data(),
        &[0x05, 0x00, 0x96, 0x00, 0x03]
    );
    assert_eq!(
        command::setup_config(16, 2).data(),
        &[0x00, 0x02, 16, 2, 0x01]
    );
    assert_eq!(
        command::setup_prices(500, 50).data(),
        &[0x01, 0x01, 0xF4, 0x00, 0x32]
    );
    assert_eq!(command::reader_enable().code(), 0x14);
    assert_eq!(command::request_id().data().len(), 30);
}

proptest::proptest! {
    /// Any bytes: messages or a refusal, never a panic.
    #[test]
    fn any_answer_is_parsed_or_refused(data in proptest::collection::vec(proptest::num::u8::ANY, 0..40), level in 1u8..=3) {
        let _ = Message::parse_all(&data, level);
    }
}
