//! Naming a port on the command line or in machine.toml: `sim` (the simulated peripherals),
//! `tcp:HOST:PORT` and `unix:PATH` (words as text lines over a socket), `uart:DEVICE` (the
//! Pi's UART, e.g. `uart:/dev/serial0`).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use happiness_hardware::mdb::{MdbPort, PortError};

use super::sim_port::SimPort;
use super::socket::SocketPort;
use crate::mdb::sim::SimBus;

/// A port, as named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortName {
    /// The simulated changer, validator and card reader in this process.
    Sim,
    /// A TCP socket to connect to.
    Tcp(String),
    /// A Unix socket to connect to.
    Unix(PathBuf),
    /// A UART device.
    Uart(PathBuf),
}

/// Why a port name is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` names no MDB port: write sim, tcp:HOST:PORT, unix:PATH or uart:DEVICE")]
pub struct BadPortName(pub String);

impl std::str::FromStr for PortName {
    type Err = BadPortName;

    fn from_str(s: &str) -> Result<PortName, BadPortName> {
        let bad = || BadPortName(s.chars().take(80).collect());
        match s.split_once(':') {
            None if s == "sim" => Ok(PortName::Sim),
            Some(("tcp", addr))
                if addr
                    .rsplit_once(':')
                    .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok()) =>
            {
                Ok(PortName::Tcp(addr.to_string()))
            }
            Some(("unix", path)) if !path.is_empty() => Ok(PortName::Unix(path.into())),
            Some(("uart", path)) if !path.is_empty() => Ok(PortName::Uart(path.into())),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for PortName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortName::Sim => f.write_str("sim"),
            PortName::Tcp(a) => write!(f, "tcp:{a}"),
            PortName::Unix(p) => write!(f, "unix:{}", p.display()),
            PortName::Uart(p) => write!(f, "uart:{}", p.display()),
        }
    }
}

/// Open the port `name`; for `sim`, onto `sim` (the devices a customer's hand reaches).
pub fn open_port(name: &PortName, sim: &Arc<Mutex<SimBus>>) -> Result<Box<dyn MdbPort>, PortError> {
    Ok(match name {
        PortName::Sim => Box::new(SimPort::new(Arc::clone(sim))),
        PortName::Tcp(addr) => {
            let stream = std::net::TcpStream::connect(addr)?;
            stream.set_nodelay(true)?;
            socket_port(name, stream)?
        }
        PortName::Unix(path) => socket_port(name, std::os::unix::net::UnixStream::connect(path)?)?,
        PortName::Uart(path) => Box::new(happiness_hardware::mdb::uart::PiUart::open(path)?),
    })
}

/// A connected stream socket the port can read, write and shut from other threads.
trait Stream: std::io::Read + std::io::Write + Send + Sized + 'static {
    fn duplicate(&self) -> std::io::Result<Self>;
    fn shut(&self);
}

impl Stream for std::net::TcpStream {
    fn duplicate(&self) -> std::io::Result<Self> {
        self.try_clone()
    }
    fn shut(&self) {
        let _ = self.shutdown(std::net::Shutdown::Both);
    }
}

impl Stream for std::os::unix::net::UnixStream {
    fn duplicate(&self) -> std::io::Result<Self> {
        self.try_clone()
    }
    fn shut(&self) {
        let _ = self.shutdown(std::net::Shutdown::Both);
    }
}

fn socket_port(name: &PortName, stream: impl Stream) -> Result<Box<dyn MdbPort>, PortError> {
    let reader = stream.duplicate()?;
    let closer = stream.duplicate()?;
    let port = SocketPort::new(name.to_string(), reader, stream, move || closer.shut())?;
    Ok(Box::new(port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_names_read_and_print_back() {
        for text in [
            "sim",
            "tcp:127.0.0.1:7000",
            "unix:/run/mdb.sock",
            "uart:/dev/serial0",
        ] {
            let name: PortName = text.parse().expect(text);
            assert_eq!(name.to_string(), text);
        }
        for bad in [
            "",
            "tcp:",
            "tcp:host",
            "tcp:host:99999",
            "uart:",
            "serial0",
            "sim:x",
        ] {
            assert!(bad.parse::<PortName>().is_err(), "{bad}");
        }
    }
}
