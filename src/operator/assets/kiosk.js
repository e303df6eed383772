// The customer display: follows /api/kiosk/events and, on the simulator, drives the virtual
// machine front through /api/sim/*.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  let state = null;
  let lastSurprise = null;
  let answeredFor = null;

  function money(cents, currency) {
    return currency + (cents / 100).toFixed(2);
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  }

  function celebrate(message) {
    $("surprise-text").textContent = message;
    $("surprise").hidden = false;
    const colours = ["#ffd400", "#ffffff", "#e4002b", "#6bff8e", "#59c3ff"];
    for (let i = 0; i < 60; i++) {
      const c = document.createElement("div");
      c.className = "confetti";
      c.style.left = Math.random() * 100 + "vw";
      c.style.background = colours[i % colours.length];
      c.style.animationDelay = Math.random() * 0.8 + "s";
      document.body.appendChild(c);
      setTimeout(() => c.remove(), 3500);
    }
    setTimeout(() => { $("surprise").hidden = true; }, 3500);
  }

  // The machine is not selling (stopped, storage full, starting up) or cannot be reached: say so
  // and offer nothing to press.
  function outOfService(reason) {
    document.body.classList.add("out-of-service");
    $("display").textContent = reason;
    $("surprise").hidden = true;
    $("feedback").hidden = true;
    for (const b of document.querySelectorAll("#selections button")) b.disabled = true;
  }

  function render(s) {
    state = s;
    document.body.classList.remove("out-of-service");
    $("machine").textContent = s.machine;
    $("display").textContent = s.display;
    $("credit").textContent = money(s.credit, s.currency);
    $("lamps").innerHTML = ["ready", "vending", "fault", "surprise"]
      .map((r) => `<span class="lamp ${s.lamps_on.includes(r) ? "on" : ""}" title="${r}"></span>`)
      .join("");
    const grid = $("selections");
    grid.innerHTML = "";
    for (const sel of s.selections) {
      const div = document.createElement("div");
      div.className = "product" + (sel.sold_out ? " soldout" : "");
      div.innerHTML = `<div class="name"></div><div class="price"></div>`;
      div.querySelector(".name").textContent = sel.product;
      div.querySelector(".price").textContent = sel.sold_out ? "sold out" : money(sel.price, s.currency);
      if (s.simulated) {
        const b = document.createElement("button");
        b.className = "primary";
        b.id = "select-" + sel.button;
        b.textContent = "Choose " + sel.button;
        b.onclick = () => post("/api/sim/press/" + sel.button);
        div.appendChild(b);
      }
      grid.appendChild(div);
    }
    if (s.surprise && JSON.stringify(s.surprise) !== JSON.stringify(lastSurprise)) {
      celebrate(s.surprise[1]);
    }
    lastSurprise = s.surprise;
    const key = s.display;
    $("feedback").hidden = !(s.ask_feedback && answeredFor !== key);
    $("front").hidden = !s.simulated;
    if (s.simulated) {
      const coins = $("coins");
      if (coins.childElementCount !== s.coins.length) {
        coins.innerHTML = "";
        for (const c of s.coins) {
          const b = document.createElement("button");
          b.id = "coin-" + c;
          b.textContent = "Insert " + money(c, s.currency);
          b.onclick = () => post("/api/sim/coin/" + c);
          coins.appendChild(b);
        }
      }
      const tray = $("tray");
      tray.innerHTML = "";
      for (const item of s.tray) {
        const span = document.createElement("span");
        span.className = "tray-item";
        span.textContent = item;
        tray.appendChild(span);
      }
      $("returned").textContent = s.coins_returned ? s.coins_returned + " coins returned" : "";
    }
    if (s.out_of_service) outOfService(s.display || "Out of service");
  }

  function answer(happy) {
    answeredFor = state ? state.display : null;
    $("feedback").hidden = true;
    post("/api/kiosk/feedback", { happy: happy });
  }

  $("happy").onclick = () => answer(true);
  $("unhappy").onclick = () => answer(false);
  $("return").onclick = () => post("/api/sim/return");
  $("take").onclick = () => post("/api/sim/take");

  fetch("/api/kiosk/state").then((r) => r.json()).then(render).catch(() => {});
  const events = new EventSource("/api/kiosk/events");
  events.addEventListener("state", (e) => render(JSON.parse(e.data)));
  // The kiosk stopped (it says so first) or the connection is gone: a stopped machine sells
  // nothing. The browser reconnects by itself and the next state redraws the page.
  events.onerror = () =>
    outOfService(state && state.out_of_service ? state.display : "Out of service: sorry!");
})();
