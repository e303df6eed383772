//! The sealed tables of the books: each with its row id and the columns its seals cover. A
//! table added by a later migration is sealed by that migration (`super::install_table`).

/// A sealed table: its name, and its columns other than the row id (in declared order).
pub(in crate::journal) struct Sealed {
    pub(in crate::journal) table: &'static str,
    /// The column that is the row id, if the table names one.
    pub(in crate::journal) id: Option<&'static str>,
    pub(in crate::journal) columns: &'static [&'static str],
    /// Rows are only ever added (so ids run from 1 without gaps).
    pub(in crate::journal) append_only: bool,
}

/// Every table of the books, in the order the check reports them.
pub(in crate::journal) const SEALED: &[Sealed] = &[
    Sealed {
        table: "credit_events",
        id: Some("id"),
        columns: &["at", "kind", "amount", "credit_after"],
        append_only: true,
    },
    Sealed {
        table: "vends",
        id: Some("id"),
        columns: &[
            "kind",
            "column_no",
            "product",
            "price",
            "started_at",
            "attempts",
            "outcome",
            "reason",
            "ended_at",
            "surprise_id",
        ],
        append_only: true,
    },
    Sealed {
        table: "surprises",
        id: Some("id"),
        columns: &[
            "at",
            "vend_id",
            "name",
            "kind",
            "cost",
            "planned",
            "delivered",
            "status",
            "message",
        ],
        append_only: true,
    },
    Sealed {
        table: "payouts",
        id: Some("id"),
        columns: &["started_at", "planned", "paid", "finished"],
        append_only: true,
    },
    Sealed {
        table: "inventory",
        id: Some("column_no"),
        columns: &["product", "stock", "status", "reason", "updated_at"],
        append_only: false,
    },
    Sealed {
        table: "meta",
        id: None,
        columns: &["key", "value"],
        append_only: false,
    },
    Sealed {
        table: "events",
        id: Some("id"),
        columns: &["at", "kind", "column_no", "detail"],
        append_only: true,
    },
    Sealed {
        table: "config_versions",
        id: Some("id"),
        columns: &["at", "file", "source", "content", "diff"],
        append_only: true,
    },
    Sealed {
        table: "feedback",
        id: Some("id"),
        columns: &["at", "happy"],
        append_only: true,
    },
    Sealed {
        table: "audit_reads",
        id: Some("id"),
        columns: &["at", "reset", "reader", "counters"],
        append_only: true,
    },
    Sealed {
        table: "card_vends",
        id: Some("vend_id"),
        columns: &["reader"],
        append_only: true,
    },
];
