//! `[[campaigns]]`: promotions over named surprises, with their window, budget, awards, planned
//! sales and legal preset; a preset's limits are checked against every purchase the surprise can
//! fire on.

use super::super::raw::RawCampaign;
use super::{Checker, MAX_BUDGET_CENTS};
use crate::localtime::parse_bound;
use crate::money::Cents;
use crate::surprise::{Campaign, Preset, Surprise};

/// The most planned sales a campaign may state, in cents.
const MAX_PLANNED_CENTS: u64 = 1_000_000_000_000;

pub(super) fn campaigns(
    c: &mut Checker<'_>,
    raw: &[RawCampaign],
    catalogue: &mut [Surprise],
) -> Vec<Campaign> {
    let mut out = Vec::new();
    for (k, rc) in raw.iter().enumerate() {
        let path = format!("campaigns[{k}]");
        let before = c.issues.len();
        let name = rc.name.trim().to_string();
        if name.is_empty() || name.contains('\n') || name.chars().count() > 60 {
            c.issue(
                format!("{path}.name"),
                "must be one line of 1 to 60 characters",
            );
        } else if out
            .iter()
            .any(|o: &Campaign| o.name.eq_ignore_ascii_case(&name))
        {
            c.issue(
                format!("{path}.name"),
                format!("\"{name}\" is used by another campaign"),
            );
        }
        let start = parse_bound(&rc.start, false).map_err(|e| c.issue(format!("{path}.start"), e));
        let end = parse_bound(&rc.end, true).map_err(|e| c.issue(format!("{path}.end"), e));
        if let (Ok(s), Ok(e)) = (start, end) {
            if e <= s {
                c.issue(
                    format!("{path}.end"),
                    format!("{e} is not after the start {s}"),
                );
            }
        }
        let budget = c.cents(
            &format!("{path}.budget_cents"),
            rc.budget_cents,
            MAX_BUDGET_CENTS,
        );
        let max_awards = c.count(&format!("{path}.max_awards"), rc.max_awards, 1, 1_000_000);
        let planned_sales = rc
            .planned_sales_cents
            .map(|p| c.cents(&format!("{path}.planned_sales_cents"), p, MAX_PLANNED_CENTS));
        let preset = rc.preset.as_deref().and_then(|p| {
            let found = Preset::from_name(p);
            if found.is_none() {
                c.issue(
                    format!("{path}.preset"),
                    format!(
                        "\"{}\" is not a preset: use \"jp-general-lottery\" or \"jp-every-buyer\"",
                        p.chars().take(40).collect::<String>()
                    ),
                );
            }
            found
        });
        let members = members(c, &path, rc, catalogue, out.len());
        if let Some(p) = preset {
            preset_limits(c, &path, p, budget, planned_sales, &members, catalogue);
        }
        if let (true, Ok(start), Ok(end)) = (c.issues.len() == before, start, end) {
            out.push(Campaign {
                name,
                start,
                end,
                surprises: members.iter().map(|&i| catalogue[i].name.clone()).collect(),
                budget,
                max_awards,
                planned_sales,
                preset,
            });
        }
    }
    out
}

/// The catalogue entries a campaign names, each marked as the campaign's.
fn members(
    c: &mut Checker<'_>,
    path: &str,
    rc: &RawCampaign,
    catalogue: &mut [Surprise],
    index: usize,
) -> Vec<usize> {
    if rc.surprises.is_empty() {
        c.issue(format!("{path}.surprises"), "name at least one surprise");
    }
    let mut members = Vec::new();
    for (j, wanted) in rc.surprises.iter().enumerate() {
        let field = format!("{path}.surprises[{j}]");
        let Some(i) = catalogue
            .iter()
            .position(|s| s.name.eq_ignore_ascii_case(wanted.trim()))
        else {
            let known: Vec<&str> = catalogue.iter().map(|s| s.name.as_str()).collect();
            c.issue(
                field,
                format!(
                    "no surprise is called \"{}\" (the catalogue has: {})",
                    wanted.chars().take(60).collect::<String>(),
                    known.join(", ")
                ),
            );
            continue;
        };
        match catalogue[i].campaign {
            Some(other) if other != index => c.issue(
                field,
                format!(
                    "\"{}\" already belongs to campaigns[{other}]: a surprise is in one campaign at most",
                    catalogue[i].name
                ),
            ),
            _ => {
                catalogue[i].campaign = Some(index);
                if !members.contains(&i) {
                    members.push(i);
                }
            }
        }
    }
    members
}

/// A preset's limits: each prize against every purchase it can come with, and the total
/// against the planned sales.
fn preset_limits(
    c: &mut Checker<'_>,
    path: &str,
    preset: Preset,
    budget: Cents,
    planned: Option<Cents>,
    members: &[usize],
    catalogue: &[Surprise],
) {
    for &i in members {
        let s = &catalogue[i];
        let cheapest = c
            .columns
            .iter()
            .enumerate()
            .take(64)
            .filter(|(k, col)| {
                col.for_sale && s.when.columns & (1u64 << k) != 0 && col.price >= s.when.min_price
            })
            .map(|(_, col)| col.price)
            .min();
        let Some(price) = cheapest else { continue };
        let limit = preset.prize_limit(price);
        if s.cost > limit {
            c.issue(
                format!("{path}.preset"),
                format!(
                    "\"{}\" costs {} but {} allows at most {} with a purchase of {} (the cheapest it can come with)",
                    s.name,
                    s.cost.get(),
                    preset.as_str(),
                    limit.get(),
                    price.get()
                ),
            );
        }
    }
    if let Some(bps) = preset.total_bps() {
        let Some(planned) = planned else {
            c.issue(
                format!("{path}.planned_sales_cents"),
                format!(
                    "{} bounds all prizes by the planned sales: give planned_sales_cents",
                    preset.as_str()
                ),
            );
            return;
        };
        let most = u128::from(planned.get()) * u128::from(bps) / 10_000;
        if u128::from(budget.get()) > most {
            c.issue(
                format!("{path}.budget_cents"),
                format!(
                    "{} is more than {} allows: all prizes together at most {}% of planned_sales_cents {} ({most})",
                    budget.get(),
                    preset.as_str(),
                    bps / 100,
                    planned.get()
                ),
            );
        }
    }
}
