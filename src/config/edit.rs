//! Live edits of `machine.toml`: a column's product, price and low-stock level written into the
//! file's text, keeping its comments and layout (`toml_edit`). The result is validated like any
//! other text of the file by the caller; this module only writes.

use serde::Deserialize;

/// What an operator may change in a column while the machine runs. Pins and the number of
/// columns change only in the file, with a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnEdit {
    /// The product's name.
    pub product: Option<String>,
    /// The price, in the currency's minor unit.
    pub price_cents: Option<i64>,
    /// The stock at or below which the operator is told to restock.
    pub low_stock: Option<i64>,
}

impl ColumnEdit {
    /// A change as JSON (`{"price_cents": 130}`), or why it is not one.
    pub fn from_json(body: &[u8]) -> Result<ColumnEdit, String> {
        serde_json::from_slice(body).map_err(|e| {
            let mut message = format!("not a column change: {e}");
            if message.contains("unknown field") {
                message.push_str(
                    " (pins and the number of columns change only in machine.toml, with a \
                     restart)",
                );
            }
            message
        })
    }

    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.product.is_none() && self.price_cents.is_none() && self.low_stock.is_none()
    }
}

/// `text` (a `machine.toml`) with column `index` (0-based) edited. A value keeps its comment and
/// spacing; a field the column did not have is added to it.
pub fn edit_column(text: &str, index: usize, edit: &ColumnEdit) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| format!("machine.toml cannot be edited: it is not valid TOML: {e}"))?;
    let column = doc
        .get_mut("columns")
        .and_then(toml_edit::Item::as_array_of_tables_mut)
        .and_then(|columns| columns.get_mut(index))
        .ok_or_else(|| format!("machine.toml has no column {}", index + 1))?;
    if let Some(product) = &edit.product {
        set(column, "product", toml_edit::Value::from(product.trim()));
    }
    if let Some(price) = edit.price_cents {
        set(column, "price_cents", toml_edit::Value::from(price));
    }
    if let Some(low) = edit.low_stock {
        set(column, "low_stock", toml_edit::Value::from(low));
    }
    Ok(doc.to_string())
}

/// Set `key` to `value`, keeping the old value's decoration (the spaces and the comment after
/// it).
fn set(table: &mut toml_edit::Table, key: &str, value: toml_edit::Value) {
    match table.get_mut(key).and_then(toml_edit::Item::as_value_mut) {
        Some(old) => {
            let decor = old.decor().clone();
            *old = value;
            *old.decor_mut() = decor;
        }
        None => {
            table.insert(key, toml_edit::Item::Value(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# The machine.\n[[columns]]\nproduct = \"Cola\"   # the classic\nprice_cents = 150 # per can\n\n# Second.\n[[columns]]\nproduct = \"Water\"\nprice_cents = 100\n";

    #[test]
    fn an_edit_changes_the_value_and_keeps_every_comment() {
        let edit = ColumnEdit {
            price_cents: Some(130),
            ..ColumnEdit::default()
        };
        let text = edit_column(TEXT, 0, &edit).expect("edited");
        assert!(
            text.contains("price_cents = 130 # per can\n"),
            "the comment stays: {text}"
        );
        assert!(
            text.contains("product = \"Cola\"   # the classic"),
            "{text}"
        );
        assert!(text.contains("# The machine.") && text.contains("# Second."));
        let edit = ColumnEdit {
            product: Some(" Sparkling water ".into()),
            low_stock: Some(2),
            ..ColumnEdit::default()
        };
        let text = edit_column(&text, 1, &edit).expect("edited");
        assert!(text.contains("product = \"Sparkling water\"\n"), "{text}");
        assert!(
            text.contains("low_stock = 2"),
            "a new field is added: {text}"
        );
        let table: toml::Table = text.parse().expect("still TOML");
        assert_eq!(table["columns"][1]["low_stock"].as_integer(), Some(2));
    }

    #[test]
    fn a_name_with_quotes_is_written_as_a_toml_string() {
        let edit = ColumnEdit {
            product: Some("Say \"cheese\" \\ = # [x]".into()),
            ..ColumnEdit::default()
        };
        let text = edit_column(TEXT, 0, &edit).expect("edited");
        let table: toml::Table = text.parse().expect("still TOML");
        assert_eq!(
            table["columns"][0]["product"].as_str(),
            Some("Say \"cheese\" \\ = # [x]")
        );
    }

    #[test]
    fn a_missing_column_or_a_broken_file_is_named() {
        let edit = ColumnEdit {
            price_cents: Some(1),
            ..ColumnEdit::default()
        };
        assert!(edit_column(TEXT, 2, &edit)
            .expect_err("no column 3")
            .contains("no column 3"));
        assert!(edit_column("[[columns]\n", 0, &edit)
            .expect_err("broken")
            .contains("not valid TOML"));
    }
}
