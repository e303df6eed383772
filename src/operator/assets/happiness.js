// The happiness panel of the console: a gift for the next paying customer ("make their day",
// POST/DELETE /api/surprises/gift), each campaign against its budget and planned sales, and
// what making failures right has given since the kiosk started. Everything from the status.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  let ctx = null;
  let names = "";

  function options(catalogue) {
    const key = catalogue.join("\n");
    if (key === names) return;
    names = key;
    const select = $("gift-surprise");
    const chosen = select.value;
    select.innerHTML = "";
    for (const name of catalogue) {
      const o = document.createElement("option");
      o.value = name;
      o.textContent = name;
      select.appendChild(o);
    }
    if (catalogue.includes(chosen)) select.value = chosen;
    $("gift").disabled = catalogue.length === 0;
  }

  function campaigns(list, money) {
    const body = $("campaigns").querySelector("tbody");
    body.innerHTML = "";
    for (const c of list) {
      const tr = document.createElement("tr");
      const cells = [
        c.name + (c.preset ? " (" + c.preset + ")" : ""),
        c.state + ": " + c.start.slice(0, 16) + " to " + c.end.slice(0, 16),
        c.awards + " of " + c.max_awards,
        money(c.cost) + " of " + money(c.budget) + " (" + c.budget_used_percent.toFixed(0) + "%)",
        c.planned_sales ? c.cost_of_planned_percent.toFixed(2) + "% of " + money(c.planned_sales) : "-",
      ];
      for (const text of cells) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      }
      if (c.budget_used_percent >= 100 || c.awards >= c.max_awards) tr.className = "bad";
      body.appendChild(tr);
    }
    $("campaigns").hidden = list.length === 0;
    $("no-campaigns").hidden = list.length > 0;
  }

  async function give() {
    const body = JSON.stringify({ surprise: $("gift-surprise").value, override_caps: $("gift-override").checked });
    const r = await ctx.api("POST", "/api/surprises/gift", body, "application/json");
    $("gift-state").textContent = r.ok ? "" : (r.data && r.data.error) || "not given";
    $("gift-state").className = r.ok ? "muted" : "error";
    ctx.refresh();
  }

  async function cancel() {
    await ctx.api("DELETE", "/api/surprises/gift");
    ctx.refresh();
  }

  function render(s, c) {
    if (!ctx) {
      $("gift").addEventListener("click", give);
      $("gift-cancel").addEventListener("click", cancel);
    }
    ctx = c;
    const money = (cents) => c.money(cents, s.currency);
    options(s.catalogue);
    const g = s.gift_waiting;
    $("gift-cancel").hidden = !g;
    if (g) {
      $("gift-state").className = "good";
      $("gift-state").textContent = "\u201c" + g.surprise + "\u201d waits for the next paying customer" +
        (g.override_caps ? ", even beyond the caps and budgets" : ", within the caps and budgets") + ".";
    } else if ($("gift-state").className === "good") {
      $("gift-state").textContent = "";
    }
    campaigns(s.campaigns, money);
    const r = s.recovery;
    $("made-right").textContent = r.offers ?
      r.offers + (r.offers === 1 ? " offer" : " offers") + " to make a failure right; " + r.taken +
      " free " + (r.taken === 1 ? "item" : "items") + " taken, worth " + money(r.cost) + "." :
      "No failure has needed making right.";
  }

  window.Happiness = { render };
})();
