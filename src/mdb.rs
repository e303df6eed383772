//! MDB, the Multi-Drop Bus (NAMA MDB/ICP 4.2), from the vending machine controller's side: the
//! bus that real machines use for their coin changer, bill validator and cashless (card) reader.
//!
//! Pure, in the style of the vend core: bytes and the time in, bytes and meanings out, no I/O.
//! Layout: `wire` (9-bit words, the checksum, commands and answers), `bus` (one exchange: the
//! 5 ms response window, the inter-byte limit, ACK/RET/NAK, attempts), and one module per device
//! class with its commands and the meaning of its answers: `changer` (coin changer, level 3),
//! `bill` (bill validator, levels 1 and 2), `cashless` (card reader, device #1); and the drivers
//! that bring a device up and carry its sessions: `reader` (the cashless reader), `coins` (the
//! coin changer: coins in, change paid and checked coin by coin), `bills` (the bill validator:
//! each bill held in escrow until the controller says stack or return). `master` shares the
//! bus between them, one exchange at a time. `sim` holds simulated peripherals that answer
//! the words as real ones do. `text` is the socket port's framing of words as lines, for
//! peripherals attached from outside.
//!
//! Owns: the protocol. Must not touch: ports (the UART, the simulator, a socket), credit, the
//! books.

pub mod bill;
pub mod bills;
pub mod bus;
pub mod cashless;
pub mod changer;
pub mod coins;
mod liveness;
pub mod master;
pub mod reader;
pub mod sim;
#[cfg(test)]
mod testing;
pub mod text;
pub mod wire;
