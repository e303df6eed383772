//! `[alerts]`: when the operator is told that nothing has sold, and how near the surprise
//! budget counts as near.

use super::super::raw::RawAlerts;
use super::super::AlertRules;
use super::Validator;
use crate::localtime::TimeWindow;

/// `[alerts]`, checked.
pub(super) fn alerts(v: &mut Validator, a: &RawAlerts) -> AlertRules {
    let no_sale_hours = match u32::try_from(a.no_sale_hours) {
        Ok(n @ 0..=168) => n,
        _ => {
            v.issue(
                "alerts.no_sale_hours",
                format!(
                    "{} is not a number of hours from 0 (off) to 168",
                    a.no_sale_hours
                ),
            );
            0
        }
    };
    let hours = a.hours.parse::<TimeWindow>().unwrap_or_else(|problem| {
        v.issue("alerts.hours", problem);
        TimeWindow {
            start: 0,
            end: 1440,
        }
    });
    let budget_warn_percent = match u32::try_from(a.budget_warn_percent) {
        Ok(n @ 1..=100) => n,
        _ => {
            v.issue(
                "alerts.budget_warn_percent",
                format!(
                    "{} is not a percentage from 1 to 100",
                    a.budget_warn_percent
                ),
            );
            80
        }
    };
    AlertRules {
        no_sale_hours,
        hours,
        budget_warn_percent,
    }
}
