//! Live changes to the columns: an operator's new product, price or low-stock level written into
//! `machine.toml` (keeping its comments), booked with who asked, and in force from the next vend
//! without a restart; and loading a counted number of items.

use std::sync::Arc;

use super::config_files::rejection;
use super::requests::{ConfigRejection, IssueView};
use super::Controller;
use crate::config::{edit_column, ColumnEdit, MachineConfig, MACHINE_FILE};
use crate::model::ColumnSpec;
use crate::surprise::SurpriseConfig;
use crate::trace::TraceEntry;
use crate::vend::ColumnId;

/// What changed in a column, in words (`price €1.50 -> €1.30`), or nothing.
fn describe(old: &ColumnSpec, new: &ColumnSpec, currency: &str) -> Vec<String> {
    let mut changes = Vec::new();
    if old.product != new.product {
        changes.push(format!("product {} -> {}", old.product, new.product));
    }
    if old.price != new.price {
        changes.push(format!(
            "price {} -> {}",
            old.price.with_symbol(currency),
            new.price.with_symbol(currency)
        ));
    }
    if old.low_stock != new.low_stock {
        changes.push(format!(
            "low-stock alert at {} -> {}",
            old.low_stock, new.low_stock
        ));
    }
    changes
}

impl Controller {
    /// Change a column's product, price or low-stock level while the machine runs. The edit is
    /// written into `machine.toml` and validated exactly like the file (a field that fails is
    /// named), checked against the surprise config in force (a surprise may name the product),
    /// written back, booked (a config version and the change with who asked), and put in force:
    /// a vend under way keeps its price, the next one pays the new one.
    pub(super) fn edit_column(
        &mut self,
        column: ColumnId,
        edit: &ColumnEdit,
        source: &str,
    ) -> Result<(), ConfigRejection> {
        if edit.is_empty() {
            return Err(ConfigRejection::Malformed {
                message: "nothing to change: send product, price_cents or low_stock".into(),
            });
        }
        let index = column.index();
        // The file as it is on disk now, so that an edit made there is not written over.
        let base = self
            .files
            .read_machine()
            .unwrap_or_else(|| self.files.machine_text.clone());
        let pending = base != self.files.machine_text;
        if pending {
            self.disk_describes_the_columns_in_force(&base, index)?;
        }
        let text = edit_column(&base, index, edit)
            .map_err(|message| ConfigRejection::Malformed { message })?;
        let edited = MachineConfig::from_toml(&self.files.machine_path(), &text)
            .map_err(|e| rejection(&e))?;
        let (Some(new), Some(old)) = (edited.columns.get(index), self.config.columns.get(index))
        else {
            return Err(ConfigRejection::Malformed {
                message: format!("there is no column {column}"),
            });
        };
        let mut running = old.clone();
        running.product.clone_from(&new.product);
        running.price = new.price;
        running.low_stock = new.low_stock;
        let changes = describe(old, &running, &self.config.currency);
        if changes.is_empty() {
            return Ok(());
        }
        let mut columns = self.config.columns.clone();
        columns[index] = running.clone();
        self.surprises_still_hold(index, &columns)?;
        let detail = format!("column {column}: {} ({source})", changes.join(", "));
        self.files.write_machine(&text)?;
        let booked = self
            .journal
            .record_config(self.local, MACHINE_FILE, &text, source)
            .and_then(|_| {
                self.journal
                    .record_column_edit(self.local, column, &running.product, &detail)
            });
        if let Err(e) = booked {
            // Not booked, not in force: the file goes back to what the machine runs on.
            let _ = self.files.write_machine(&base);
            return Err(ConfigRejection::Storage {
                message: format!("not changed: the books could not record it: {e}"),
            });
        }
        self.core.set_sale(column, &running.product, running.price);
        let mut config = (*self.config).clone();
        config.columns = columns;
        self.config = Arc::new(config);
        self.files.machine_text = text;
        // Other edits made on disk still wait for a restart.
        self.files.restart_needed |= pending;
        tracing::info!("{detail}");
        let now = self.clock.now();
        self.record(now, TraceEntry::Operator { action: detail });
        Ok(())
    }

    /// A live edit goes into the file as it is on disk, by column number: that file must
    /// describe the columns in force, or the edit would put another column's product or price
    /// in force (a column added above column 1 on disk makes the file's column 1 another one).
    fn disk_describes_the_columns_in_force(
        &self,
        base: &str,
        index: usize,
    ) -> Result<(), ConfigRejection> {
        let conflict = |why: String| ConfigRejection::Conflict {
            message: format!(
                "{why}: machine.toml on disk has changes not in force; restart to put them in \
                 force (or undo them) before editing a column live"
            ),
        };
        let disk = MachineConfig::from_toml(&self.files.machine_path(), base)
            .map_err(|e| conflict(format!("it is not valid ({e})")))?;
        let running = &self.config.columns;
        let differs = |n: usize| match (disk.columns.get(n), running.get(n)) {
            (Some(on_disk), Some(in_force)) => {
                // Stock is counted live; everything else must be the same column.
                let mut same = on_disk.clone();
                same.stock = in_force.stock;
                (&same != in_force).then(|| {
                    format!(
                        "its column {} is {} at {}, the machine's is {} at {}",
                        n + 1,
                        on_disk.product,
                        on_disk.price.with_symbol(&disk.currency),
                        in_force.product,
                        in_force.price.with_symbol(&self.config.currency),
                    )
                })
            }
            _ => None,
        };
        // The column asked for first: that is the one the operator means.
        if let Some(why) = differs(index) {
            return Err(conflict(why));
        }
        if disk.columns.len() != running.len() {
            return Err(conflict(format!(
                "it has {} columns and the machine runs {}",
                disk.columns.len(),
                running.len()
            )));
        }
        if let Some(why) = (0..running.len()).find_map(differs) {
            return Err(conflict(why));
        }
        Ok(())
    }

    /// A surprise may name a column's product: the surprise config in force must still be valid
    /// with the edited columns.
    fn surprises_still_hold(
        &self,
        index: usize,
        columns: &[ColumnSpec],
    ) -> Result<(), ConfigRejection> {
        if self.files.surprises_text.trim().is_empty() {
            return Ok(());
        }
        SurpriseConfig::from_toml(
            &self.files.surprises_path(),
            &self.files.surprises_text,
            columns,
        )
        .map(|_| ())
        .map_err(|e| ConfigRejection::Invalid {
            issues: vec![IssueView {
                path: format!("columns[{index}].product"),
                line: None,
                message: format!(
                    "surprises.toml would no longer be valid with this change ({}); change it \
                     there first",
                    e.issues()
                        .first()
                        .map_or_else(|| e.to_string(), ToString::to_string)
                ),
            }],
        })
    }
}
