//! The simulator at a terminal: a prompt with line editing and history (rustyline) on a thread
//! of its own, a printer that writes the machine's lines above the prompt, and the terminal put
//! back as it was however the kiosk stops.

use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::{DefaultEditor, ExternalPrinter};
use tokio::sync::mpsc;

/// Writes lines above the prompt while it waits for the person (plainly otherwise).
pub type Printer = Box<dyn ExternalPrinter + Send>;

/// The prompt: it reads a line only when asked, so that nothing is typed at a prompt while the
/// previous command is still running.
pub struct Prompt {
    go: std::sync::mpsc::Sender<()>,
    lines: mpsc::UnboundedReceiver<Result<String, String>>,
    asked: bool,
    _terminal: TerminalGuard,
}

impl Prompt {
    /// A prompt on the terminal, with its history in `history` (if it can be read and
    /// written), or `None` when stdin or stdout is not a terminal rustyline can drive.
    pub fn start(history: Option<PathBuf>) -> Option<(Prompt, Printer)> {
        let mut editor = DefaultEditor::new().ok()?;
        let printer = editor.create_external_printer().ok()?;
        if let Some(path) = &history {
            let _ = editor.load_history(path);
        }
        let terminal = TerminalGuard::save();
        let (go, asks) = std::sync::mpsc::channel::<()>();
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            while asks.recv().is_ok() {
                let line = match editor.readline("happiness> ") {
                    Ok(line) => {
                        if !line.trim().is_empty() {
                            let _ = editor.add_history_entry(line.as_str());
                            if let Some(path) = &history {
                                // A history that cannot be saved costs only the history.
                                let _ = editor.save_history(path);
                            }
                        }
                        Ok(line)
                    }
                    // Ctrl-C at the prompt stops the machine, as it does anywhere else.
                    Err(ReadlineError::Interrupted) => Ok("quit".to_string()),
                    Err(ReadlineError::Eof) => break,
                    Err(e) => Err(format!("cannot read the terminal: {e}")),
                };
                let failed = line.is_err();
                if tx.send(line).is_err() || failed {
                    break;
                }
            }
        });
        let prompt = Prompt {
            go,
            lines,
            asked: false,
            _terminal: terminal,
        };
        Some((prompt, Box::new(printer)))
    }

    /// The next line typed, or `None` when the person ended the input (Ctrl-D).
    pub async fn next(&mut self) -> Option<Result<String, String>> {
        if !self.asked {
            self.asked = self.go.send(()).is_ok();
        }
        let line = self.lines.recv().await;
        self.asked = false;
        line
    }
}

/// Where the prompt keeps its history: `~/.local/share/happiness/history`.
pub fn history_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let dir = PathBuf::from(home).join(".local/share/happiness");
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join("history"))
}

/// The terminal's settings from before the prompt, put back when dropped: a kiosk that stops
/// while the prompt waits (a signal, a failed controller) must not leave the terminal raw.
struct TerminalGuard(Option<nix::sys::termios::Termios>);

impl TerminalGuard {
    fn save() -> TerminalGuard {
        TerminalGuard(nix::sys::termios::tcgetattr(std::io::stdin()).ok())
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = nix::sys::termios::tcsetattr(
                std::io::stdin(),
                nix::sys::termios::SetArg::TCSANOW,
                saved,
            );
        }
    }
}
