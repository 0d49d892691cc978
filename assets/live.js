/* NOC Intelligence live bridge (README "Live channel").

   One WebSocket to /ws for the life of the page (Dash page changes keep it), reconnecting with
   exponential backoff and jitter, resuming from the last cursor so nothing is missed. It writes
   into dcc.Stores of the app shell (components/live.py) with dash_clientside.set_props:

     live-events  {seq, first_seq, cursor, events}: the events received in the last few seconds,
                  numbered seq-(n-1)..seq. A page callback keeps the last seq it handled and takes
                  the ones after it; if first_seq is past it, it missed some and reloads.
                  (A window, not just the latest batch: Dash may coalesce store updates.)
     live-status  {state: "connecting"|"live"|"reconnecting"|"offline", since, last_event_at,
                  last_event_time, cursor, reason}
     live-resync  {seq, reason, cursor}: the view may have a gap (first connect, overflow, gap too
                  old to replay): reload it from the server.

   Started by a clientside callback (components/live.py), so Dash is ready before the first write.
   Ids come from the server with the config: nothing here duplicates them. */
(function () {
  "use strict";

  var SESSION_ENDED = 4401;          // the server closed: signed out, deactivated or revoked
  var BACKOFF_BASE_MS = 500;
  var BACKOFF_MAX_MS = 30000;
  var OFFLINE_AFTER_MS = 15000;      // "reconnecting" this long becomes "offline"
  var STALE_AFTER_BEATS = 2.5;       // no message for this many heartbeats: the link is dead
  var SEEN_MAX = 5000;               // ids remembered to drop the ones a resume sends again
  var STATUS_EVERY_MS = 1000;        // last_event_at is written at most this often

  function Bridge(config) {
    this.config = config;
    this.ids = config.ids;
    this.ws = null;
    this.cursor = null;              // resume point (the "cursor" of the last message)
    this.seen = new Map();           // event id -> true, insertion ordered, bounded
    this.window = [];                // [{seq, at, event}] for live-events
    this.seq = 0;
    this.resyncSeq = 0;
    this.state = "connecting";
    this.since = Date.now();
    this.reason = null;
    this.attempt = 0;
    this.disconnectedAt = null;
    this.lastMessageAt = 0;
    this.lastEventAt = null;
    this.lastEventTime = null;
    this.heartbeatMs = 20000;
    this.retryTimer = null;
    this.flushTimer = null;
    this.lastStatusWrite = 0;
    this.statusDirty = false;        // last_event_at changed since the status was last written
    this.stopped = false;
  }

  Bridge.prototype.start = function () {
    var self = this;
    window.addEventListener("online", function () { self.reconnectNow(); });
    window.addEventListener("offline", function () { self.setState("offline", "browser offline"); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { self.reconnectNow(); }
    });
    setInterval(function () { self.watch(); }, 1000);
    this.connect();
  };

  Bridge.prototype.url = function () {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var query = this.cursor === null ? "" : "?last_id=" + encodeURIComponent(this.cursor);
    return scheme + window.location.host + this.config.url + query;
  };

  Bridge.prototype.connect = function () {
    if (this.stopped || this.ws) { return; }
    var self = this;
    var ws;
    try {
      ws = new WebSocket(this.url());
    } catch (err) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = function (message) { self.receive(message.data); };
    ws.onclose = function (event) {
      if (self.ws === ws) { self.disconnected(event.code === SESSION_ENDED); }
    };
  };

  Bridge.prototype.disconnected = function (sessionEnded) {
    this.ws = null;
    if (this.disconnectedAt === null) { this.disconnectedAt = Date.now(); }
    this.setState(this.offlineNow() ? "offline" : "reconnecting", sessionEnded ? "session ended" : this.reason);
    if (sessionEnded) {
      this.checkSession();  // signed out: to the login page; else (access changed) reconnect
    } else {
      this.scheduleReconnect();
    }
  };

  Bridge.prototype.offlineNow = function () {
    return navigator.onLine === false ||
      (this.disconnectedAt !== null && Date.now() - this.disconnectedAt >= OFFLINE_AFTER_MS);
  };

  Bridge.prototype.receive = function (data) {
    var message;
    try {
      message = JSON.parse(data);
    } catch (err) {
      return;
    }
    this.lastMessageAt = Date.now();
    if (typeof message.cursor === "number") { this.cursor = message.cursor; }
    if (message.type === "events") {
      this.addEvents(message.events || []);
    } else if (message.type === "ready") {
      this.heartbeatMs = (message.heartbeat_s || 20) * 1000;
      this.attempt = 0;
      this.disconnectedAt = null;
      this.setState("live", null);
      // Not a resume: whatever the page loaded before the socket was up may be stale already.
      if (!message.resumed) { this.resync("connected"); }
    } else if (message.type === "resync") {
      this.resync(message.reason || "resync");
    }
  };

  Bridge.prototype.addEvents = function (events) {
    var now = Date.now();
    for (var i = 0; i < events.length; i++) {
      var event = events[i];
      if (this.seen.has(event.id)) { continue; }   // sent again after a resume: already here
      this.seen.set(event.id, true);
      if (this.seen.size > SEEN_MAX) { this.seen.delete(this.seen.keys().next().value); }
      this.seq += 1;
      this.window.push({seq: this.seq, at: now, event: event});
      this.lastEventAt = now;
      this.lastEventTime = event.time || null;
      this.statusDirty = true;
    }
    this.scheduleFlush();
  };

  Bridge.prototype.scheduleFlush = function () {
    var self = this;
    if (this.flushTimer === null) {
      // One write per burst of frames: every frame that arrived in this turn goes together.
      this.flushTimer = setTimeout(function () { self.flushTimer = null; self.flush(); }, 0);
    }
  };

  Bridge.prototype.flush = function () {
    var horizon = Date.now() - this.config.window_ms;
    while (this.window.length &&
           (this.window[0].at < horizon || this.window.length > this.config.window_max)) {
      this.window.shift();
    }
    if (this.window.length) {
      this.write(this.ids.events, {
        seq: this.seq,
        first_seq: this.window[0].seq,
        cursor: this.cursor,
        events: this.window.map(function (item) { return item.event; })
      });
    }
    this.writeStatusIfDue();
  };

  Bridge.prototype.writeStatusIfDue = function () {
    if (this.statusDirty && Date.now() - this.lastStatusWrite >= STATUS_EVERY_MS) { this.writeStatus(); }
  };

  Bridge.prototype.resync = function (reason) {
    this.resyncSeq += 1;
    this.write(this.ids.resync, {seq: this.resyncSeq, reason: reason, cursor: this.cursor});
  };

  Bridge.prototype.setState = function (state, reason) {
    if (state === this.state && reason === this.reason) { return; }
    this.state = state;
    this.reason = reason;
    this.since = Date.now();
    if (document.body) { document.body.dataset.live = state; }  // a CSS hook: stale screens can look stale
    this.writeStatus();
  };

  Bridge.prototype.writeStatus = function () {
    this.lastStatusWrite = Date.now();
    this.statusDirty = false;
    this.write(this.ids.status, {
      state: this.state, reason: this.reason, since: this.since, cursor: this.cursor,
      last_event_at: this.lastEventAt, last_event_time: this.lastEventTime
    });
  };

  Bridge.prototype.write = function (id, data) {
    try {
      window.dash_clientside.set_props(id, {data: data});
    } catch (err) {
      // The store is missing from this layout (set_props throws then): nothing to update.
      if (window.console) { console.warn("noc live: cannot update " + id, err); }
    }
  };

  Bridge.prototype.scheduleReconnect = function () {
    if (this.stopped || this.retryTimer !== null) { return; }
    var self = this;
    if (this.offlineNow()) { this.setState("offline", this.reason); }
    // Full jitter on an exponential backoff: a restarted server is not hit by every screen at once.
    var ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(2, this.attempt));
    var delay = ceiling / 2 + Math.random() * ceiling / 2;
    this.attempt += 1;
    if (this.attempt >= 3) { this.checkSession(); }  // a refused handshake looks like a network error
    this.retryTimer = setTimeout(function () { self.retryTimer = null; self.connect(); }, delay);
  };

  Bridge.prototype.reconnectNow = function () {
    if (this.stopped || this.ws) { return; }
    if (this.retryTimer !== null) { clearTimeout(this.retryTimer); this.retryTimer = null; }
    this.connect();
  };

  Bridge.prototype.checkSession = function () {
    // Browsers hide a refused handshake's status, so ask the page route: 401 means signed out.
    var self = this;
    fetch("/", {credentials: "same-origin", headers: {Accept: "application/json"}, redirect: "manual"})
      .then(function (response) {
        if (response.status === 401) {
          self.stopped = true;
          self.setState("offline", "signed out");
          window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
        } else if (!self.ws) {
          self.scheduleReconnect();
        }
      })
      .catch(function () { if (!self.ws) { self.scheduleReconnect(); } });
  };

  Bridge.prototype.watch = function () {
    var now = Date.now();
    // A half-open connection (sleep, network change) never closes by itself: silence does it.
    if (this.ws && this.state === "live" && now - this.lastMessageAt > STALE_AFTER_BEATS * this.heartbeatMs) {
      var ws = this.ws;
      try { ws.close(); } catch (err) { /* already closing */ }
      this.disconnected(false);
    } else if (!this.ws && this.state === "reconnecting" && this.offlineNow()) {
      this.setState("offline", this.reason);
    }
    this.writeStatusIfDue();  // the last event of a burst gets its time shown within a second
  };

  var bridge = null;

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.nocLive = {
    // Clientside callback on the config store: starts the one bridge of this page.
    start: function (config) {
      if (config && bridge === null) {
        bridge = new Bridge(config);
        window.nocLive = bridge;  // for the console and browser tests
        bridge.start();
      }
      return window.dash_clientside.no_update;
    },
    // Clientside callback: the status badge's text, colour and tooltip.
    badge: function (status) {
      var labels = {connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", offline: "Offline"};
      var colors = {connecting: "secondary", live: "success", reconnecting: "warning", offline: "danger"};
      var state = (status && status.state) || "connecting";
      var title = "Live updates: " + (labels[state] || state);
      if (status && status.reason) { title += " (" + status.reason + ")"; }
      if (status && status.last_event_at) {
        title += " · last event " + new Date(status.last_event_at).toLocaleTimeString();
      }
      return [labels[state] || state, colors[state] || "secondary", title];
    }
  };
})();
