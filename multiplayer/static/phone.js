// civictwin phone page: join a workshop, follow its phases live, vote with big buttons.
// Talks workshop protocol v1 (docs/protocol.md) over one WebSocket to this page's own origin.
// No framework, no build step, no requests anywhere else. Tokens live in localStorage only.

const UI = {
  en: {
    lang: "Language", join_heading: "Join the workshop", code: "Workshop code",
    code_help: "4–16 letters or digits, as shown on the wall.", join: "Join",
    bad_code: "A workshop code has 4 to 16 letters or digits.", leave: "Change workshop",
    connecting: "Connecting…", reconnecting: "Reconnecting…", connected: "Connected.",
    lobby: "Waiting to start", explore: "Explore", propose: "Proposals", vote: "Vote", reveal: "Results",
    closed: "Workshop closed",
    ex_lobby: "The workshop has not started yet. Keep this page open: it changes by itself.",
    ex_explore: "Look at the kiosk and the wall: walk the street and see what the simulations show.",
    ex_propose: "Look at the kiosk and the wall: proposals are being made there. Voting comes next.",
    ex_vote: "Tap your answer. You can change it until the round ends.",
    ex_reveal: "The votes are counted.", ex_closed: "The workshop is over. Thank you for taking part!",
    locked: "This round is closed: votes are no longer taken.", time_left: "Time left",
    sending: "sending…", received: "received ✓", choose: "Choose this proposal",
    no_proposals: "No proposals yet.", no_questions: "There is nothing to vote on yet.",
    no_results: "The results appear here when the facilitator reveals them.",
    map: "Map of the proposal: {n} interventions", people: "People taking part: {n}",
    proposals_n: "Proposals so far: {n}", votes_n: "{n} votes",
  },
  fi: {
    lang: "Kieli", join_heading: "Liity työpajaan", code: "Työpajan koodi",
    code_help: "4–16 kirjainta tai numeroa, kuten seinänäytöllä.", join: "Liity",
    bad_code: "Työpajan koodissa on 4–16 kirjainta tai numeroa.", leave: "Vaihda työpajaa",
    connecting: "Yhdistetään…", reconnecting: "Yhdistetään uudelleen…", connected: "Yhdistetty.",
    lobby: "Odotetaan alkua", explore: "Tutustu", propose: "Ehdotukset", vote: "Äänestys", reveal: "Tulokset",
    closed: "Työpaja on päättynyt",
    ex_lobby: "Työpaja ei ole vielä alkanut. Pidä sivu auki: se päivittyy itsestään.",
    ex_explore: "Katso kioskia ja seinänäyttöä: kulje kadulla ja katso, mitä simulaatiot näyttävät.",
    ex_propose: "Katso kioskia ja seinänäyttöä: siellä tehdään ehdotuksia. Seuraavaksi äänestetään.",
    ex_vote: "Napauta vastaustasi. Voit muuttaa sitä kierroksen loppuun asti.",
    ex_reveal: "Äänet on laskettu.", ex_closed: "Työpaja on päättynyt. Kiitos osallistumisesta!",
    locked: "Tämä kierros on päättynyt: ääniä ei enää oteta vastaan.", time_left: "Aikaa jäljellä",
    sending: "lähetetään…", received: "vastaanotettu ✓", choose: "Valitse tämä ehdotus",
    no_proposals: "Ei vielä ehdotuksia.", no_questions: "Vielä ei ole mitään äänestettävää.",
    no_results: "Tulokset näkyvät tässä, kun vetäjä julkaisee ne.",
    map: "Ehdotuksen kartta: {n} toimenpidettä", people: "Osallistujia: {n}",
    proposals_n: "Ehdotuksia tähän mennessä: {n}", votes_n: "{n} ääntä",
  },
  sv: {
    lang: "Språk", join_heading: "Gå med i workshoppen", code: "Workshoppens kod",
    code_help: "4–16 bokstäver eller siffror, som på väggskärmen.", join: "Gå med",
    bad_code: "En workshopkod har 4 till 16 bokstäver eller siffror.", leave: "Byt workshop",
    connecting: "Ansluter…", reconnecting: "Ansluter igen…", connected: "Ansluten.",
    lobby: "Väntar på start", explore: "Utforska", propose: "Förslag", vote: "Röstning", reveal: "Resultat",
    closed: "Workshoppen är avslutad",
    ex_lobby: "Workshoppen har inte börjat än. Håll sidan öppen: den ändras av sig själv.",
    ex_explore: "Titta på kiosken och väggskärmen: gå längs gatan och se vad simuleringarna visar.",
    ex_propose: "Titta på kiosken och väggskärmen: där görs förslagen. Sedan röstar vi.",
    ex_vote: "Tryck på ditt svar. Du kan ändra det tills omgången är slut.",
    ex_reveal: "Rösterna är räknade.", ex_closed: "Workshoppen är slut. Tack för att du deltog!",
    locked: "Den här omgången är stängd: inga fler röster tas emot.", time_left: "Tid kvar",
    sending: "skickar…", received: "mottagen ✓", choose: "Välj det här förslaget",
    no_proposals: "Inga förslag än.", no_questions: "Det finns inget att rösta om än.",
    no_results: "Resultaten visas här när samtalsledaren visar dem.",
    map: "Karta över förslaget: {n} åtgärder", people: "Deltagare: {n}",
    proposals_n: "Förslag hittills: {n}", votes_n: "{n} röster",
  },
  nl: {
    lang: "Taal", join_heading: "Doe mee aan de workshop", code: "Workshopcode",
    code_help: "4–16 letters of cijfers, zoals op het scherm aan de muur.", join: "Meedoen",
    bad_code: "Een workshopcode heeft 4 tot 16 letters of cijfers.", leave: "Andere workshop",
    connecting: "Verbinden…", reconnecting: "Opnieuw verbinden…", connected: "Verbonden.",
    lobby: "Wachten op de start", explore: "Verkennen", propose: "Voorstellen", vote: "Stemmen",
    reveal: "Uitslag", closed: "Workshop afgelopen",
    ex_lobby: "De workshop is nog niet begonnen. Houd deze pagina open: hij verandert vanzelf.",
    ex_explore: "Kijk naar de kiosk en het scherm aan de muur: loop door de straat en zie wat de simulaties tonen.",
    ex_propose: "Kijk naar de kiosk en het scherm aan de muur: daar worden voorstellen gemaakt. Daarna stemmen we.",
    ex_vote: "Tik op je antwoord. Je kunt het wijzigen tot de ronde voorbij is.",
    ex_reveal: "De stemmen zijn geteld.", ex_closed: "De workshop is voorbij. Bedankt voor je deelname!",
    locked: "Deze ronde is gesloten: er worden geen stemmen meer aangenomen.", time_left: "Resterende tijd",
    sending: "verzenden…", received: "ontvangen ✓", choose: "Kies dit voorstel",
    no_proposals: "Nog geen voorstellen.", no_questions: "Er is nog niets om over te stemmen.",
    no_results: "De uitslag verschijnt hier zodra de begeleider hem toont.",
    map: "Kaart van het voorstel: {n} ingrepen", people: "Deelnemers: {n}",
    proposals_n: "Voorstellen tot nu toe: {n}", votes_n: "{n} stemmen",
  },
  fr: {
    lang: "Langue", join_heading: "Rejoindre l'atelier", code: "Code de l'atelier",
    code_help: "4 à 16 lettres ou chiffres, comme affiché sur l'écran mural.", join: "Rejoindre",
    bad_code: "Un code d'atelier compte 4 à 16 lettres ou chiffres.", leave: "Changer d'atelier",
    connecting: "Connexion…", reconnecting: "Reconnexion…", connected: "Connecté.",
    lobby: "En attente du début", explore: "Découvrir", propose: "Propositions", vote: "Vote",
    reveal: "Résultats", closed: "Atelier terminé",
    ex_lobby: "L'atelier n'a pas encore commencé. Gardez cette page ouverte : elle se met à jour toute seule.",
    ex_explore: "Regardez la borne et l'écran mural : parcourez la rue et voyez ce que montrent les simulations.",
    ex_propose: "Regardez la borne et l'écran mural : les propositions s'y construisent. Le vote suit.",
    ex_vote: "Touchez votre réponse. Vous pouvez la changer jusqu'à la fin du tour.",
    ex_reveal: "Les votes sont comptés.", ex_closed: "L'atelier est terminé. Merci de votre participation !",
    locked: "Ce tour est clos : les votes ne sont plus acceptés.", time_left: "Temps restant",
    sending: "envoi…", received: "reçu ✓", choose: "Choisir cette proposition",
    no_proposals: "Pas encore de propositions.", no_questions: "Il n'y a encore rien à voter.",
    no_results: "Les résultats s'afficheront ici quand l'animateur les dévoilera.",
    map: "Carte de la proposition : {n} interventions", people: "Participants : {n}",
    proposals_n: "Propositions jusqu'ici : {n}", votes_n: "{n} votes",
  },
  de: {
    lang: "Sprache", join_heading: "Am Workshop teilnehmen", code: "Workshop-Code",
    code_help: "4–16 Buchstaben oder Ziffern, wie an der Wand angezeigt.", join: "Teilnehmen",
    bad_code: "Ein Workshop-Code hat 4 bis 16 Buchstaben oder Ziffern.", leave: "Workshop wechseln",
    connecting: "Verbinden…", reconnecting: "Neu verbinden…", connected: "Verbunden.",
    lobby: "Warten auf den Start", explore: "Erkunden", propose: "Vorschläge", vote: "Abstimmung",
    reveal: "Ergebnisse", closed: "Workshop beendet",
    ex_lobby: "Der Workshop hat noch nicht begonnen. Lassen Sie die Seite offen: Sie aktualisiert sich selbst.",
    ex_explore: "Schauen Sie auf den Kiosk und die Wand: Gehen Sie die Straße entlang und sehen Sie, was die Simulationen zeigen.",
    ex_propose: "Schauen Sie auf den Kiosk und die Wand: Dort entstehen die Vorschläge. Danach wird abgestimmt.",
    ex_vote: "Tippen Sie auf Ihre Antwort. Sie können sie bis zum Ende der Runde ändern.",
    ex_reveal: "Die Stimmen sind ausgezählt.", ex_closed: "Der Workshop ist vorbei. Danke fürs Mitmachen!",
    locked: "Diese Runde ist geschlossen: Es werden keine Stimmen mehr angenommen.", time_left: "Verbleibende Zeit",
    sending: "wird gesendet…", received: "empfangen ✓", choose: "Diesen Vorschlag wählen",
    no_proposals: "Noch keine Vorschläge.", no_questions: "Es gibt noch nichts abzustimmen.",
    no_results: "Die Ergebnisse erscheinen hier, sobald die Moderation sie zeigt.",
    map: "Karte des Vorschlags: {n} Maßnahmen", people: "Teilnehmende: {n}",
    proposals_n: "Bisherige Vorschläge: {n}", votes_n: "{n} Stimmen",
  },
};
const LANG_NAMES = { en: "English", fi: "Suomi", sv: "Svenska", nl: "Nederlands", fr: "Français", de: "Deutsch" };

// KPI name -> [unit, +1 if more is better / -1 if less is better, friendly names]. Deltas against the baseline.
const KPIS = {
  shade_public_pct: ["pp", 1, { en: "Shade on public space", fi: "Varjo yleisillä alueilla", sv: "Skugga på allmän plats", nl: "Schaduw in de openbare ruimte", fr: "Ombre sur l'espace public", de: "Schatten im öffentlichen Raum" }],
  shade_public_m2: ["m²", 1, { en: "Shaded public area", fi: "Varjoisa yleinen alue", sv: "Skuggad allmän yta", nl: "Beschaduwd openbaar oppervlak", fr: "Surface publique ombragée", de: "Beschattete öffentliche Fläche" }],
  seats_in_shade: ["", 1, { en: "Seats in the shade", fi: "Istumapaikat varjossa", sv: "Sittplatser i skugga", nl: "Zitplaatsen in de schaduw", fr: "Places assises à l'ombre", de: "Sitzplätze im Schatten" }],
  utci_mean_c: ["°C", -1, { en: "Felt temperature (UTCI)", fi: "Tuntuva lämpötila (UTCI)", sv: "Upplevd temperatur (UTCI)", nl: "Gevoelstemperatuur (UTCI)", fr: "Température ressentie (UTCI)", de: "Gefühlte Temperatur (UTCI)" }],
  strong_heat_pct: ["pp", -1, { en: "Area under strong heat stress", fi: "Voimakkaan lämpökuormituksen alue", sv: "Yta med stark värmestress", nl: "Gebied met sterke hittestress", fr: "Zone en fort stress thermique", de: "Fläche mit starkem Hitzestress" }],
  homes_3_trees_pct: ["pp", 1, { en: "Homes that see 3 trees", fi: "Kodit, joista näkyy 3 puuta", sv: "Bostäder som ser 3 träd", nl: "Woningen die 3 bomen zien", fr: "Logements voyant 3 arbres", de: "Wohnungen mit Blick auf 3 Bäume" }],
  homes_30_canopy_pct: ["pp", 1, { en: "Homes in 30 % tree canopy", fi: "Kodit 30 % latvuspeitossa", sv: "Bostäder med 30 % trädkronor", nl: "Woningen met 30 % bladerdek", fr: "Logements avec 30 % de canopée", de: "Wohnungen mit 30 % Baumkronen" }],
  homes_300_park_pct: ["pp", 1, { en: "Homes within 300 m of a park", fi: "Kodit alle 300 m puistosta", sv: "Bostäder inom 300 m från en park", nl: "Woningen binnen 300 m van een park", fr: "Logements à moins de 300 m d'un parc", de: "Wohnungen bis 300 m vom Park" }],
  homes_3_30_300_pct: ["pp", 1, { en: "Homes meeting 3-30-300", fi: "Kodit, joissa 3-30-300 täyttyy", sv: "Bostäder som uppfyller 3-30-300", nl: "Woningen die aan 3-30-300 voldoen", fr: "Logements respectant 3-30-300", de: "Wohnungen, die 3-30-300 erfüllen" }],
  runoff_m3: ["m³", -1, { en: "Rainwater runoff", fi: "Hulevesien valunta", sv: "Dagvattenavrinning", nl: "Afstromend regenwater", fr: "Ruissellement des pluies", de: "Regenwasserabfluss" }],
  rain_retained_pct: ["pp", 1, { en: "Rain held back", fi: "Pidätetty sadevesi", sv: "Kvarhållet regn", nl: "Vastgehouden regen", fr: "Pluie retenue", de: "Zurückgehaltener Regen" }],
  homes_above_55db_pct: ["pp", -1, { en: "Homes with noise above 55 dB", fi: "Kodit, joissa melu yli 55 dB", sv: "Bostäder med buller över 55 dB", nl: "Woningen boven 55 dB geluid", fr: "Logements à plus de 55 dB", de: "Wohnungen mit Lärm über 55 dB" }],
  facade_lden_mean_db: ["dB", -1, { en: "Average noise at façades", fi: "Keskimääräinen melu julkisivuilla", sv: "Medelbuller vid fasader", nl: "Gemiddeld geluid op gevels", fr: "Bruit moyen en façade", de: "Mittlerer Lärm an Fassaden" }],
};
// Percentage points: a KPI in % changes by points, not by per cent of itself.
const PP = { en: "pp", fi: "%-yks.", sv: "p.e.", nl: "%-punt", fr: "pts", de: "Pp." };
// Map colours by catalog family (see phone.css .i-*).
const FAMILIES = [[/^tree/, "tree"], [/park|play|green-roof/, "green"], [/rain|permeable/, "water"],
  [/bench/, "seat"], [/bike|traffic/, "street"], [/noise/, "barrier"], [/^remove/, "remove"], [/building/, "building"]];

const CODE_RE = /^[A-Za-z0-9]{4,16}$/;
const QUICK_CLOSE = 1001;  // the server is going away (restart): come back at once
const RETRY_CODES = new Set(["busy", "rate_limited"]);
const $ = (id) => document.getElementById(id);

const app = { code: "", lang: "en", state: null, votes: new Map(), statusTimer: 0 };
const net = { ws: null, helloId: "", joined: false, attempt: 0, timer: 0 };

// ---------------------------------------------------------------- small helpers

function store(key, value) {
  try {
    if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, value);
  } catch { /* private mode or full: the page still works, it just forgets */ }
}
function recall(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}

/** A fresh message id: 16 random bytes as base64url, 22 characters. */
function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function h(tag, attrs = {}, ...children) {
  const svg = ["svg", "rect", "circle", "polyline", "path", "g"].includes(tag);
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v); else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

function t(key, vars = {}) {
  const table = UI[app.lang] || UI[app.lang.split("-")[0]] || UI.en;
  const text = table[key] ?? UI.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
}

/** A text in the chosen language, else English, else any. */
function pick(texts) {
  if (typeof texts === "string") return texts;
  if (!texts || typeof texts !== "object") return "";
  return texts[app.lang] ?? texts[app.lang.split("-")[0]] ?? texts.en ?? Object.values(texts)[0] ?? "";
}

function say(text, clearAfterMs = 0) {
  clearTimeout(app.statusTimer);
  $("status").textContent = text;
  if (clearAfterMs) app.statusTimer = setTimeout(() => { $("status").textContent = ""; }, clearAfterMs);
}

// ---------------------------------------------------------------- languages

function languages() {
  const offered = app.state && Array.isArray(app.state.languages) ? app.state.languages.filter((l) => typeof l === "string") : [];
  return offered.length ? offered : Object.keys(UI);
}

function bestLanguage(offered) {
  const wishes = [recall("civictwin.lang"), ...(navigator.languages || [navigator.language || ""])];
  for (const wish of wishes) {
    if (!wish) continue;
    const exact = offered.find((l) => l.toLowerCase() === wish.toLowerCase());
    if (exact) return exact;
    const base = offered.find((l) => l.split("-")[0] === wish.toLowerCase().split("-")[0]);
    if (base) return base;
  }
  return offered.includes("en") ? "en" : offered[0] || "en";
}

function languageName(code) {
  if (LANG_NAMES[code]) return LANG_NAMES[code];
  try { return new Intl.DisplayNames([code], { type: "language" }).of(code) || code; } catch { return code; }
}

function fillLanguagePicker() {
  const select = $("lang");
  const offered = languages();
  if (!offered.includes(app.lang)) app.lang = bestLanguage(offered);
  const same = select.options.length === offered.length && offered.every((l, i) => select.options[i].value === l);
  if (!same) select.replaceChildren(...offered.map((l) => h("option", { value: l, lang: l }, languageName(l))));
  select.value = app.lang;
}

function chooseLanguage(lang) {
  app.lang = lang;
  store("civictwin.lang", lang);
  if (net.joined) send({ type: "event", id: newId(), name: "lang", data: { lang } });
  render();
}

// ---------------------------------------------------------------- connection

function wsUrl() {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
}

function send(frame) {
  if (!net.ws || net.ws.readyState !== WebSocket.OPEN) return false;
  net.ws.send(JSON.stringify({ v: 1, ...frame }));
  return true;
}

function connect() {
  clearTimeout(net.timer);
  net.timer = 0;
  if (!app.code || net.ws) return;
  let ws;
  try { ws = new WebSocket(wsUrl()); } catch { scheduleReconnect(false); return; }
  net.ws = ws;
  net.joined = false;
  ws.addEventListener("open", () => {
    if (ws !== net.ws) return;
    net.helloId = newId();
    const hello = { type: "hello", id: net.helloId, role: "participant", workshop: app.code, lang: app.lang };
    const token = recall("civictwin.participant." + app.code);
    if (token) hello.resume = token;
    send(hello);
  });
  ws.addEventListener("message", (ev) => {
    if (ws !== net.ws || typeof ev.data !== "string") return;
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (msg && typeof msg === "object") onFrame(msg);
  });
  ws.addEventListener("close", (ev) => {
    if (ws !== net.ws) return;
    net.ws = null;
    net.joined = false;
    if (app.code) scheduleReconnect(ev.code === QUICK_CLOSE);
  });
}

/** Exponential backoff with jitter, 0.5 s to 10 s; a server that said "going away" gets a quick retry. */
function scheduleReconnect(quick) {
  if (net.timer || !app.code) return;
  const cap = Math.min(10000, 500 * 2 ** net.attempt);
  const delay = quick ? 100 + Math.random() * 400 : Math.max(500, cap / 2 + Math.random() * cap / 2);
  net.attempt += 1;
  say(t("reconnecting"));
  net.timer = setTimeout(connect, delay);
}

function reconnectNow() {
  if (app.code && !net.ws && net.timer) connect();
}

function disconnect() {
  clearTimeout(net.timer);
  net.timer = 0;
  const ws = net.ws;
  net.ws = null;
  net.joined = false;
  if (ws) ws.close(1000);
}

function onFrame(msg) {
  if (msg.type === "state") {
    if (msg.state && (!app.state || !(msg.state.rev < app.state.rev))) applyState(msg.state);
    return;
  }
  if (msg.type !== "ack" && msg.type !== "error") return;
  if (msg.re && msg.re === net.helloId) {
    onHello(msg);
    return;
  }
  for (const [question, vote] of app.votes) {
    if (vote.id !== msg.re) continue;
    if (msg.type === "ack") {
      vote.status = "received";
      say(t("received"), 2500);
    } else if (RETRY_CODES.has(msg.code)) {
      setTimeout(flushVotes, 1000 + Math.random() * 2000);
    } else {
      vote.status = "error";
      vote.message = String(msg.message || msg.code || "");
      say(vote.message);
    }
    app.votes.set(question, vote);
    saveVotes();
    render();
    return;
  }
}

function onHello(msg) {
  if (msg.type === "error") {
    if (msg.code === "bad_workshop") {
      leave(String(msg.message || t("bad_code")));
      return;
    }
    if (msg.code === "bad_token") store("civictwin.participant." + app.code, null);
    if (net.ws) net.ws.close(4000);  // busy, rate_limited…: the close handler retries with backoff
    return;
  }
  const wasRetrying = net.attempt > 0;
  net.joined = true;
  net.attempt = 0;
  if (typeof msg.participant === "string") store("civictwin.participant." + app.code, msg.participant);
  app.state = null;  // the hello's state is authoritative, whatever rev we saw before
  if (msg.state) applyState(msg.state);
  say(wasRetrying ? t("connected") : "", 3000);
  flushVotes();
}

// ---------------------------------------------------------------- votes

function loadVotes() {
  app.votes = new Map();
  try {
    const saved = JSON.parse(recall("civictwin.votes." + app.code) || "{}");
    for (const [q, v] of Object.entries(saved)) if (v && typeof v.id === "string") app.votes.set(q, v);
  } catch { /* a corrupt entry is forgotten */ }
}

function saveVotes() {
  store("civictwin.votes." + app.code, JSON.stringify(Object.fromEntries(app.votes)));
}

/** Send every vote not yet acknowledged, with the SAME id as before: the server stores it once. */
function flushVotes() {
  if (!net.joined) return;
  for (const [question, vote] of app.votes) {
    if (vote.status === "sending") send({ type: "vote", id: vote.id, question, choice: vote.choice });
  }
}

function castVote(question, choice) {
  app.votes.set(question, { id: newId(), choice, status: "sending" });
  saveVotes();
  say(t("sending"));
  flushVotes();
  render();
}

// ---------------------------------------------------------------- state and rendering

function applyState(state) {
  app.state = state;
  render();
}

function join(code) {
  app.code = code.toUpperCase();
  store("civictwin.code", app.code);
  const url = new URL(location.href);
  url.searchParams.set("w", app.code);
  history.replaceState(null, "", url);
  loadVotes();
  app.state = null;
  net.attempt = 0;
  say(t("connecting"));
  render();
  connect();
}

function leave(errorText = "") {
  disconnect();
  app.code = "";
  app.state = null;
  const url = new URL(location.href);
  url.searchParams.delete("w");
  history.replaceState(null, "", url);
  say("");
  render();
  const error = $("code-error");
  error.textContent = errorText;
  error.hidden = !errorText;
  $("code").setAttribute("aria-invalid", errorText ? "true" : "false");
  $("code").focus();
}

function render() {
  const focusKey = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : "";
  fillLanguagePicker();
  document.documentElement.lang = app.lang;
  const state = app.state;
  const title = state ? pick(state.title) : "";
  $("title").textContent = title || "civictwin";
  document.title = (title ? title + " · " : "") + "civictwin";
  $("lang-label").textContent = t("lang");
  $("join-heading").textContent = t("join_heading");
  $("code-label").textContent = t("code");
  $("code-help").textContent = t("code_help");
  $("join-button").textContent = t("join");
  $("leave").textContent = t("leave");
  $("join").hidden = Boolean(app.code);
  $("room").hidden = !app.code;
  if (app.code) {
    const phase = state ? state.phase : "";
    $("phase").textContent = state ? t(phase) : t("connecting");
    $("explain").textContent = state ? t("ex_" + phase) : "";
    $("content").replaceChildren(...(state ? phaseContent(state) : []));
  }
  tickTimer();
  if (focusKey) {
    const again = document.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
    if (again && again !== document.activeElement) again.focus();
  }
}

function phaseContent(state) {
  const counts = state.counts || {};
  const people = Number.isFinite(counts.participants) ? h("p", { class: "meta" }, t("people", { n: counts.participants })) : null;
  switch (state.phase) {
    case "vote": return voteContent(state);
    case "reveal": case "closed": return [talliesContent(state)];
    case "propose": return [people, h("p", { class: "meta" }, t("proposals_n", { n: (state.proposals || []).length }))];
    default: return [people];
  }
}

function questionsShown(state) {
  const all = Array.isArray(state.questions) ? state.questions : [];
  const current = all.find((q) => q.id === state.current_question);
  return current ? [current] : all;
}

function voteContent(state) {
  const out = [];
  if (state.locked) out.push(h("p", { class: "notice" }, t("locked")));
  const questions = questionsShown(state);
  if (!questions.length) out.push(h("p", { class: "meta" }, t("no_questions")));
  for (const q of questions) {
    const headingId = "q-" + q.id;
    const section = h("section", { class: "question", "aria-labelledby": headingId },
      h("h3", { id: headingId }, pick(q.text)));
    if (q.kind === "proposal") {
      const proposals = Array.isArray(state.proposals) ? state.proposals : [];
      if (!proposals.length) section.append(h("p", { class: "meta" }, t("no_proposals")));
      for (const p of proposals) section.append(proposalCard(state, q, p));
    } else {
      const choices = q.kind === "score"
        ? [1, 2, 3, 4, 5].map((n) => [n, String(n)])
        : (q.options || []).map((o) => [o.id, pick(o.label)]);
      const score = q.kind === "score";
      section.append(h("div", { class: score ? "choices score" : "choices", role: "group", "aria-labelledby": headingId },
        choices.map(([choice, label]) => voteButton(state, q, choice, label, {}, score))));
      // Five narrow buttons have no room for the words: they show a mark, the line below says it.
      const vote = app.votes.get(q.id);
      if (score && vote) section.append(h("p", { class: "vote-note " + vote.status }, `${vote.choice}: ${voteText(vote)}`));
    }
    out.push(section);
  }
  return out;
}

function voteText(vote) {
  return vote.status === "received" ? t("received") : vote.status === "error" ? vote.message : t("sending");
}

const MARKS = { sending: "…", received: "✓", error: "!" };

function voteButton(state, q, choice, label, extra = {}, narrow = false) {
  const vote = app.votes.get(q.id);
  const mine = vote && vote.choice === choice;
  const badge = mine ? (narrow ? MARKS[vote.status] : voteText(vote)) : "";
  return h("button", {
    type: "button", class: "choice" + (mine ? " mine " + vote.status : ""), "aria-pressed": mine ? "true" : "false",
    "data-key": q.id + "/" + choice, disabled: Boolean(state.locked), onclick: () => castVote(q.id, choice), ...extra,
  }, h("span", { class: "label" }, label), badge ? h("span", { class: "badge" }, badge) : null);
}

function proposalCard(state, q, p) {
  const titleId = "p-" + q.id + "-" + p.id;
  const kpis = p.kpis && typeof p.kpis === "object" ? Object.entries(p.kpis) : [];
  const interventions = Array.isArray(p.interventions) ? p.interventions : [];
  return h("article", { class: "proposal", "aria-labelledby": titleId },
    h("h4", { id: titleId }, h("span", { class: "pid" }, p.id), " ", p.title || ""),
    p.description ? h("p", { class: "desc" }, p.description) : null,
    proposalMap(interventions, state.area_m),
    interventions.length ? h("p", { class: "meta" }, summary(interventions)) : null,
    kpis.length ? h("ul", { class: "kpis" }, kpis.map(([name, value]) => kpiItem(name, value))) : null,
    voteButton(state, q, p.id, t("choose"), { "aria-describedby": titleId }));
}

function summary(interventions) {
  const counts = new Map();
  for (const i of interventions) counts.set(i.catalog, (counts.get(i.catalog) || 0) + 1);
  return [...counts].map(([c, n]) => `${n} × ${String(c).replace(/-/g, " ")}`).join(", ");
}

function kpiItem(name, value) {
  const known = KPIS[name];
  const number = Number(value);
  const digits = Math.abs(number) >= 10 ? 0 : 1;
  const text = new Intl.NumberFormat(app.lang, { maximumFractionDigits: digits, signDisplay: "exceptZero" }).format(number);
  const unit = known ? (known[0] === "pp" ? pick(PP) : known[0]) : "";
  const better = known && number !== 0 ? (Math.sign(number) === known[1] ? " good" : " bad") : "";
  return h("li", { class: "kpi" + better }, h("span", { class: "name" }, known ? pick(known[2]) : name),
    h("span", { class: "value" }, unit ? `${text}\u00a0${unit}` : text));
}

// ---------------------------------------------------------------- the proposal's map

function rings(geometry) {
  const c = geometry && geometry.coordinates;
  switch (geometry && geometry.type) {
    case "Point": return [[c]];
    case "LineString": return [c];
    case "Polygon": return c;
    default: return [];
  }
}

function okPoint(p) {
  return Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1]);
}

/** A small SVG of the interventions in local metres (y north), scaled into the workshop area. */
function proposalMap(interventions, area) {
  let [x0, y0, x1, y1] = Array.isArray(area) && area.length === 4 && area.every(Number.isFinite) ? area : [0, 0, 0, 0];
  if (!(x1 > x0 && y1 > y0)) {
    const pts = interventions.flatMap((i) => rings(i.geometry).flat()).filter(okPoint);
    if (!pts.length) return null;
    x0 = Math.min(...pts.map((p) => p[0])) - 20; x1 = Math.max(...pts.map((p) => p[0])) + 20;
    y0 = Math.min(...pts.map((p) => p[1])) - 20; y1 = Math.max(...pts.map((p) => p[1])) + 20;
  }
  const w = x1 - x0, hgt = y1 - y0, r = Math.max(w, hgt) * 0.015;
  const xy = (p) => `${p[0]},${-p[1]}`;
  const shapes = interventions.map((i) => {
    const family = (FAMILIES.find(([re]) => re.test(String(i.catalog))) || [null, "other"])[1];
    const cls = "i i-" + family;
    const g = i.geometry || {};
    const parts = rings(g).map((ring) => (Array.isArray(ring) ? ring.filter(okPoint) : [])).filter((ring) => ring.length);
    if (!parts.length) return null;
    if (g.type === "Point") return h("circle", { class: cls, cx: parts[0][0][0], cy: -parts[0][0][1], r });
    if (g.type === "LineString") return h("polyline", { class: cls + " line", points: parts[0].map(xy).join(" ") });
    return h("path", { class: cls + " area", "fill-rule": "evenodd", d: parts.map((ring) => "M" + ring.map(xy).join("L") + "Z").join("") });
  });
  return h("svg", { class: "map", viewBox: `${x0} ${-y1} ${w} ${hgt}`, role: "img", "aria-label": t("map", { n: interventions.length }),
    preserveAspectRatio: "xMidYMid meet" }, h("rect", { class: "ground", x: x0, y: -y1, width: w, height: hgt }), shapes);
}

// ---------------------------------------------------------------- results

function talliesContent(state) {
  if (!state.tallies || typeof state.tallies !== "object") return h("p", { class: "meta" }, t("no_results"));
  const proposals = Array.isArray(state.proposals) ? state.proposals : [];
  const wrap = h("div", { class: "results" });
  for (const q of state.questions || []) {
    const counts = state.tallies[q.id];
    if (!counts || typeof counts !== "object") continue;
    const labels = q.kind === "score" ? ["1", "2", "3", "4", "5"].map((s) => [s, s])
      : q.kind === "proposal" ? proposals.map((p) => [p.id, `${p.id} · ${p.title || ""}`])
        : (q.options || []).map((o) => [o.id, pick(o.label)]);
    for (const key of Object.keys(counts)) if (!labels.some(([k]) => k === key)) labels.push([key, key]);
    const max = Math.max(1, ...labels.map(([k]) => Number(counts[k]) || 0));
    const headingId = "r-" + q.id;
    wrap.append(h("section", { class: "question", "aria-labelledby": headingId }, h("h3", { id: headingId }, pick(q.text)),
      h("ul", { class: "bars" }, labels.map(([key, label]) => {
        const n = Number(counts[key]) || 0;
        const fill = h("span", { class: "fill" });
        fill.style.width = `${(100 * n) / max}%`;  // CSSOM, allowed by the page's CSP (no inline style attributes)
        return h("li", { "aria-label": `${label}: ${t("votes_n", { n })}` },
          h("span", { class: "bar-label", "aria-hidden": "true" }, label),
          h("span", { class: "bar", "aria-hidden": "true" }, fill),
          h("span", { class: "bar-count", "aria-hidden": "true" }, String(n)));
      }))));
  }
  return wrap;
}

// ---------------------------------------------------------------- timer (client clock)

function tickTimer() {
  const el = $("timer");
  const ends = app.state && app.code ? Date.parse(app.state.timer_ends_at || "") : NaN;
  if (!Number.isFinite(ends)) {
    el.hidden = true;
    return;
  }
  const left_s = Math.max(0, Math.ceil((ends - Date.now()) / 1000));
  const text = `${Math.floor(left_s / 60)}:${String(left_s % 60).padStart(2, "0")}`;
  el.hidden = false;
  el.textContent = `${t("time_left")} ${text}`;
}

// ---------------------------------------------------------------- start

function start() {
  app.lang = bestLanguage(Object.keys(UI));
  $("lang").addEventListener("change", (ev) => chooseLanguage(ev.target.value));
  $("join").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const code = $("code").value.trim();
    if (CODE_RE.test(code)) join(code); else leave(t("bad_code"));
  });
  $("leave").addEventListener("click", () => leave());
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") reconnectNow(); });
  setInterval(tickTimer, 500);
  const fromLink = new URLSearchParams(location.search).get("w") || "";
  $("code").value = fromLink || recall("civictwin.code") || "";
  if (CODE_RE.test(fromLink)) join(fromLink); else render();
}

start();
