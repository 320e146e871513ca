/*! leadscore.js | first-party tracker for leadscore (POST /track, contract C1) | Apache-2.0 */
// Install: <script async src="/leadscore.js" data-api="https://API/track"></script>
// Plain ES2017, no dependencies. Every entry point is wrapped by `safe`: the host page never sees our errors.
(function (w, d) {
  'use strict';

  // ---- config: read once from our own <script> tag ----
  var COOKIE = 'ls_vid';
  var FIELD = 'ls_visitor_id';
  var MAX_AGE_S = 395 * 86400;
  var VIEW_DELAY_MS = 2000; // a page view waits this long (or until hidden) so a short visit costs one request
  var NEW_ENGAGED_MS = 3000; // an engagement goes out only with this much more engaged time (or a deeper scroll)
  var MAX_EVENTS = 20;
  var MAX_BYTES = 16384;
  var UTM = ['source', 'medium', 'campaign', 'term', 'content'];
  var nav = w.navigator;
  var script = d.currentScript || d.querySelector('script[data-api]');
  var api = script && script.getAttribute('data-api');
  var cookieDomain = script && script.getAttribute('data-cookie-domain');
  // Opt-outs the browser states for its user win over everything, consent included.
  var optedOut = nav.globalPrivacyControl === true || nav.doNotTrack === '1';
  var consent = !(script && script.getAttribute('data-require-consent') === 'true'); // false until given

  function safe(fn) {
    return function () {
      try {
        return fn.apply(this, arguments);
      } catch (e) {
        // Swallowed on purpose: analytics must never break the site it runs on.
      }
    };
  }

  function allowed() {
    return consent && !optedOut;
  }

  // ---- ids and the visitor cookie (the only thing stored; no fingerprinting) ----
  function randomId(bytes) {
    var a = w.crypto.getRandomValues(new Uint8Array(bytes));
    return btoa(String.fromCharCode.apply(null, a)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function setCookie(value, maxAge) {
    d.cookie = COOKIE + '=' + value + '; Path=/; Max-Age=' + maxAge + '; SameSite=Lax' +
      (cookieDomain ? '; Domain=' + cookieDomain : '') + (location.protocol === 'https:' ? '; Secure' : '');
  }

  var visitorId = null;
  function visitor() {
    if (!visitorId) {
      var m = d.cookie.match(/(?:^|;\s*)ls_vid=([\w-]{22})(?:;|$)/);
      visitorId = m ? m[1] : randomId(16); // 128 bits -> 22 base64url characters
      setCookie(visitorId, MAX_AGE_S); // also renews the expiry on each visit
    }
    return visitorId;
  }

  // ---- email-link token: read once, removed from the address bar at once, sent with the next beacon ----
  var token = null;
  safe(function () {
    var u = new URL(location.href);
    var t = u.searchParams.get('ls_t');
    if (t === null) return;
    u.searchParams.delete('ls_t');
    history.replaceState(history.state, '', u.href);
    if (t && t.length <= 128) token = t; // the server's tokens are far shorter: anything longer is not one
  })();

  // ---- transport: one JSON text body per beacon, at most 20 events and 16 KiB ----
  function clip(s, n) {
    return s ? String(s).slice(0, n) : null;
  }

  function body(events) {
    var b = { v: 1, visitor_id: visitor(), events: events };
    if (token) b.token = token;
    return JSON.stringify(b);
  }

  function beacon(text) {
    var queued = false;
    try {
      queued = nav.sendBeacon(api, text); // text/plain;charset=UTF-8: a simple request, no CORS preflight
    } catch (e) {
      // No sendBeacon (or it refused): fall back to fetch below.
    }
    if (!queued && w.fetch) {
      var send = function (keepalive) {
        return fetch(api, { method: 'POST', body: text, keepalive: keepalive, credentials: 'omit', mode: 'no-cors' });
      };
      // Beacons and keepalive requests share a 64 KiB in-flight budget; past it, a plain request still goes.
      send(true).catch(function () {
        return send(false);
      }).catch(function () {});
    }
    token = null; // sent once
  }

  function post(events) {
    var size = new TextEncoder();
    while (events.length) {
      var n = Math.min(events.length, MAX_EVENTS);
      var text = body(events.slice(0, n));
      while (n > 1 && size.encode(text).length > MAX_BYTES) text = body(events.slice(0, --n));
      events = events.slice(n);
      beacon(text);
    }
  }

  // ---- the current page: its view, engaged time (visible and focused only) and scroll depth ----
  var page = null;
  var queue = []; // events of earlier (SPA) pages not sent yet
  var timer = null;

  function startPage(referrer) {
    var u = new URL(location.href);
    u.hash = ''; // fragments often hold app state or secrets; never sent
    var utm = {};
    UTM.forEach(function (k) {
      utm[k] = clip(u.searchParams.get('utm_' + k), 256);
    });
    // ms: engaged time banked; since: when the running stretch began (null: not running); sent*: last reported
    page = {
      id: randomId(12), url: u.href, ms: 0, since: null, depth: 0, scrolled: false,
      viewSent: false, sentMs: 0, sentDepth: 0
    };
    page.view = {
      type: 'page_view', id: page.id, ts: Date.now(), url: clip(u.href, 2048), path: clip(u.pathname, 1024),
      title: clip(d.title, 512), referrer: clip(referrer, 2048), utm: utm
    };
    startClock();
  }

  function startClock() {
    if (page.since === null && d.visibilityState === 'visible' && d.hasFocus()) page.since = Date.now();
  }

  function stopClock() {
    if (page.since !== null) page.ms += Date.now() - page.since;
    page.since = null;
  }

  function measureScroll() {
    var e = d.documentElement;
    var height = Math.max(e.scrollHeight, d.body ? d.body.scrollHeight : 0);
    var seen = height ? Math.round(((w.scrollY || e.scrollTop) + w.innerHeight) / height * 100) : 100;
    page.depth = Math.max(page.depth, Math.min(seen, 100));
  }

  // An engagement event only when it says something new: 3 s more engaged time, or a deeper scroll.
  function engagement() {
    // At most a day: a tab left focused over a weekend is not a weekend of reading (and /track refuses more).
    var ms = Math.min(page.ms + (page.since === null ? 0 : Date.now() - page.since), 864e5);
    measureScroll();
    if (!page.viewSent) return null; // never an engagement for a page view that did not go out
    if (ms - page.sentMs < NEW_ENGAGED_MS && !(page.scrolled && page.depth > page.sentDepth)) return null;
    page.sentMs = ms;
    page.sentDepth = page.depth;
    // engaged_ms is the page's total so far (not a delta), so a lost or repeated beacon never skews it.
    return { type: 'engagement', id: randomId(12), ts: Date.now(), page_id: page.id, engaged_ms: ms, scroll_depth: page.depth };
  }

  function flush(leaving) {
    clearTimeout(timer);
    timer = null;
    if (!allowed()) return;
    var events = queue;
    queue = [];
    if (page.view) {
      page.view.title = clip(d.title, 512); // apps often set the title after the URL: read it as late as possible
      events.push(page.view);
      page.viewSent = true;
    }
    page.view = null;
    var e = leaving && engagement();
    if (e) events.push(e);
    if (events.length) post(events);
  }

  function schedule() {
    if (!timer) timer = setTimeout(safe(flush), VIEW_DELAY_MS);
  }

  function newPage() {
    stopClock();
    if (allowed()) {
      if (page.view) {
        queue.push(page.view);
        page.viewSent = true;
      }
      var e = engagement();
      if (e) queue.push(e);
    }
    startPage(page.url);
    if (allowed()) schedule();
  }

  // data-spa="history": a page view for each pushState/popstate that changes the URL (fragment aside).
  function onRoute() {
    var u = new URL(location.href);
    u.hash = '';
    if (u.href !== page.url) newPage();
  }

  function watchHistory() {
    var push = history.pushState;
    history.pushState = function () {
      var result = push.apply(this, arguments); // the app's own errors stay the app's
      safe(onRoute)();
      return result;
    };
    w.addEventListener('popstate', safe(onRoute));
  }

  function leave() {
    stopClock();
    flush(true);
  }

  // ---- forms: every <form> carries the visitor id, also forms added later ----
  function decorateForms() {
    for (var i = 0; i < d.forms.length; i++) {
      var form = d.forms[i];
      var input = form.querySelector('input[name="' + FIELD + '"]');
      if (!allowed()) {
        if (input && input.lsAdded) input.remove();
        else if (input) input.value = '';
        continue;
      }
      if (!input) {
        input = d.createElement('input');
        input.type = 'hidden';
        input.name = FIELD;
        input.lsAdded = true;
        form.appendChild(input);
      }
      if (input.value !== visitor()) input.value = visitor();
    }
  }

  // ---- consent and commands ----
  function activate() {
    if (!allowed()) return;
    visitor();
    decorateForms();
    schedule();
  }

  function setConsent(given) {
    consent = given === true;
    if (consent) return activate();
    // Withdrawn: drop what is unsent, forget the visitor, take the id out of the forms.
    clearTimeout(timer);
    timer = null;
    queue = [];
    page.view = null;
    token = null;
    visitorId = null;
    setCookie('', 0);
    decorateForms();
  }

  function command(name, arg) {
    if (name === 'consent') setConsent(arg);
    else if (name === 'page') newPage();
  }

  var start = safe(function () {
    if (!api) return;
    var pending = (w.leadscore && w.leadscore.q) || [];
    startPage(d.referrer);
    w.leadscore = safe(command);
    w.addEventListener('focus', safe(startClock));
    w.addEventListener('blur', safe(stopClock));
    d.addEventListener('visibilitychange', safe(function () {
      if (d.visibilityState === 'visible') startClock();
      else leave();
    }));
    w.addEventListener('pagehide', safe(leave));
    w.addEventListener('scroll', safe(function () {
      page.scrolled = true;
      measureScroll();
    }), { passive: true });
    new MutationObserver(safe(decorateForms)).observe(d.documentElement, { childList: true, subtree: true });
    if (script.getAttribute('data-spa') === 'history') watchHistory();
    for (var i = 0; i < pending.length; i++) w.leadscore.apply(null, pending[i]);
    activate();
  });
  // A page prerendered on speculation is not a visit until the visitor actually opens it.
  if (d.prerendering) d.addEventListener('prerenderingchange', start, { once: true });
  else start();
})(window, document);
