// The blotter: a snapshot from the REST API, then live from GET /v1/stream.
//
// Orders arrive with each journaled event that concerns them (the order as journaled),
// fills with OrderFilled, and positions and balances are fetched again when a fill or a
// balance change is journaled; prices come with the stream's tick, once a second, and
// mark the positions. Gates are fetched again when a gate event is journaled or a feed
// turns stale or fresh. After a `resync` (events were dropped for this tab) or a new
// connection, everything is fetched again. Every value reaches the page as text
// (textContent), never as markup.

import { Api, ApiError } from "./api.js";
import { drawEquity } from "./chart.js";

const KEY_ITEM = "ordergate.key";
const MAX_ORDERS = 200;
const MAX_FILLS = 100;
const MAX_AUDIT = 100;
const MAX_SAMPLES = 600;
const OPEN = new Set(["NEW", "PENDING_SUBMIT", "SUBMITTED", "ACCEPTED", "PARTIALLY_FILLED", "PENDING_CANCEL", "PENDING_REPLACE", "UNKNOWN"]);
const GATE_EVENTS = new Set(["TradingStateChanged", "InstrumentMarkedDirty", "InstrumentCleared", "TradingArmed", "ReconciliationRecorded"]);
const MONEY_EVENTS = new Set(["OrderFilled", "BalanceAdjusted"]);

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const td = (text, cls) => el("td", { text: text ?? "", class: cls });
const num = (text) => td(text, "num");
const time = (iso) => (iso ? iso.replace("T", " ").replace(/(\.\d{3})\d*/, "$1").replace("+00:00", "Z") : "");
const fixed = (value, digits = 2) => (value === null || value === undefined || Number.isNaN(value) ? "" : Number(value).toFixed(digits));

const state = {
  api: null,
  admin: false,
  instruments: new Map(),
  orders: new Map(),
  fills: [],
  positions: [],
  account: null,
  quotes: new Map(),
  stale: "",
  health: null,
  audit: [],
  equity: new Map(), // currency -> [{t, value}]
  now: null,
  abort: null,
  refetch: new Map(),
};

// --- log in ----------------------------------------------------------------------------

async function logIn(key) {
  const api = new Api(key);
  await api.get("/v1/health/trading"); // any read: proves the key
  let admin = false;
  try {
    await api.get("/v1/admin/state");
    admin = true;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 403) throw error;
  }
  state.api = api;
  state.admin = admin;
  sessionStorage.setItem(KEY_ITEM, key);
  $("login").hidden = true;
  $("blotter").hidden = false;
  $("admin-panel").hidden = !admin;
  $("who").textContent = `key ${key.split("_")[1] ?? ""} · ${admin ? "admin" : "trade/read"}`;
  follow();
}

function logOut() {
  sessionStorage.removeItem(KEY_ITEM);
  state.abort?.abort();
  location.reload();
}

// --- the stream --------------------------------------------------------------------------

async function follow() {
  for (;;) {
    state.abort = new AbortController();
    setStream("connecting", "connecting");
    try {
      await state.api.stream(onMessage, state.abort.signal);
      setStream("reconnecting", "stream ended");
    } catch (error) {
      if (state.abort.signal.aborted) return;
      if (error instanceof ApiError && error.status === 401) return logOut();
      setStream("reconnecting", error instanceof ApiError ? error.code : "disconnected");
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
}

function setStream(kind, text) {
  const pill = $("stream-status");
  pill.dataset.state = kind;
  pill.textContent = text;
}

function onMessage(name, data) {
  if (name === "hello") {
    state.instruments = new Map(data.instruments.map((i) => [i.symbol, i]));
    $("venue").textContent = data.venue;
    fillSymbols();
    state.audit = [];
    for (const item of data.tail) addAudit(item);
    renderAudit();
    setStream("live", "live");
    snapshot();
  } else if (name === "journal") {
    onEvent(data);
  } else if (name === "tick") {
    onTick(data);
  } else if (name === "resync") {
    setStream("live", "live (resynced)");
    snapshot();
  }
}

function onEvent(item) {
  addAudit(item);
  renderAudit();
  if (item.order) {
    upsertOrder(item.order);
    renderOrders();
  }
  if (item.event_type === "OrderFilled") {
    addFill({
      trade_id: item.trade_id, order_id: item.order_id, symbol: item.symbol, side: item.side,
      qty: item.qty, price: item.price, fee: item.fee, fee_currency: item.fee_currency, ts: item.ts,
    });
    renderFills();
  }
  if (MONEY_EVENTS.has(item.event_type)) later("money", refreshMoney);
  if (GATE_EVENTS.has(item.event_type)) later("gates", refreshGates);
}

function onTick(tick) {
  state.now = tick.now;
  $("market-time").textContent = `market time ${time(tick.now)}`;
  for (const quote of tick.quotes) state.quotes.set(quote.symbol, quote);
  const stale = tick.quotes.filter((q) => q.stale).map((q) => q.symbol).join(",");
  if (stale !== state.stale) {
    state.stale = stale;
    later("gates", refreshGates);
  }
  renderFeeds();
  renderPositions();
  sampleEquity();
}

// Coalesce the fetches a burst of events asks for into one.
function later(name, fetcher) {
  if (state.refetch.has(name)) return;
  state.refetch.set(name, setTimeout(() => {
    state.refetch.delete(name);
    fetcher().catch(showError);
  }, 100));
}

// --- snapshots ---------------------------------------------------------------------------

async function snapshot() {
  try {
    const [orders, fills] = await Promise.all([
      state.api.get(`/v1/orders?limit=${MAX_ORDERS}`),
      state.api.get(`/v1/fills?limit=${MAX_FILLS}`),
    ]);
    for (const order of orders.items) upsertOrder(order);
    for (const fill of fills.items.slice().reverse()) addFill(fill);
    renderOrders();
    renderFills();
    await Promise.all([refreshMoney(), refreshGates()]);
  } catch (error) {
    showError(error);
  }
}

async function refreshMoney() {
  const [positions, account] = await Promise.all([
    state.api.get("/v1/positions"),
    state.api.get("/v1/account").catch((error) => {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }),
  ]);
  state.positions = positions;
  state.account = account;
  fillCurrencies();
  followHeldCurrency();
  renderPositions();
  sampleEquity();
}

async function refreshGates() {
  state.health = await state.api.get("/v1/health/trading");
  renderGates();
}

// --- state -------------------------------------------------------------------------------

function upsertOrder(order) {
  const known = state.orders.get(order.id);
  if (known && known.updated_at > order.updated_at) return;
  state.orders.set(order.id, order);
  if (state.orders.size > MAX_ORDERS) {
    const oldest = [...state.orders.values()].sort((a, b) => a.created_at.localeCompare(b.created_at))[0];
    state.orders.delete(oldest.id);
  }
}

function addFill(fill) {
  if (state.fills.some((f) => f.trade_id === fill.trade_id && f.order_id === fill.order_id)) return;
  state.fills.unshift(fill);
  state.fills.length = Math.min(state.fills.length, MAX_FILLS);
}

function addAudit(item) {
  if (state.audit.length && state.audit[0].seq >= item.seq) return;
  state.audit.unshift(item);
  state.audit.length = Math.min(state.audit.length, MAX_AUDIT);
}

// Unrealized PnL at the stream's last price: qty * (mark - avg) * contract size.
function marked(position) {
  const quote = state.quotes.get(position.symbol);
  const instrument = state.instruments.get(position.symbol);
  const mark = quote?.last != null ? Number(quote.last) : position.mark_price != null ? Number(position.mark_price) : null;
  if (mark === null) return { mark: null, upnl: null };
  const size = instrument ? Number(instrument.contract_size) : 1;
  return { mark, upnl: Number(position.qty) * (mark - Number(position.avg_price)) * size };
}

function equityOf(currency) {
  const row = state.account?.currencies.find((c) => c.currency === currency);
  if (!row) return null;
  let value = Number(row.balance);
  for (const position of state.positions) {
    if (position.currency !== currency) continue;
    const { upnl } = marked(position);
    if (upnl !== null) value += upnl;
  }
  return value;
}

function sampleEquity() {
  if (!state.account) return;
  for (const row of state.account.currencies) {
    const value = equityOf(row.currency);
    const samples = state.equity.get(row.currency) ?? [];
    samples.push({ t: state.now, value });
    if (samples.length > MAX_SAMPLES) samples.shift();
    state.equity.set(row.currency, samples);
  }
  renderEquity();
}

// --- rendering ---------------------------------------------------------------------------

function fillSymbols() {
  const select = $("t-symbol");
  const chosen = select.value;
  select.replaceChildren(...[...state.instruments.keys()].map((s) => el("option", { text: s, value: s })));
  if (state.instruments.has(chosen)) select.value = chosen;
}

function fillCurrencies() {
  const select = $("equity-currency");
  const currencies = (state.account?.currencies ?? []).map((c) => c.currency);
  if ([...select.options].map((o) => o.value).join() === currencies.join()) return;
  const chosen = select.value;
  select.replaceChildren(...currencies.map((c) => el("option", { text: c, value: c })));
  select.value = currencies.includes(chosen) ? chosen : currencies[0] ?? "";
}

// Until the user picks a currency, the chart follows the one the positions are in.
function followHeldCurrency() {
  const select = $("equity-currency");
  if (select.dataset.picked) return;
  const held = state.positions.find((p) => [...select.options].some((o) => o.value === p.currency));
  if (held && select.value !== held.currency) select.value = held.currency;
}

function renderOrders() {
  const rows = [...state.orders.values()].sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id));
  $("orders").tBodies[0].replaceChildren(...rows.map((o) => {
    const open = OPEN.has(o.status);
    const actions = el("td", { class: "actions" },
      open ? el("button", { type: "button", class: "quiet small", text: "Cancel", "data-order": o.id, onclick: () => cancel(o) }) : null,
      open && o.type !== "MARKET" ? el("button", { type: "button", class: "quiet small", text: "Replace", onclick: () => replace(o) }) : null);
    return el("tr", { "data-order-id": o.id, "data-status": o.status },
      td(o.id), td(time(o.created_at)), td(o.symbol), td(o.side, o.side.toLowerCase()), td(o.type),
      num(o.qty), num(o.price ?? ""), num(o.filled_qty), num(o.avg_fill_price ?? ""),
      el("td", {}, el("span", { class: `status ${o.status.toLowerCase()}`, text: o.status })),
      td(o.reason_code ? `${o.reason_code}: ${o.reason ?? ""}` : "", "reason"), actions);
  }));
}

function renderFills() {
  $("fills").tBodies[0].replaceChildren(...state.fills.map((f) => el("tr", { "data-order-id": f.order_id },
    td(time(f.ts)), td(f.order_id), td(f.symbol), td(f.side, f.side.toLowerCase()), num(f.qty), num(f.price),
    num(`${f.fee} ${f.fee_currency}`), td(f.trade_id))));
}

function renderPositions() {
  $("positions").tBodies[0].replaceChildren(...state.positions.map((p) => {
    const { mark, upnl } = marked(p);
    return el("tr", { "data-symbol": p.symbol },
      td(p.symbol), td(p.side, p.side.toLowerCase()), num(p.qty), num(p.avg_price), num(mark ?? ""),
      num(fixed(upnl), upnl < 0 ? "neg" : "pos"), num(fixed(Number(p.realized_pnl))), td(p.currency));
  }));
  if (!state.positions.length) {
    $("positions").tBodies[0].append(el("tr", {}, el("td", { colspan: 8, class: "muted", text: "no open positions" })));
  }
}

function renderEquity() {
  const currency = $("equity-currency").value;
  const row = state.account?.currencies.find((c) => c.currency === currency);
  const samples = state.equity.get(currency) ?? [];
  const current = samples.length ? samples[samples.length - 1].value : null;
  $("account").replaceChildren(
    figure("equity", fixed(current)), figure("balance", row ? fixed(Number(row.balance)) : ""),
    figure("free margin", row ? fixed(Number(row.free_margin)) : ""), figure("used margin", row ? fixed(Number(row.used_margin)) : ""));
  drawEquity($("equity-chart"), samples);
  $("equity-range").textContent = samples.length > 1
    ? `${time(samples[0].t)} → ${time(samples[samples.length - 1].t)} · ${samples.length} samples`
    : "";
}

function figure(label, value) {
  return el("div", { class: "figure" }, el("span", { class: "muted", text: label }), el("strong", { text: value }));
}

function renderFeeds() {
  $("feeds").tBodies[0].replaceChildren(...[...state.quotes.values()].map((q) => el("tr", { "data-symbol": q.symbol },
    td(q.symbol), num(q.last ?? "—"), num(q.age_ms === null ? "never" : `${q.age_ms} ms`),
    el("td", {}, el("span", { class: `status ${q.stale ? "stale" : "fresh"}`, text: q.stale ? "STALE" : "fresh" })))));
}

function renderGates() {
  const health = state.health;
  if (!health) return;
  const badge = $("trading-open");
  badge.textContent = health.trading_open ? "trading open" : `${health.closed_gates.length} gate(s) closed`;
  badge.dataset.state = health.trading_open ? "open" : "closed";
  $("closed-gates").replaceChildren(...(health.closed_gates.length
    ? health.closed_gates.map((g) => el("li", { class: "closed", text: g }))
    : [el("li", { class: "open", text: "every gate is open" })]));
  $("trading-states").replaceChildren(...(health.gates.trading_states.length
    ? health.gates.trading_states.map((g) => el("li", { text: `${g.state} ${g.account ?? "*"}/${g.symbol ?? "*"} — ${g.reason} (${g.actor ?? "?"}, since ${time(g.since)})` }))
    : [el("li", { class: "muted", text: "ACTIVE everywhere" })]));
  $("dirty").replaceChildren(...(health.gates.dirty.length
    ? health.gates.dirty.map((d) => el("li", { text: `${d.account ?? "*"}/${d.symbol ?? "*"}: ${d.cause} — ${d.reason} (since ${time(d.since)})` }))
    : [el("li", { class: "muted", text: "none" })]));
  const recon = health.last_reconciliation;
  $("reconciliation").replaceChildren(...(recon.length
    ? recon.map((r) => el("div", { class: "recon" },
      el("p", { text: `${r.account} at ${time(r.at)}: ${r.diffs.length ? `${r.diffs.length} difference(s)` : "agreed with the venue"}` }),
      r.diffs.length ? el("ul", {}, ...r.diffs.map((d) => el("li", { text: d }))) : null))
    : [el("p", { class: "muted", text: "none yet" })]));
}

function summary(item) {
  const parts = [];
  for (const name of ["order_id", "account", "symbol", "side", "type", "qty", "price", "state", "status", "reason_code", "reason", "cause", "detail", "actor"]) {
    const value = item[name];
    if (value !== undefined && value !== null && value !== "") parts.push(`${name}=${typeof value === "object" ? JSON.stringify(value) : value}`);
  }
  return parts.join(" ");
}

function renderAudit() {
  $("audit").tBodies[0].replaceChildren(...state.audit.map((item) => el("tr", { "data-seq": item.seq },
    num(item.seq), td(time(item.ts)), td(item.event_type), td(summary(item), "detail"))));
}

function showError(error) {
  const text = error instanceof ApiError ? `${error.code}: ${error.detail}` : String(error);
  $("ticket-result").replaceChildren(el("p", { class: "error", text }));
}

// --- the ticket ----------------------------------------------------------------------------

function ticketOrder() {
  const type = $("t-type").value;
  const order = {
    symbol: $("t-symbol").value,
    side: $("t-side").value,
    type,
    qty: $("t-qty").value.trim(),
    reduce_only: $("t-reduce").checked,
  };
  if (type === "LIMIT") order.price = $("t-price").value.trim();
  return order;
}

async function place(event) {
  event.preventDefault();
  const order = { ...ticketOrder(), idempotency_key: `blotter-${crypto.randomUUID()}` };
  const out = $("ticket-result");
  out.replaceChildren(el("p", { class: "muted", text: "placing…" }));
  try {
    const placed = await state.api.post("/v1/orders", order);
    upsertOrder(placed);
    renderOrders();
    const denied = placed.reason_code ? ` — ${placed.reason_code}: ${placed.reason ?? ""}` : "";
    out.replaceChildren(el("p", { class: `placed status-${placed.status.toLowerCase()}`, "data-order-id": placed.id,
      text: `${placed.id} ${placed.side} ${placed.qty} ${placed.symbol}: ${placed.status}${denied}` }));
  } catch (error) {
    showError(error);
  }
}

async function preview() {
  const out = $("ticket-result");
  try {
    const p = await state.api.post("/v1/orders/preview", ticketOrder());
    out.replaceChildren(
      el("p", { class: p.accepted ? "verdict ok" : "verdict denied", text: p.accepted ? "risk: would pass" : "risk: would be denied" }),
      ...p.denials.map((d) => el("p", { class: "error", text: `${d.reason_code}: ${d.reason}` })),
      el("dl", { class: "preview" },
        ...[["price", p.estimated_price], ["notional", p.notional], ["fee", p.fee && `${p.fee} ${p.fee_currency ?? ""}`],
          ["slippage bps", p.slippage_bps], ["margin", p.margin_required], ["free margin after", p.free_margin_after],
          ["position after (worst case)", p.worst_case_position_qty]]
          .flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v ?? "—" })])));
  } catch (error) {
    showError(error);
  }
}

async function cancel(order) {
  try {
    upsertOrder(await state.api.post(`/v1/orders/${encodeURIComponent(order.id)}/cancel`, {}));
    renderOrders();
  } catch (error) {
    showError(error);
  }
}

async function replace(order) {
  const answer = await ask(`Replace ${order.id}`, [
    { name: "qty", label: "Qty", value: order.qty },
    { name: "price", label: "Price", value: order.price ?? "" },
  ]);
  if (!answer) return;
  try {
    upsertOrder(await state.api.post(`/v1/orders/${encodeURIComponent(order.id)}/replace`, answer));
    renderOrders();
  } catch (error) {
    showError(error);
  }
}

// --- admin: each asks for a reason ------------------------------------------------------------

async function setState(label, tradingState) {
  const answer = await ask(`${label}: why?`, [{ name: "reason", label: "Reason", required: true }]);
  if (!answer) return;
  await adminCall(() => state.api.post("/v1/admin/state", { state: tradingState, reason: answer.reason }),
    `${tradingState} set: ${answer.reason}`);
}

async function closeAll() {
  const answer = await ask("Close all: cancel every open order and flatten every position. Why?",
    [{ name: "reason", label: "Reason", required: true }]);
  if (!answer) return;
  await adminCall(async () => {
    const result = await state.api.post("/v1/admin/close-all", { reason: answer.reason });
    for (const order of [...result.canceled, ...result.closing]) upsertOrder(order);
    renderOrders();
  }, `close-all sent: ${answer.reason}`);
}

async function adminCall(call, done) {
  const out = $("admin-result");
  try {
    await call();
    out.textContent = done;
    out.className = "ok";
    await refreshGates();
  } catch (error) {
    out.textContent = error instanceof ApiError ? `${error.code}: ${error.detail}` : String(error);
    out.className = "error";
  }
}

// A small form in a dialog; resolves to {name: value} or null when cancelled.
function ask(title, fields) {
  const dialog = $("ask");
  $("ask-title").textContent = title;
  $("ask-fields").replaceChildren(...fields.map((f) => el("label", {}, f.label,
    el("input", { name: f.name, value: f.value ?? "", required: f.required ?? false, maxlength: 200, autocomplete: "off" }))));
  return new Promise((resolve) => {
    const form = $("ask-form");
    const finish = (value) => {
      form.onsubmit = null;
      $("ask-cancel").onclick = null;
      dialog.close();
      resolve(value);
    };
    form.onsubmit = (event) => {
      event.preventDefault();
      const values = {};
      for (const f of fields) {
        const v = form.elements[f.name].value.trim();
        if (v !== "") values[f.name] = v;
      }
      finish(values);
    };
    $("ask-cancel").onclick = () => finish(null);
    dialog.oncancel = () => finish(null);
    dialog.showModal();
    form.elements[fields[0].name].focus();
  });
}

// --- start ------------------------------------------------------------------------------------

function start() {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("login-error").textContent = "";
    try {
      await logIn($("key").value.trim());
      $("key").value = "";
    } catch (error) {
      $("login-error").textContent = error instanceof ApiError ? `${error.code}: ${error.detail}` : String(error);
    }
  });
  $("logout").addEventListener("click", logOut);
  $("ticket").addEventListener("submit", place);
  $("t-preview").addEventListener("click", preview);
  $("t-type").addEventListener("change", () => {
    const limit = $("t-type").value === "LIMIT";
    $("t-price").disabled = !limit;
    $("t-price").required = limit;
  });
  $("equity-currency").addEventListener("change", () => {
    $("equity-currency").dataset.picked = "yes";
    renderEquity();
  });
  $("safe").addEventListener("click", () => setState("SAFE (reduce only)", "REDUCING"));
  $("halt").addEventListener("click", () => setState("HALT (cancels only)", "HALTED"));
  $("resume").addEventListener("click", () => setState("Resume trading", "ACTIVE"));
  $("close-all").addEventListener("click", closeAll);

  const saved = sessionStorage.getItem(KEY_ITEM);
  if (saved) {
    logIn(saved).catch(() => {
      sessionStorage.removeItem(KEY_ITEM);
      $("login").hidden = false;
    });
  } else {
    $("login").hidden = false;
  }
}

start();
