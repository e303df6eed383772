// The operator's dashboard: the books over a period (GET /api/books?period=... or ?from=&to=),
// drawn as SVG charts that scale to the screen, with the figures in sentences beside them.
// Everything shown comes from the journal; nothing is computed here but the drawing.
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const KINDS = {
    extra_item: "extra items", share_pack: "share packs", gift: "gifts", show: "light shows",
    message: "messages",
  };

  function el(name, attrs, text) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // "2026-11-27 14:00:00" as a short label: "14:00" for hours, "27 Nov" for days.
  function label(start, bucket) {
    const [date, time] = start.split(" ");
    if (bucket === "hour") return time.slice(0, 5);
    const [, month, day] = date.split("-");
    return Number(day) + " " + MONTHS[Number(month) - 1];
  }

  // A round top for an axis: 1, 2 or 5 times a power of ten, at least `max`.
  function niceTop(max) {
    if (max <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(max)));
    for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
    return 10 * p;
  }

  const W = 380, H = 190, LEFT = 52, BOTTOM = 24, TOP = 10;

  // The frame of a chart: the svg, its grid and y labels. Returns the svg and a y scale.
  function frame(title, top, format, whole) {
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, class: "chart" });
    const y = (v) => TOP + (H - TOP - BOTTOM) * (1 - v / top);
    // Counts get whole-number lines only.
    const steps = whole && top < 2 ? 1 : 2;
    for (let i = 0; i <= steps; i++) {
      const v = (top * i) / steps;
      svg.appendChild(el("line", { x1: LEFT, x2: W, y1: y(v), y2: y(v), class: "grid" }));
      svg.appendChild(el("text", { x: LEFT - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, format(v)));
    }
    return { svg, y };
  }

  // x labels under the bars: at most about five, evenly spread.
  function xLabels(svg, rows, bucket, x, band) {
    const every = Math.max(1, Math.ceil(rows.length / 5));
    rows.forEach((r, i) => {
      if (i % every) return;
      svg.appendChild(el("text", { x: x(i) + band / 2, y: H - 8, "text-anchor": "middle", class: "axis" }, label(r.start, bucket)));
    });
  }

  // Bars, one per row, stacked from `series` ([{value, cls, name}]); a tooltip on each.
  function bars(title, rows, bucket, series, format, whole) {
    const totals = rows.map((r) => series.reduce((s, p) => s + p.value(r), 0));
    const top = niceTop(Math.max(0, ...totals));
    const { svg, y } = frame(title, top, format, whole);
    const band = (W - LEFT) / Math.max(rows.length, 1);
    const x = (i) => LEFT + i * band;
    rows.forEach((r, i) => {
      let base = 0;
      for (const p of series) {
        const v = p.value(r);
        if (v <= 0) continue;
        const rect = el("rect", {
          x: x(i) + band * 0.12, width: Math.max(band * 0.76, 1), y: y(base + v), height: y(base) - y(base + v), class: p.cls,
        });
        rect.appendChild(el("title", {}, label(r.start, bucket) + ": " + p.name(r)));
        svg.appendChild(rect);
        base += v;
      }
    });
    xLabels(svg, rows, bucket, x, band);
    return svg;
  }

  // Lines, one per series ([{value, cls, name}]), over the rows; a value of null (a bucket still
  // to come) ends the line.
  function lines(title, rows, bucket, series, format) {
    const top = niceTop(Math.max(0, ...rows.flatMap((r) => series.map((p) => p.value(r) || 0))));
    const { svg, y } = frame(title, top, format);
    const band = (W - LEFT) / Math.max(rows.length, 1);
    const x = (i) => LEFT + i * band;
    for (const p of series) {
      const points = rows.filter((r) => p.value(r) !== null)
        .map((r, i) => `${x(i) + band / 2},${y(p.value(r))}`).join(" ");
      svg.appendChild(el("polyline", { points, class: p.cls }));
    }
    rows.forEach((r, i) => {
      if (series.some((p) => p.value(r) === null)) return;
      const hit = el("rect", { x: x(i), width: band, y: TOP, height: H - TOP - BOTTOM, class: "hit" });
      hit.appendChild(el("title", {}, label(r.start, bucket) + ": " + series.map((p) => p.name(r)).join(", ")));
      svg.appendChild(hit);
    });
    xLabels(svg, rows, bucket, x, band);
    return svg;
  }

  function figure(title, chart, legend) {
    const f = document.createElement("figure");
    const cap = document.createElement("figcaption");
    cap.textContent = title;
    f.appendChild(cap);
    f.appendChild(chart);
    if (legend) {
      const l = document.createElement("div");
      l.className = "legend";
      for (const [cls, text] of legend) {
        const s = document.createElement("span");
        s.innerHTML = `<i class="${cls}"></i>`;
        s.appendChild(document.createTextNode(text));
        l.appendChild(s);
      }
      f.appendChild(l);
    }
    return f;
  }

  function sentence(name, text, cls) {
    const row = document.createElement("div");
    row.className = "figure-line" + (cls ? " " + cls : "");
    row.innerHTML = "<strong></strong> <span></span>";
    row.firstChild.textContent = name;
    row.lastChild.textContent = text;
    return row;
  }

  const items = (n) => n + (n === 1 ? " item" : " items");
  const pct = (x) => (x * 100).toFixed(x >= 0.995 || x === 0 ? 0 : 1) + "%";

  // The headline figures: what was sold, what surprises cost against the budget, whether
  // customers got what they paid for, and what they said.
  function headline(b, m, periodName) {
    const box = document.createElement("div");
    box.className = "figures";
    box.appendChild(sentence("Sold " + periodName + ":", `${items(b.sales.count)} for ${m(b.sales.value)}`));
    const share = b.sales.value ? ` (${pct(b.surprises.value / b.sales.value)} of sales)` : "";
    box.appendChild(sentence("Surprises:", `${b.surprises.count} given, costing ${m(b.surprises.value)}${share}`));
    const over = b.window_spend > b.window_budget;
    box.appendChild(sentence("Surprise budget:",
      `${m(b.window_spend)} spent of ${m(b.window_budget)} allowed over the last ${b.budget.window_hours} hours ` +
      `(${b.budget.percent}% of sales)` + (over ? ": over budget, surprises wait until sales catch up" : ""),
      over ? "bad" : ""));
    const p = b.promise;
    box.appendChild(sentence("Promise kept:", p.paid ?
      `${pct(p.ratio)}: ${p.delivered} of ${p.paid} paid vends delivered` + (p.refunded ? `, ${p.refunded} refunded to credit` : "") :
      "no paid vends yet", p.ratio !== null && p.ratio < 0.95 ? "bad" : ""));
    const r = b.recovery;
    box.appendChild(sentence("Made right:", r.offers ?
      `${r.offers} ${r.offers === 1 ? "offer" : "offers"} after a failure or an unhappy answer; ` +
      `${r.items} free ${r.items === 1 ? "item" : "items"} taken, worth ${m(r.value)}` +
      (r.lapsed ? `; ${r.lapsed} lapsed unused` : "") + " (apart from surprises)" :
      "nothing went wrong that needed making right"));
    box.appendChild(sentence("How was it?", `${b.feedback.happy} happy, ${b.feedback.unhappy} not happy`));
    return box;
  }

  // Columns that sold, refunded or faulted, worst first.
  function columnTable(b, m) {
    const t = document.createElement("table");
    t.className = "by-column";
    t.innerHTML = "<thead><tr><th>#</th><th>Product</th><th>Sold</th><th>Refunds</th><th>Faults</th></tr></thead><tbody></tbody>";
    for (const c of b.columns) {
      const tr = document.createElement("tr");
      tr.innerHTML = "<td></td><td></td><td></td><td></td><td></td>";
      tr.children[0].textContent = c.column;
      tr.children[1].textContent = c.product;
      tr.children[2].textContent = `${c.sales.count} (${m(c.sales.value)})`;
      tr.children[3].textContent = c.refunds;
      tr.children[4].textContent = c.faults;
      if (c.refunds || c.faults) tr.className = "attention";
      t.tBodies[0].appendChild(tr);
    }
    return t;
  }

  function draw(b, m, periodName) {
    const box = $("dashboard");
    box.innerHTML = "";
    box.appendChild(headline(b, m, periodName));
    const rows = b.series;
    const per = b.bucket === "hour" ? "per hour" : "per day";
    const charts = document.createElement("div");
    charts.className = "charts";
    charts.appendChild(figure("Sales " + per, bars("Sales " + per, rows, b.bucket, [
      { value: (r) => r.sales.value / 100, cls: "bar-sales", name: (r) => `${r.sales.count} sold, ${m(r.sales.value)}` },
    ], (v) => m(Math.round(v * 100)))));
    charts.appendChild(figure("Surprise spend against the budget", lines("Surprise spend against the budget", rows, b.bucket, [
      { value: (r) => r.window_budget === null ? null : r.window_budget / 100, cls: "line-budget", name: (r) => "budget " + m(r.window_budget) },
      { value: (r) => r.window_spend === null ? null : r.window_spend / 100, cls: "line-spend", name: (r) => "spent " + m(r.window_spend) },
    ], (v) => m(Math.round(v * 100))), [["line-spend", `spent over the last ${b.budget.window_hours} h`],
      ["line-budget", `budget: ${b.budget.percent}% of sales`]]));
    charts.appendChild(figure("Customer feedback " + per, bars("Customer feedback " + per, rows, b.bucket, [
      { value: (r) => r.feedback.happy, cls: "bar-happy", name: (r) => `${r.feedback.happy} happy` },
      { value: (r) => r.feedback.unhappy, cls: "bar-unhappy", name: (r) => `${r.feedback.unhappy} not happy` },
    ], (v) => String(Math.round(v)), true), [["bar-happy", "happy"], ["bar-unhappy", "not happy"]]));
    const kinds = b.surprises_by_kind.map((k) => ({ start: "", count: k.count, kind: k.kind, cost: k.cost }));
    const kindBox = document.createElement("figure");
    kindBox.innerHTML = "<figcaption>Surprises by kind</figcaption>";
    const list = document.createElement("div");
    list.className = "kinds";
    const most = Math.max(1, ...kinds.map((k) => k.count));
    for (const k of kinds) {
      const row = document.createElement("div");
      row.innerHTML = '<span class="kind"></span><span class="meter"><i></i></span><span class="n"></span>';
      row.querySelector(".kind").textContent = KINDS[k.kind] || k.kind;
      row.querySelector("i").style.width = (100 * k.count / most) + "%";
      row.querySelector(".n").textContent = `${k.count}, ${m(k.cost)}`;
      list.appendChild(row);
    }
    if (!kinds.length) list.textContent = "No surprises in this period.";
    kindBox.appendChild(list);
    charts.appendChild(kindBox);
    box.appendChild(charts);
    const cols = document.createElement("figure");
    cols.innerHTML = "<figcaption>By column</figcaption>";
    cols.appendChild(columnTable(b, m));
    box.appendChild(cols);
  }

  const NAMES = { today: "today", "7d": "in the last 7 days", "30d": "in the last 30 days" };
  let period = "today";

  // Read the books for the chosen period and draw them. `api` and `money` are the console's.
  async function refresh(api, money) {
    let path;
    let name;
    if (period === "custom") {
      const from = $("period-from").value, to = $("period-to").value;
      if (!from || !to) return;
      path = `/api/books?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
      name = `from ${from} to ${to}`;
    } else {
      path = "/api/books?period=" + period;
      name = NAMES[period];
    }
    const r = await api("GET", path);
    if (!r.ok) {
      $("dashboard-error").textContent = (r.data && r.data.error) || "the books could not be read";
      return;
    }
    $("dashboard-error").textContent = "";
    draw(r.data, money, name);
    $("export").href = "#";
    $("export").dataset.path = path.replace("/api/books", "/api/sales.csv");
  }

  function choose(api, money) {
    for (const b of document.querySelectorAll("#periods button")) {
      b.onclick = () => {
        period = b.dataset.period;
        for (const o of document.querySelectorAll("#periods button")) o.setAttribute("aria-pressed", String(o === b));
        $("custom-period").hidden = period !== "custom";
        refresh(api, money);
      };
    }
    $("period-show").onclick = () => refresh(api, money);
  }

  window.Dashboard = { refresh, choose };
})();
