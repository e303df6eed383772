// The customer's screen: follows /api/kiosk/events in the customer's language, reveals
// surprises, asks "how was it?" once per vend, and after a minute without customers shows the
// attract screen. On the simulator it also drives the virtual machine front (/api/sim/*).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  // Seconds without a customer before the attract screen (`?attract=5` to try it quickly).
  const ATTRACT_MS = Math.max(1, Number(params.get("attract")) || 60) * 1000;
  const FEEDBACK_MS = 10000;
  const THANKS_MS = 3500;
  const REVEAL_MIN_MS = 4000;

  let lang = params.get("lang") || "";
  let defaultLang = "";
  let strings = {};
  let state = null;
  let events = null;
  let gridKey = "";
  let coinsKey = "";
  let trayKey = "";
  let feedbackShownFor = null;
  let feedbackDoneFor = null;
  let feedbackTimer = null;
  let thanksTimer = null;
  let revealedFor = null;
  let revealTimers = [];
  let lastActivity = Date.now();

  const ICONS = {
    bottle: '<svg viewBox="0 0 48 48"><path fill="#ffd400" d="M20 3h8v9c0 3 6 6 6 13v17c0 2-2 3-3 3H17c-1 0-3-1-3-3V25c0-7 6-10 6-13z"/><rect x="14" y="26" width="20" height="9" fill="#d0021b"/></svg>',
    gift: '<svg viewBox="0 0 48 48"><rect x="7" y="20" width="34" height="24" rx="3" fill="#ff7ad9"/><rect x="4" y="14" width="40" height="9" rx="2" fill="#ffd400"/><rect x="21" y="14" width="6" height="30" fill="#d0021b"/><path fill="none" stroke="#ffd400" stroke-width="3" d="M24 14c-4-9-14-8-10-1M24 14c4-9 14-8 10-1"/></svg>',
    show: '<svg viewBox="0 0 48 48"><path fill="#ffd400" d="M24 2l5 15 16 1-13 9 5 16-13-10-13 10 5-16L3 18l16-1z"/><circle cx="40" cy="40" r="4" fill="#00c3ff"/><circle cx="7" cy="38" r="3" fill="#ff7ad9"/></svg>',
    message: '<svg viewBox="0 0 48 48"><path fill="#ff4f6d" d="M24 43S5 31 5 17C5 9 11 5 17 5c4 0 6 2 7 4 1-2 3-4 7-4 6 0 12 4 12 12 0 14-19 26-19 26z"/></svg>',
  };
  const KIND_ICON = { extra_item: "bottle", share_pack: "bottle", gift: "gift", show: "show", message: "message" };

  function t(id, fallback) {
    return strings[id] || fallback || id;
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  }

  // ---- language ----
  async function loadStrings() {
    const r = await fetch("/api/kiosk/strings" + (lang ? "?lang=" + encodeURIComponent(lang) : ""));
    const s = await r.json();
    strings = s.strings;
    lang = s.lang;
    defaultLang = s.default;
    document.documentElement.lang = s.lang;
    for (const el of document.querySelectorAll("[data-text]")) el.textContent = t(el.dataset.text, el.textContent);
    for (const el of document.querySelectorAll("[data-label]")) el.setAttribute("aria-label", t(el.dataset.label));
    $("lang").setAttribute("aria-label", t("page-language"));
    const menu = $("lang-menu");
    menu.innerHTML = "";
    for (const l of s.languages) {
      const b = document.createElement("button");
      b.setAttribute("role", "menuitemradio");
      b.setAttribute("aria-checked", String(l.code === s.lang));
      b.lang = l.code;
      b.id = "lang-" + l.code;
      b.textContent = l.name;
      b.onclick = () => chooseLanguage(l.code);
      menu.appendChild(b);
      if (l.code === s.lang) $("lang-name").textContent = l.name;
    }
  }

  function toggleMenu(open) {
    const menu = $("lang-menu");
    const show = open === undefined ? menu.hidden : open;
    menu.hidden = !show;
    $("lang").setAttribute("aria-expanded", String(show));
    if (show) {
      const current = menu.querySelector('[aria-checked="true"]') || menu.firstElementChild;
      if (current) current.focus();
    }
  }

  async function chooseLanguage(code) {
    toggleMenu(false);
    lang = code;
    gridKey = "";
    await loadStrings();
    connect();
    $("lang").focus();
  }

  // ---- the display, credit and lamps ----
  function renderLamps(s) {
    const list = $("lamps");
    if (list.childElementCount !== s.lamps.length) {
      list.innerHTML = "";
      for (const l of s.lamps) {
        const li = document.createElement("li");
        li.innerHTML = '<span class="lamp" role="img"></span><span class="word"></span>';
        list.appendChild(li);
      }
    }
    s.lamps.forEach((l, i) => {
      const li = list.children[i];
      const dot = li.firstElementChild;
      const name = t("lamp-" + l.role, l.role);
      dot.className = "lamp " + l.role + (l.on ? " on" : "");
      dot.setAttribute("aria-label", name + ": " + t(l.on ? "lamp-on" : "lamp-off"));
      li.lastElementChild.textContent = name;
    });
  }

  // ---- the selections: built once, then updated in place so focus stays put ----
  function renderGrid(s) {
    const grid = $("selections");
    const key = lang + "|" + s.selections.map((x) => x.button).join(",");
    if (key !== gridKey) {
      gridKey = key;
      grid.innerHTML = "";
      for (const sel of s.selections) {
        const b = document.createElement("button");
        b.className = "product";
        b.id = "select-" + sel.button;
        b.innerHTML = '<span class="number"></span><span class="name"></span><span class="price"></span><span class="why"></span>';
        b.onclick = () => post("/api/kiosk/select/" + sel.button);
        grid.appendChild(b);
      }
    }
    s.selections.forEach((sel, i) => {
      const b = grid.children[i];
      const down = !sel.available || !!s.out_of_service;
      b.querySelector(".number").textContent = String(sel.button);
      b.querySelector(".name").textContent = sel.product;
      b.querySelector(".price").textContent = sel.price_text;
      b.querySelector(".why").textContent = sel.reason_text || t("reason-out-of-service", "");
      b.setAttribute("aria-label", sel.label);
      b.dataset.reason = sel.reason || "";
      b.classList.toggle("free", !!sel.free && !down);
      if (b.disabled !== down) b.disabled = down;
    });
  }

  // ---- surprise reveals ----
  function reveal(s) {
    const sp = s.surprise;
    revealTimers.forEach(clearTimeout);
    revealTimers = [];
    $("reveal-icon").innerHTML = ICONS[KIND_ICON[sp.reveal.kind] || "message"];
    $("reveal-title").textContent = sp.title;
    $("reveal-detail").textContent = sp.detail || (sp.reveal.kind === "message" ? sp.message : "");
    const box = $("reveal");
    box.dataset.kind = sp.reveal.kind;
    box.classList.remove("ending");
    box.hidden = false;
    const lasts = Math.max(sp.reveal.duration_ms, REVEAL_MIN_MS);
    if (sp.reveal.show) {
      const show = $("show");
      show.className = "show " + sp.reveal.show;
      show.hidden = false;
      revealTimers.push(setTimeout(() => { show.hidden = true; }, sp.reveal.duration_ms));
    }
    confetti();
    revealTimers.push(setTimeout(() => box.classList.add("ending"), lasts));
    revealTimers.push(setTimeout(endReveal, lasts + 600));
  }

  function endReveal() {
    revealTimers.forEach(clearTimeout);
    revealTimers = [];
    $("reveal").hidden = true;
    $("show").hidden = true;
  }

  function confetti() {
    if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) return;
    const colours = ["#ffd400", "#ffffff", "#d0021b", "#5ee08a", "#59c3ff", "#ff7ad9"];
    for (let i = 0; i < 50; i++) {
      const c = document.createElement("div");
      c.className = "confetti";
      c.style.left = Math.random() * 100 + "vw";
      c.style.background = colours[i % colours.length];
      c.style.animationDelay = Math.random() * 0.8 + "s";
      document.body.appendChild(c);
      setTimeout(() => c.remove(), 3600);
    }
  }

  // ---- "how was it?": once per finished vend, for about ten seconds ----
  function renderFeedback(s) {
    const vend = s.feedback_vend;
    if (s.vending || s.out_of_service) {
      hideFeedback();
      return;
    }
    if (s.ask_feedback && vend !== feedbackDoneFor && vend !== feedbackShownFor) {
      feedbackShownFor = vend;
      $("thanks").hidden = true;
      for (const b of $("feedback").querySelectorAll("button")) b.disabled = false;
      $("feedback").hidden = false;
      clearTimeout(feedbackTimer);
      feedbackTimer = setTimeout(() => {
        feedbackDoneFor = vend;
        hideFeedback();
      }, FEEDBACK_MS);
    } else if (!s.ask_feedback && vend === feedbackShownFor) {
      hideFeedback();
    }
  }

  function hideFeedback() {
    clearTimeout(feedbackTimer);
    $("feedback").hidden = true;
    feedbackShownFor = null;
  }

  function answer(happy) {
    for (const b of $("feedback").querySelectorAll("button")) b.disabled = true;
    feedbackDoneFor = feedbackShownFor;
    hideFeedback();
    const thanks = $("thanks");
    thanks.hidden = false;
    clearTimeout(thanksTimer);
    thanksTimer = setTimeout(() => { thanks.hidden = true; }, THANKS_MS);
    post("/api/kiosk/feedback", { happy: happy });
  }

  // ---- the simulator's front ----
  function renderFront(s) {
    $("front").hidden = !s.simulated;
    $("app").classList.toggle("no-front", !s.simulated);
    if (!s.simulated) return;
    const coins = $("coins");
    const key = lang + "|" + s.coins.map((c) => c.value).join(",");
    if (key !== coinsKey) {
      coinsKey = key;
      coins.innerHTML = "";
      for (const c of s.coins) {
        const b = document.createElement("button");
        b.id = "coin-" + c.value;
        b.onclick = () => post("/api/sim/coin/" + c.value);
        coins.appendChild(b);
      }
    }
    s.coins.forEach((c, i) => {
      const b = coins.children[i];
      b.textContent = c.text;
      b.setAttribute("aria-label", c.label);
    });
    const tray = $("tray");
    const trayNow = lang + "|" + s.tray.join("\u0000");
    if (trayNow !== trayKey) {
      trayKey = trayNow;
      tray.innerHTML = "";
      for (const item of s.tray) {
        const span = document.createElement("span");
        span.textContent = item;
        tray.appendChild(span);
      }
      if (!s.tray.length) tray.setAttribute("aria-description", t("page-tray-empty"));
      else tray.removeAttribute("aria-description");
    }
    $("returned").textContent = s.coins_returned_text;
  }

  // ---- attract screen ----
  function customerHere(s) {
    return s.credit > 0 || s.vending || (s.tone !== "idle" && s.tone !== "out_of_service") || s.tray.length > 0;
  }

  function touched() {
    lastActivity = Date.now();
    $("attract").hidden = true;
  }

  function checkAttract() {
    const attract = $("attract");
    if (!attract.hidden || !state || state.out_of_service || customerHere(state)) return;
    if (!$("feedback").hidden || !$("reveal").hidden) return;
    if (Date.now() - lastActivity < ATTRACT_MS) return;
    attract.hidden = false;
    toggleMenu(false);
    // The next customer starts in the machine's own language.
    if (defaultLang && lang !== defaultLang) chooseLanguage(defaultLang);
  }

  // ---- out of service ----
  function outOfService(reason) {
    document.body.classList.add("out-of-service");
    const display = $("display");
    display.textContent = reason;
    display.className = "display tone-out_of_service";
    endReveal();
    hideFeedback();
    $("attract").hidden = true;
    for (const b of document.querySelectorAll("#selections button, #coin-return")) b.disabled = true;
  }

  function render(s) {
    state = s;
    document.body.classList.remove("out-of-service");
    $("machine").textContent = s.machine;
    document.title = s.machine;
    const display = $("display");
    if (display.textContent !== s.display) display.textContent = s.display || "\u00a0";
    display.className = "display tone-" + s.tone;
    $("credit").textContent = s.credit_text;
    const odds = $("odds");
    if (odds.textContent !== (s.odds || "")) odds.textContent = s.odds || "";
    odds.hidden = !s.odds;
    $("coin-return").disabled = !!s.out_of_service;
    renderLamps(s);
    renderGrid(s);
    if (s.surprise && s.feedback_vend !== revealedFor) {
      revealedFor = s.feedback_vend;
      reveal(s);
    }
    renderFeedback(s);
    renderFront(s);
    // A customer at the machine (credit, a vend, a message for them) is activity too.
    if (customerHere(s)) touched();
    if (s.out_of_service) outOfService(s.display || t("page-connection-lost", "Out of service"));
  }

  function connect() {
    if (events) events.close();
    events = new EventSource("/api/kiosk/events?lang=" + encodeURIComponent(lang));
    events.addEventListener("state", (e) => render(JSON.parse(e.data)));
    // The kiosk stopped (it says so first) or the connection is gone: a stopped machine sells
    // nothing. The browser reconnects by itself and the next state redraws the page.
    events.onerror = () =>
      outOfService(state && state.out_of_service ? state.display : t("page-connection-lost", "Out of service: sorry!"));
  }

  $("happy").onclick = () => answer(true);
  $("unhappy").onclick = () => answer(false);
  $("coin-return").onclick = () => post("/api/kiosk/coin-return");
  $("take").onclick = () => post("/api/sim/take");
  $("lang").onclick = () => toggleMenu();
  $("attract").addEventListener("pointerdown", (e) => { e.preventDefault(); touched(); });
  document.addEventListener("pointerdown", () => { lastActivity = Date.now(); }, true);
  document.addEventListener("keydown", (e) => {
    touched();
    if (e.key === "Escape") toggleMenu(false);
  }, true);
  document.addEventListener("click", (e) => {
    if (!e.target.closest(".lang")) toggleMenu(false);
  });
  setInterval(checkAttract, 1000);

  loadStrings().catch(() => {}).finally(connect);
})();
