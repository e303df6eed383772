// The fleet page: the table of every machine, read from /api/fleet once a second.
(() => {
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem("happiness-token") || "";
  $("token").value = token;

  const money = (cents, symbol) => (symbol || "") + (cents / 100).toFixed(2);
  const text = (tag, content, cls) => {
    const el = document.createElement(tag);
    if (content !== undefined) el.textContent = content;
    if (cls) el.className = cls;
    return el;
  };
  const cell = (label, content, cls) => {
    const td = text("td", undefined, cls);
    td.dataset.label = label;
    if (content instanceof Node) td.appendChild(content); else td.textContent = content;
    return td;
  };
  const list = (items) => {
    if (!items.length) return document.createTextNode("-");
    const ul = document.createElement("ul");
    for (const item of items) ul.appendChild(text("li", item));
    return ul;
  };

  function render(fleet) {
    const rows = fleet.machines;
    $("broker-state").textContent = fleet.connected
      ? "live from " + fleet.broker
      : "not connected to " + fleet.broker + (fleet.error ? ": " + fleet.error : "");
    $("broker-state").className = fleet.connected ? "good" : "bad";
    const online = rows.filter((r) => r.online).length;
    $("totals").textContent = rows.length
      ? online + " of " + rows.length + " online · " +
        rows.reduce((n, r) => n + r.sales_today, 0) + " sales today"
      : "";
    $("empty").hidden = rows.length > 0;
    const body = $("fleet").querySelector("tbody");
    body.replaceChildren(...rows.map((r) => {
      const tr = text("tr", undefined, r.online ? "online" : "offline");
      tr.dataset.machine = r.id;
      const who = document.createElement("span");
      who.appendChild(text("strong", r.id));
      if (r.name) who.appendChild(text("span", r.name, "name"));
      tr.appendChild(cell("Machine", who));
      const state = document.createElement("span");
      state.appendChild(text("i", undefined, "dot " + (r.online ? "online" : "offline")));
      state.appendChild(document.createTextNode(r.online ? "online" : "offline"));
      tr.appendChild(cell("Online", state, "state"));
      // A machine known only by its last will has no figures to show.
      const known = r.name !== "" || r.sales_today > 0;
      const figure = (n, cents) => known ? n + " · " + money(cents, r.currency) : "-";
      tr.appendChild(cell("Last sale", r.last_sale || "-"));
      tr.appendChild(cell("Sales today", figure(r.sales_today, r.sales_value_today), "sales"));
      tr.appendChild(cell("Surprises today", figure(r.surprises_today, r.surprise_cost_today), "surprises"));
      const alerts = r.out_of_service ? [r.out_of_service].concat(r.alerts) : r.alerts;
      tr.appendChild(cell("Alerts", list(alerts), alerts.length ? "machine-alerts" : ""));
      tr.appendChild(cell("Faults", r.faults.length ? "column " + r.faults.join(", ") : "-", r.faults.length ? "faults" : ""));
      return tr;
    }));
  }

  async function refresh() {
    const headers = token ? { Authorization: "Bearer " + token } : {};
    try {
      const r = await fetch("/api/fleet", { headers });
      const body = await r.json();
      if (!r.ok) { $("auth-error").textContent = body.error || r.statusText; return; }
      $("auth-error").textContent = "";
      render(body);
    } catch (e) {
      $("auth-error").textContent = "the fleet page's server does not answer";
    }
  }

  $("login").addEventListener("click", () => {
    token = $("token").value.trim();
    sessionStorage.setItem("happiness-token", token);
    refresh();
  });
  $("token").addEventListener("keydown", (e) => { if (e.key === "Enter") $("login").click(); });
  refresh();
  setInterval(refresh, 1000);
})();
