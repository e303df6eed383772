// The columns table of the console: each row built once and updated in place (a field being
// typed in is never overwritten), with live edits of product, price and the low-stock alert
// (PATCH /api/columns/N), restocking with a count, putting a column in or out of service, and a
// service test vend (POST /api/columns/N/test-vend: no payment, booked as a test vend).
(function () {
  "use strict";
  const rows = new Map();

  function stateText(c) {
    const s = c.status.status;
    if (s === "in_service") return "in service";
    if (s === "faulted") return "out of order" + (c.status.reason ? ": " + c.status.reason.replace(/_/g, " ") : "");
    return s.replace(/_/g, " ");
  }

  // An input that saves itself with PATCH when the operator presses Enter or leaves it.
  function field(label, value, save, clean) {
    const input = document.createElement("input");
    input.type = "text";
    input.value = value;
    input.setAttribute("aria-label", label);
    input.dataset.saved = value;
    const commit = async () => {
      if (input.value.trim() === input.dataset.saved) {
        // Back to what is in force: nothing to save, nothing wrong.
        input.classList.remove("invalid");
        clean();
        return;
      }
      await save(input);
    };
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); commit(); } });
    input.addEventListener("change", commit);
    return input;
  }

  function build(c, ctx) {
    const tr = document.createElement("tr");
    tr.innerHTML = "<td></td><td></td><td></td><td></td><td></td><td></td><td class='row'></td><td class='row'></td>";
    tr.children[0].textContent = c.column;
    const error = document.createElement("div");
    error.className = "error";
    const clean = () => { if (!tr.querySelector("input.invalid")) error.textContent = ""; };
    const patch = async (input, body) => {
      error.textContent = "";
      const r = await ctx.api("PATCH", `/api/columns/${c.column}`, JSON.stringify(body), "application/json");
      if (r.ok) {
        input.dataset.saved = input.value.trim();
        input.classList.remove("invalid");
        ctx.refresh();
      } else {
        input.classList.add("invalid");
        const issues = r.data && r.data.issues;
        error.textContent = issues ? issues.map((i) => i.message).join("; ") : (r.data && (r.data.error || r.data.message)) || "not saved";
      }
    };
    const product = field(`Column ${c.column} product`, c.product, (i) => patch(i, { product: i.value.trim() }), clean);
    const price = field(`Column ${c.column} price`, (c.price / 100).toFixed(2), (i) => {
      const v = i.value.trim().replace(",", ".");
      if (!/^\d+(\.\d{1,2})?$/.test(v)) {
        error.textContent = "write the price like 1.30";
        i.classList.add("invalid");
        return Promise.resolve();
      }
      return patch(i, { price_cents: Math.round(Number(v) * 100) });
    }, clean);
    price.className = "short";
    const low = field(`Column ${c.column} low-stock alert`, String(c.low_stock), (i) => {
      if (!/^\d+$/.test(i.value.trim())) {
        error.textContent = "the alert level is a whole number of items";
        i.classList.add("invalid");
        return Promise.resolve();
      }
      return patch(i, { low_stock: Number(i.value.trim()) });
    }, clean);
    low.className = "short";
    tr.children[1].appendChild(product);
    tr.children[1].appendChild(error);
    // A test vend that went well is news, not an error.
    const note = document.createElement("div");
    note.className = "good";
    tr.children[1].appendChild(note);
    tr.children[2].appendChild(price);
    tr.children[4].appendChild(low);
    const count = document.createElement("input");
    count.type = "number";
    count.min = "1";
    count.placeholder = "fill";
    count.className = "short";
    count.setAttribute("aria-label", `Items loaded into column ${c.column} (empty fills it)`);
    const restock = document.createElement("button");
    restock.textContent = "restock";
    restock.onclick = async () => {
      error.textContent = "";
      const body = count.value.trim() ? JSON.stringify({ count: Number(count.value) }) : "";
      const r = await ctx.api("POST", `/api/columns/${c.column}/restock`, body || undefined, "application/json");
      if (!r.ok) error.textContent = (r.data && r.data.error) || "not restocked";
      else count.value = "";
      ctx.refresh();
    };
    tr.children[6].appendChild(count);
    tr.children[6].appendChild(restock);
    for (const action of ["enable", "disable"]) {
      const b = document.createElement("button");
      b.textContent = action;
      b.dataset.action = action;
      b.onclick = async () => { await ctx.api("POST", `/api/columns/${c.column}/${action}`); ctx.refresh(); };
      tr.children[7].appendChild(b);
    }
    const test = document.createElement("button");
    test.textContent = "test vend";
    test.dataset.action = "test";
    test.title = "Run one item through the column without payment (booked as a test vend)";
    test.onclick = async () => {
      error.textContent = "";
      note.textContent = "";
      test.disabled = true;
      test.textContent = "testing…";
      const r = await ctx.api("POST", `/api/columns/${c.column}/test-vend`);
      test.textContent = "test vend";
      test.disabled = false;
      if (!r.ok) error.textContent = (r.data && r.data.error) || "not tested";
      else if (r.data.outcome === "delivered" && r.data.fault) error.textContent = `test vend: ${r.data.product} dropped, but the column then failed (${String(r.data.fault).replace(/_/g, " ")})`;
      else if (r.data.outcome === "delivered") note.textContent = `test vend: ${r.data.product} dropped`;
      else error.textContent = `test vend FAILED (${String(r.data.reason).replace(/_/g, " ")}): the column is out of service`;
      ctx.refresh();
    };
    tr.children[7].appendChild(test);
    return { tr, product, price, low };
  }

  // Show the columns of `status`, updating rows in place.
  function render(status, ctx) {
    const body = document.querySelector("#columns tbody");
    for (const c of status.columns) {
      let row = rows.get(c.column);
      if (!row) {
        row = build(c, ctx);
        rows.set(c.column, row);
        body.appendChild(row.tr);
      }
      const set = (input, value) => {
        // What the operator is typing stays; what was saved follows the machine.
        if (document.activeElement === input || input.value.trim() !== input.dataset.saved) return;
        input.value = value;
        input.dataset.saved = value;
      };
      set(row.product, c.product);
      set(row.price, (c.price / 100).toFixed(2));
      set(row.low, String(c.low_stock));
      row.tr.children[3].textContent = `${c.stock} of ${c.capacity}`;
      row.tr.children[5].textContent = stateText(c);
      row.tr.classList.toggle("attention", c.status.status !== "in_service" || c.stock <= c.low_stock);
      for (const b of row.tr.children[7].querySelectorAll("button[data-action$='able']")) {
        b.disabled = (b.dataset.action === "enable") === (c.status.status === "in_service");
      }
    }
  }

  window.Columns = { render };
})();
