// The live events for people: one sentence per thing that matters to an operator (a sale, a
// fault, a surprise, an operator's action, an alert), read from the trace stream, filterable.
// Motors, lamps and the display's every change are left out: they are in the trace for tools.
(function () {
  "use strict";
  const REASONS = {
    no_drop: "nothing dropped", jammed: "the spiral jammed", sensor_stuck: "the drop sensor is stuck",
    door_opened: "the door was opened",
  };
  const reason = (r) => REASONS[r] || String(r || "").replace(/_/g, " ");

  // A trace record as [category, sentence], or null for what an operator does not need.
  function describe(rec, m) {
    switch (rec.type) {
      case "alert":
        return ["alerts", rec.raised ? `Alert: ${rec.alert.text} ${rec.alert.action}` : `Resolved: ${rec.alert.text}`];
      case "operator":
        return ["operator", "Changed: " + rec.action];
      case "error":
        return ["faults", "Problem: " + rec.message];
      case "stopped":
        return ["faults", "The machine stopped."];
      case "selling":
        return ["operator", "The books checked out: the machine sells."];
      case "event":
        return operatorEvent(rec.event);
      case "command":
        return rec.command.command === "notice" ? notice(rec.command, m) : null;
      default:
        return null;
    }
  }

  function operatorEvent(e) {
    switch (e.kind) {
      case "restock": return ["operator", e.column ? `Column ${e.column} filled.` : "Every column filled."];
      case "load": return ["operator", `${e.count} loaded into column ${e.column}.`];
      case "reset_column": return ["operator", `Column ${e.column} put back in service.`];
      case "disable_column": return ["operator", `Column ${e.column} taken out of service.`];
      default: return null;
    }
  }

  function notice(n, m) {
    switch (n.notice) {
      case "credit_in": return ["sales", `Coin in: ${m(n.amount)} (credit ${m(n.credit)}).`];
      case "unknown_coin": return ["faults", `A coin was not recognised (${n.pulses} pulses): kept in the cash box.`];
      case "vend_delivered": return ["sales", `Sold: ${n.product} from column ${n.column} for ${m(n.price)}.`];
      case "vend_failed": return ["faults", `Column ${n.column} (${n.product}) failed: ${reason(n.reason)}; ${m(n.refunded)} went back to the customer's credit.`];
      case "column_faulted": return ["faults", `Column ${n.column} is out of order: ${reason(n.reason)}.`];
      case "sensor_fault": return ["faults", n.stuck ? `Drop sensor ${n.sensor + 1} is blocked.` : `Drop sensor ${n.sensor + 1} is clear again.`];
      case "unexpected_drop": return ["faults", `Something dropped past sensor ${n.sensor + 1} that nobody paid for.`];
      case "door": return ["operator", n.open ? "Service door opened." : "Service door closed."];
      case "payout_finished": return ["sales", `${n.coins} coins paid back to the customer.`];
      case "restocked": return ["operator", `Column ${n.column} now holds ${n.stock}.`];
      case "column_reset": return ["operator", `Column ${n.column} is in service.`];
      case "test_vend_started": return ["operator", `Test vend of column ${n.column} (${n.product}): no payment.`];
      case "test_vend_delivered": return ["operator", `Test vend: ${n.product} from column ${n.column} dropped.`];
      case "test_vend_failed": return ["faults", `Test vend of column ${n.column} failed: ${reason(n.reason)}.`];
      case "column_disabled": return ["operator", `Column ${n.column} is out of service.`];
      case "surprise_awarded": return ["surprises", n.origin === "secret" ?
        `Secret found: ${n.name} (${n.kind.replace(/_/g, " ")}), costing ${m(n.cost)}.` :
        `${n.origin === "gift" ? "Gift given" : "Surprise"}: ${n.name} (${n.kind.replace(/_/g, " ")}) after a ${columnWord(n.column)}, costing ${m(n.cost)}.`];
      case "recovery_offered": return ["surprises", n.offer === "free_item" ?
        `Made right: column ${n.column} failed, so the customer may choose any of column ${n.columns.join(", ")} free (up to ${m(n.allowance)}, for ${n.expires_s} s).` :
        `Made right: an apology after column ${n.column}${n.trigger === "unhappy" ? "'s unhappy customer" : " failed"}.`];
      case "recovery_taken": return ["surprises", `Made right: a free ${n.product} from column ${n.column} (worth ${m(n.value)}).`];
      case "recovery_lapsed": return ["surprises", `The free choice lapsed (${n.why.replace(/_/g, " ")}).`];
      case "surprise_completed": return n.partial ? ["surprises", `Surprise ${n.name} only partly handed out (${n.delivered} of ${n.planned}).`] : null;
      case "surprise_item_failed": return ["faults", `A surprise item from column ${n.column} failed: ${reason(n.reason)}.`];
      case "storage": return ["faults", n.full ? "The disk holding the books is full: nothing is sold." : "The disk has room again: selling."];
      default: return null;
    }
  }

  const columnWord = (c) => "sale from column " + c;

  // Follow the stream into `list` (newest first, at most `keep` lines), showing the categories
  // whose checkbox in `filters` is ticked.
  function follow(token, m, list, filters, keep) {
    const shown = () => new Set([...filters.querySelectorAll("input:checked")].map((i) => i.value));
    const apply = () => {
      const on = shown();
      for (const li of list.children) li.hidden = !on.has(li.dataset.category);
    };
    filters.addEventListener("change", apply);
    const add = (rec) => {
      const d = describe(rec, m);
      if (!d) return;
      const li = document.createElement("li");
      li.dataset.category = d[0];
      li.className = "ev-" + d[0];
      const time = document.createElement("time");
      time.textContent = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
      li.appendChild(time);
      li.appendChild(document.createTextNode(" " + d[1]));
      li.hidden = !shown().has(d[0]);
      list.insertBefore(li, list.firstChild);
      while (list.children.length > keep) list.lastChild.remove();
    };
    (async () => {
      try {
        const r = await fetch("/api/events", { headers: { Authorization: "Bearer " + token } });
        if (!r.ok || !r.body) return;
        const reader = r.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let i;
          while ((i = buffer.indexOf("\n\n")) >= 0) {
            const chunk = buffer.slice(0, i);
            buffer = buffer.slice(i + 2);
            const data = chunk.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5)).join("");
            if (!data) continue;
            try { add(JSON.parse(data)); } catch (_) { /* a line that is not a record */ }
          }
        }
      } catch (_) { /* the page was left or the server stopped */ }
    })();
  }

  window.LiveEvents = { follow, describe };
})();
