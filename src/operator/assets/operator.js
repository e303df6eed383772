// The operator console: everything through the token-protected API.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem("happiness-token") || "";
  $("token").value = token;

  async function api(method, path, body, contentType) {
    const headers = { Authorization: "Bearer " + token };
    if (body !== undefined) headers["Content-Type"] = contentType || "application/toml";
    const r = await fetch(path, { method, headers, body });
    let data = null;
    const text = await r.text();
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
    if (r.status === 401 || r.status === 403 || r.status === 429) {
      $("auth-error").textContent = (data && data.error) || "not authorised";
    } else {
      $("auth-error").textContent = "";
    }
    return { ok: r.ok, status: r.status, data };
  }

  let currency = "";
  let ledgerSeen = "";

  function money(cents, symbol) {
    return symbol + (cents / 100).toFixed(2);
  }

  async function refreshStatus() {
    const r = await api("GET", "/api/status");
    if (!r.ok) return;
    const s = r.data;
    $("machine").textContent = s.machine + " (" + s.hardware + ")";
    currency = s.currency;
    $("summary").textContent = "Credit held " + money(s.credit, s.currency) + " | service door " +
      (s.door_open ? "OPEN" : "closed") +
      (s.out_of_service ? " | NOT SELLING: " + s.out_of_service : "") +
      (s.restart_needed ? " | machine.toml changed: restart to apply" : "");
    // The books follow the money: after a sale, a refund or a payout they are read again.
    const ledger = JSON.stringify(s.ledger) + s.vends_finished;
    if (ledger !== ledgerSeen) {
      if (ledgerSeen) refreshDashboard();
      ledgerSeen = ledger;
    }
    $("config-error").textContent = s.last_config_error ? "Last config change refused: " + s.last_config_error : "";
    $("paused").textContent = s.surprises_held ? "surprises are held back: " + s.surprises_held :
      s.surprises_limited ? "surprises are on, but " + s.surprises_limited :
      "surprises are on (caps and budgets apply vend by vend)";
    $("paused").className = s.surprises_held ? "bad" : "muted";
    $("version").textContent = s.surprise_version ? "(version " + s.surprise_version + " in force)" : "";
    for (const z of document.querySelectorAll(".zone")) z.textContent = "(times in " + s.time_zone + ")";
    window.Columns.render(s, { api, refresh: refreshStatus });
    window.Happiness.render(s, { api, refresh: refreshStatus, money });
    showAlerts(s.alerts);
  }

  // What needs the operator, the most urgent first; each says what to do.
  function showAlerts(alerts) {
    const list = $("alerts");
    list.innerHTML = "";
    for (const a of alerts) {
      const li = document.createElement("li");
      li.className = "alert " + a.severity;
      li.innerHTML = "<strong></strong> <span></span> <time></time>";
      li.children[0].textContent = a.text;
      li.children[1].textContent = a.action;
      li.children[2].textContent = "since " + a.since.slice(0, 16);
      list.appendChild(li);
    }
    $("no-alerts").hidden = alerts.length > 0;
  }

  // What each kind of fault in the books means to an operator.
  const FAULTS = {
    column_fault: "failed vends (the column was taken out of service)",
    sensor_stuck: "drop sensor stuck",
    unexpected_drop: "items dropped that nobody paid for",
    interrupted: "vends interrupted by a power cut (refunded)",
    unknown_coin: "coins not recognised (kept by the acceptor)",
    storage_full: "times the disk was full",
  };

  function refreshDashboard() {
    return window.Dashboard.refresh(api, (cents) => money(cents, currency));
  }

  // The whole books, checked seal by seal: read at login and after a change, not after every
  // sale (the check reads the whole file).
  async function refreshBooks() {
    const r = await api("GET", "/api/books");
    if (!r.ok) return;
    const b = r.data;
    const m = (cents) => money(cents, currency);
    const list = (items, text) => items.length ? items.map(text).join("; ") : "none";
    const lines = [
      ["Money", "inserted " + m(b.money.inserted) + ", spent " + m(b.money.spent) + ", paid back " +
        m(b.money.paid_out) + ", held as credit " + m(b.money.held) +
        (b.money.balanced ? " (balanced to the cent)" : " (DOES NOT BALANCE: run happiness report)")],
      ["Sales", list(b.sales, (x) => `${x.product}: ${x.count} sold, ${m(x.amount)}`)],
      ["Refunds", list(b.refunds, (x) => `${x[1]} ${x[0] || "refunded"}, ${m(x[2])}`)],
      ["Surprises", list(b.surprises, (x) => `${x.name}: ${x.count}`) + "; they cost " + m(b.surprise_cost)],
      ["Faults", list(b.faults, (x) => (x.column ? "column " + x.column + ": " : "") + x.count + " " + (FAULTS[x.kind] || x.kind))],
      ["How was it?", `happy ${b.feedback[0]}, not happy ${b.feedback[1]}`],
    ];
    const box = $("books");
    box.innerHTML = "";
    for (const [name, text] of lines) {
      const row = document.createElement("div");
      row.innerHTML = "<strong></strong> <span></span>";
      row.firstChild.textContent = name + ":";
      row.lastChild.textContent = text;
      box.appendChild(row);
    }
  }

  // The policy fields and the TOML text are one document. A field the operator typed in is
  // "dirty": on save only dirty fields are written into the text, over the value alone (the
  // line's comment stays), so an edit made in the text is never overwritten by the form. An
  // edit in the text shows in the fields the operator has not touched.
  const dirty = new Set();
  const valueLine = (key) => new RegExp("^(\\s*" + key + "\\s*=\\s*)([^#\\n]*?)([ \\t]*(#[^\\n]*)?)$", "m");

  function readPolicy(text) {
    for (const input of document.querySelectorAll("#policy input")) {
      if (dirty.has(input.dataset.key)) continue;
      const m = text.match(valueLine(input.dataset.key));
      input.value = m ? m[2].trim() : "";
    }
  }

  function writePolicy(text) {
    for (const input of document.querySelectorAll("#policy input")) {
      const key = input.dataset.key;
      const value = input.value.trim();
      if (!dirty.has(key)) continue;
      const re = valueLine(key);
      if (re.test(text)) {
        text = text.replace(re, (_, head, _old, tail) => head + value + tail);
      } else if (value !== "") {
        text = text.replace(/^\[policy\][ \t]*$/m, "[policy]\n" + key + " = " + value);
      }
    }
    return text;
  }

  for (const input of document.querySelectorAll("#policy input")) {
    input.addEventListener("input", () => dirty.add(input.dataset.key));
  }
  // Enter in a field must not submit the form (the page's CSP allows no inline handler).
  $("policy").addEventListener("submit", (e) => e.preventDefault());
  $("text").addEventListener("input", () => readPolicy($("text").value));

  async function refreshSurprises() {
    const r = await api("GET", "/api/config/surprises");
    if (!r.ok) return;
    const inForce = r.data.version;
    dirty.clear();
    $("text").value = r.data.text;
    readPolicy(r.data.text);
    const v = await api("GET", "/api/config/surprises/versions");
    if (!v.ok) return;
    const body = $("versions").querySelector("tbody");
    body.innerHTML = "";
    for (const version of v.data.versions) {
      const tr = document.createElement("tr");
      tr.innerHTML = `<td>${version.version}</td><td></td><td></td><td></td>`;
      tr.children[1].textContent = version.at;
      tr.children[2].textContent = version.source;
      if (version.version === inForce) {
        tr.children[3].textContent = "in force";
      } else {
        const b = document.createElement("button");
        b.textContent = "roll back to this";
        b.onclick = async () => {
          const res = await api("POST", "/api/config/surprises/rollback/" + version.version);
          if (res.ok) { $("saved").textContent = "Version " + res.data.version + " applied"; refreshAll(); }
        };
        tr.children[3].appendChild(b);
      }
      body.appendChild(tr);
      if (version.diff) {
        const row = document.createElement("tr");
        row.innerHTML = '<td colspan="4"><details><summary>what changed</summary><pre></pre></details></td>';
        row.querySelector("pre").textContent = version.diff;
        body.appendChild(row);
      }
    }
  }

  // `surprises[3].column` with the surprise's name: `surprises[3] ("A flower").column`.
  function describePath(text, path) {
    const m = path.match(/^surprises\[(\d+)\](.*)$/);
    if (!m) return path;
    const blocks = text.split(/^\[\[surprises\]\][ \t]*$/m).slice(1);
    const name = (blocks[Number(m[1])] || "").match(/^\s*name\s*=\s*"([^"]*)"/m);
    return name ? `surprises[${m[1]}] ("${name[1]}")${m[2]}` : path;
  }

  // Select line `n` of the editor and scroll it into view.
  function markLine(n) {
    const area = $("text");
    const lines = area.value.split("\n");
    const start = lines.slice(0, n - 1).reduce((sum, l) => sum + l.length + 1, 0);
    const end = start + (lines[n - 1] || "").length;
    area.focus();
    area.setSelectionRange(start, end);
    const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 18;
    area.scrollTop = Math.max(0, (n - 4) * lineHeight);
    area.dataset.markedLine = String(n);
  }

  function clearErrors() {
    for (const span of document.querySelectorAll("[data-error-for]")) span.textContent = "";
    $("text-errors").textContent = "";
    delete $("text").dataset.markedLine;
  }

  async function save() {
    clearErrors();
    $("saved").textContent = "";
    const text = writePolicy($("text").value);
    $("text").value = text;
    const r = await api("PUT", "/api/config/surprises", text, "application/toml");
    if (r.ok) {
      $("saved").textContent = "Version " + r.data.version + " applied";
      refreshAll();
      return;
    }
    showIssues(r, text);
  }

  // What a policy would cost, before it is saved: simulated on last week's traffic.
  async function preview() {
    clearErrors();
    const out = $("preview-result");
    out.textContent = "Simulating a year of traffic...";
    const text = writePolicy($("text").value);
    const r = await api("POST", "/api/config/surprises/preview", text, "application/toml");
    if (!r.ok) {
      out.textContent = "";
      showIssues(r, text);
      return;
    }
    const p = r.data;
    out.textContent = `This policy would give ${p.per_day}, ${p.traffic}. ${p.rate}.` +
      (p.warnings.length ? " " + p.warnings.join(" ") : "");
  }

  // A refusal: each problem next to its field, or listed with its line under the editor.
  function showIssues(r, text) {
    if (r.data && r.data.issues) {
      const list = $("text-errors");
      let first = null;
      for (const issue of r.data.issues) {
        const span = document.querySelector(`[data-error-for="${issue.path}"]`);
        if (span) {
          span.textContent = issue.message;
          continue;
        }
        // The others are listed under the editor, each with its line; a click marks it.
        const b = document.createElement("button");
        b.className = "issue";
        b.textContent = (issue.line ? "line " + issue.line + ": " : "") +
          describePath(text, issue.path) + (issue.path ? ": " : "") + issue.message;
        if (issue.line) {
          b.onclick = () => markLine(issue.line);
          first = first || issue.line;
        }
        list.appendChild(b);
      }
      if (first) markLine(first);
    } else if (r.data && (r.data.message || r.data.error)) {
      $("text-errors").textContent = r.data.message || r.data.error;
    }
  }

  let following = false;
  function followEvents() {
    if (following) return;
    following = true;
    window.LiveEvents.follow(token, (cents) => money(cents, currency), $("events"), $("event-filters"), 200);
  }

  // The status first: the books are written in its currency.
  async function refreshAll() {
    await refreshStatus();
    refreshDashboard();
    refreshBooks();
    refreshSurprises();
  }

  $("login").onclick = () => {
    token = $("token").value.trim();
    sessionStorage.setItem("happiness-token", token);
    refreshAll();
    followEvents();
  };
  $("save").onclick = save;
  $("preview").onclick = preview;
  window.Dashboard.choose(api, (cents) => money(cents, currency));
  // Downloads need the token, so they are fetched here and handed to the browser as a file.
  async function download(method, path, name, failed) {
    const r = await fetch(path, { method, headers: { Authorization: "Bearer " + token } });
    if (!r.ok) {
      let why = "";
      try { why = (await r.json()).error || ""; } catch (_) { why = ""; }
      $("dashboard-error").textContent = failed + (why ? ": " + why : "");
      return false;
    }
    const url = URL.createObjectURL(await r.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    URL.revokeObjectURL(url);
    return true;
  }
  $("export").onclick = (e) => {
    e.preventDefault();
    const path = $("export").dataset.path || "/api/sales.csv?period=today";
    download("GET", path, "sales.csv", "the sales could not be exported");
  };
  const dexName = () => "audit-" + new Date().toISOString().slice(0, 16).replace(/[-:T]/g, "") + ".dex";
  $("audit").onclick = (e) => {
    e.preventDefault();
    download("GET", "/api/audit.dex", dexName(), "no audit file");
  };
  $("audit-reset").onclick = async () => {
    if (!confirm("Read the audit with reset? The interim counters start again from zero.")) return;
    if (await download("POST", "/api/audit/reset", dexName(), "no audit file")) {
      $("dashboard-error").textContent = "";
    }
  };
  $("pause").onclick = async () => { await api("POST", "/api/surprises/pause"); refreshStatus(); };
  $("resume").onclick = async () => { await api("POST", "/api/surprises/resume"); refreshStatus(); };

  if (token) { refreshAll(); followEvents(); }
  // Nothing is asked of the API before there is a token to ask with: a request without one
  // would only be refused.
  setInterval(() => { if (token) refreshStatus(); }, 3000);
})();
