// leadscore console: the hot list, a lead's page and feedback, over the leads API only. No framework, no build.
// Sign-in: locally, a token from the local issuer (config.json auth "local"); on AWS, Cognito's hosted UI with
// the authorization code flow + PKCE (config.json auth "cognito"). The token lives in sessionStorage only.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const TOKEN = "leadscore.token";
  let config = { api: "", auth: "paste" };
  let cursor = null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = value; else node.setAttribute(name, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  async function api(method, path, body, headers) {
    const response = await fetch(config.api + path, {
      method,
      headers: Object.assign({ Authorization: "Bearer " + sessionStorage.getItem(TOKEN) },
        body ? { "Content-Type": "application/json" } : {}, headers || {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) { signOut(); throw new Error("Signed out: the token was refused."); }
    if (!response.ok) throw new Error(data.message || ("HTTP " + response.status));
    return data;
  }

  // --- sign-in ----------------------------------------------------------------------------------
  function b64url(bytes) {
    return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function cognitoSignIn() {
    const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
    const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
    sessionStorage.setItem("leadscore.pkce", JSON.stringify({ verifier, state }));
    const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const c = config.cognito;
    const query = new URLSearchParams({
      response_type: "code", client_id: c.client_id, redirect_uri: location.origin + location.pathname,
      scope: c.scopes, state, code_challenge: challenge, code_challenge_method: "S256",
    });
    location.assign(c.domain + "/oauth2/authorize?" + query);
  }

  async function cognitoCallback() {
    const params = new URLSearchParams(location.search);
    const saved = JSON.parse(sessionStorage.getItem("leadscore.pkce") || "{}");
    if (!params.get("code") || params.get("state") !== saved.state) return;
    const c = config.cognito;
    const response = await fetch(c.domain + "/oauth2/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code", client_id: c.client_id, code: params.get("code"),
        redirect_uri: location.origin + location.pathname, code_verifier: saved.verifier,
      }),
    });
    const tokens = await response.json();
    if (tokens.access_token) sessionStorage.setItem(TOKEN, tokens.access_token);
    sessionStorage.removeItem("leadscore.pkce");
    history.replaceState(null, "", location.pathname);
  }

  async function signIn() {
    $("signin-error").textContent = "";
    try {
      if (config.auth === "local") {
        const response = await fetch(config.local_token_url);
        sessionStorage.setItem(TOKEN, (await response.json()).access_token);
        start();
      } else if (config.auth === "cognito") {
        await cognitoSignIn();
      } else {
        $("signin-error").textContent = "Paste a bearer token below.";
      }
    } catch (error) { $("signin-error").textContent = error.message; }
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN);
    $("app").hidden = true; $("signout").hidden = true; $("signin").hidden = false; $("who").textContent = "";
  }

  function start() {
    const token = sessionStorage.getItem(TOKEN);
    if (!token) { signOut(); return; }
    try {
      const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      $("who").textContent = (claims.email || claims.username || claims.sub || "") + " · " + (claims.scope || "");
    } catch (_) { $("who").textContent = ""; }
    $("signin").hidden = true; $("app").hidden = false; $("signout").hidden = false;
    loadHot(false);
  }

  // --- hot list ---------------------------------------------------------------------------------
  async function loadHot(more) {
    $("hot-error").textContent = "";
    const body = $("hot").tBodies[0];
    if (!more) { body.replaceChildren(); cursor = null; }
    const query = new URLSearchParams({ model: $("model").value, limit: "25" });
    const awaiting = $("stage").value === "awaiting";  // alerts without feedback (the feedback SLA), oldest first
    if (awaiting) query.set("awaiting_feedback", "true");
    else if ($("stage").value) query.set("stage", $("stage").value);
    if (more && cursor) query.set("cursor", cursor);
    try {
      const page = await api("GET", "/leads?" + query);
      for (const lead of page.items) {
        const who = lead.name || lead.lead_id.slice(0, 10) + "…";
        const detail = [lead.company, lead.job_title].filter(Boolean).join(" · ");
        const waited = awaiting ? ` · alerted ${lead.alerted_at}` + (lead.overdue ? " · overdue" : "") : "";
        const row = el("tr", { "data-lead": lead.lead_id, class: lead.overdue ? "overdue" : "" },
          el("td", {}, el("span", { class: "who", text: who }), el("br"),
            el("small", { class: "muted", text: detail + waited })),
          el("td", { text: lead.stage }),
          el("td", { text: lead.band }), el("td", { class: "num", text: lead.total.toFixed(1) }));
        row.addEventListener("click", () => openLead(lead.lead_id));
        body.append(row);
      }
      cursor = page.cursor;
      $("more").hidden = !cursor;
    } catch (error) { $("hot-error").textContent = error.message; }
  }

  // --- a lead's page ----------------------------------------------------------------------------
  function barChart(lines) {
    const NS = "http://www.w3.org/2000/svg";
    const rowHeight = 22, labelWidth = 190, width = 520, barSpace = width - labelWidth - 60;
    const max = Math.max(1, ...lines.map((line) => Math.abs(line.points)));
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${rowHeight * lines.length + 4}`);
    svg.setAttribute("width", String(width));
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "score breakdown by rule");
    svg.id = "breakdown";
    lines.forEach((line, i) => {
      const y = i * rowHeight + 2;
      const label = document.createElementNS(NS, "text");
      label.setAttribute("x", "0"); label.setAttribute("y", String(y + 15)); label.setAttribute("font-size", "12");
      label.textContent = line.rule;
      const bar = document.createElementNS(NS, "rect");
      const length = Math.max(1, (Math.abs(line.points) / max) * barSpace);
      bar.setAttribute("x", String(labelWidth)); bar.setAttribute("y", String(y + 3));
      bar.setAttribute("width", String(length)); bar.setAttribute("height", "14");
      bar.setAttribute("fill", line.points >= 0 ? "#2563eb" : "#dc2626");
      bar.setAttribute("data-rule", line.rule);
      const title = document.createElementNS(NS, "title");
      title.textContent = `${line.rule}: ${line.points} points, ${line.hits} hits, last ${line.last_activity || "—"}`;
      bar.append(title);
      const value = document.createElementNS(NS, "text");
      value.setAttribute("x", String(labelWidth + length + 4)); value.setAttribute("y", String(y + 15));
      value.setAttribute("font-size", "12");
      value.textContent = line.points.toFixed(2);
      svg.append(label, bar, value);
    });
    return svg;
  }

  function feedbackButtons(leadId) {
    const status = el("p", { id: "feedback-status" });
    const reason = el("select", { id: "reason", "aria-label": "reason" });
    for (const r of ["bad_fit", "no_intent", "wrong_contact", "duplicate", "competitor", "other"]) {
      reason.append(el("option", { text: r }));
    }
    const amount = el("input", { id: "amount", type: "number", min: "0", step: "0.01", placeholder: "amount", size: "8" });
    const currency = el("input", { id: "currency", value: "EUR", size: "3", "aria-label": "currency" });
    async function send(body) {
      status.textContent = "…"; status.className = "";
      try {
        const result = await api("POST", `/leads/${leadId}/feedback`, body, { "Idempotency-Key": crypto.randomUUID() });
        status.textContent = `Recorded: ${result.outcome}`; status.className = "ok";
        openLead(leadId);
      } catch (error) { status.textContent = error.message; status.className = "error"; }
    }
    const money = () => (amount.value ? { amount: Number(amount.value), currency: currency.value } : {});
    const button = (id, label, body) => {
      const b = el("button", { id, text: label }); b.addEventListener("click", () => send(body())); return b;
    };
    return el("div", {},
      button("accept", "Accept", () => ({ outcome: "accepted" })),
      button("reject", "Reject", () => ({ outcome: "rejected", reason: reason.value })), reason,
      button("won", "Won", () => Object.assign({ outcome: "won" }, money())),
      button("lost", "Lost", () => Object.assign({ outcome: "lost" }, money())), amount, currency, status);
  }

  // The model's predictive block, beside the rules (never instead): probability now and its top factors.
  function predictiveLine(p) {
    const factors = el("ul", { class: "factors" });
    for (const f of p.factors) {
      factors.append(el("li", { text: `${f.contribution >= 0 ? "+" : "−"} ${f.label} (${f.contribution.toFixed(2)})` }));
    }
    return el("div", { class: "predictive" },
      el("p", { text: `Probability ${(p.probability * 100).toFixed(0)}% likely to convert` +
        (p.p_stage ? ` · predictive stage ${p.p_stage}` : "") + ` · artefact ${p.artefact_version}` }),
      factors);
  }

  async function openLead(leadId) {
    const section = $("lead");
    try {
      const lead = await api("GET", "/leads/" + encodeURIComponent(leadId));
      const parts = [el("h2", { id: "lead-email", text: lead.email || lead.lead_id }),
        el("p", { class: "muted", text: Object.entries(lead.attributes).map(([k, v]) => `${k}: ${v}`).join(" · ") })];
      for (const score of lead.models) {
        parts.push(el("h3", { text: `${score.model_id} — total ${score.total.toFixed(1)} (fit ${score.fit.toFixed(1)}, ` +
          `engagement ${score.engagement.toFixed(1)}) · ${score.stage} · band ${score.band}` }));
        parts.push(barChart(score.breakdown));
        if (score.predictive) parts.push(predictiveLine(score.predictive));
        const history = score.stage_history;
        parts.push(el("p", { text: `Stage ${history.stage} since ${history.entered_at || "—"}` +
          (history.recycled_at ? `, recycled ${history.recycled_at}` : "") +
          ` · alerts sent ${score.alerts_sent}` + (score.suppressed ? " · suppressed" : "") }));
        if (score.awaiting_feedback_since) {
          parts.push(el("p", { class: "awaiting", text: `Alert sent ${score.awaiting_feedback_since}: awaiting feedback` +
            (score.sla_reported_at ? ` (reported to ops ${score.sla_reported_at})` : "") }));
        }
        const periods = el("table", { class: "stage-history", "aria-label": `stage history ${score.model_id}` },
          el("thead", {}, el("tr", {}, el("th", { text: "Stage" }), el("th", { text: "Entered" }), el("th", { text: "Left" }))));
        const rows = el("tbody");
        for (const period of history.periods || []) {
          rows.append(el("tr", {}, el("td", { text: period.stage }), el("td", { text: period.entered_at || "—" }),
            el("td", { text: period.left_at || "now" })));
        }
        periods.append(rows);
        parts.push(periods);
      }
      parts.push(el("h3", { text: "Activity" }));
      const activity = el("ul", { id: "activity" });
      for (const line of lead.activity) activity.append(el("li", { text: `${line.day} ${line.rule} (${line.hits}×)` }));
      parts.push(activity);
      parts.push(el("h3", { text: "Feedback" }));
      const feedback = el("ul", { id: "feedback" });
      for (const f of lead.feedback) {
        feedback.append(el("li", { text: `${f.recorded_at} ${f.outcome}` + (f.reason ? ` (${f.reason})` : "") +
          (f.amount != null ? ` ${f.amount} ${f.currency}` : "") + (f.recorded_by ? ` by ${f.recorded_by}` : "") }));
      }
      parts.push(feedback, feedbackButtons(lead.lead_id));
      section.replaceChildren(...parts);
    } catch (error) { section.replaceChildren(el("p", { class: "error", text: error.message })); }
  }

  // --- wiring -----------------------------------------------------------------------------------
  $("signin-button").addEventListener("click", signIn);
  $("token-use").addEventListener("click", () => { sessionStorage.setItem(TOKEN, $("token-input").value.trim()); start(); });
  $("signout").addEventListener("click", signOut);
  $("hot-form").addEventListener("submit", (event) => { event.preventDefault(); loadHot(false); });
  $("more").addEventListener("click", () => loadHot(true));

  fetch("config.json").then((r) => (r.ok ? r.json() : {})).catch(() => ({})).then(async (loaded) => {
    config = Object.assign(config, loaded);
    if (config.auth === "cognito") await cognitoCallback();
    if (sessionStorage.getItem(TOKEN)) start(); else signOut();
  });
})();
