/* NOC Intelligence wall display (README "Wall display").

   On every page (components/display.py): kiosk mode from ?kiosk=1 (a class on <html>: CSS hides
   the navigation and scales the type), page rotation from ?rotate=a,b&every=30 (names checked
   against the registered pages the shell lists; unknown ones ignored), and a screen wake lock.
   On the wall page (components/wall.py): the tile refresh throttle, the "Disconnected" cover and
   "last updated" time, and an optional beep on new high/critical events (WebAudio, no file;
   browsers allow sound only after a click, hence the "Enable sound" button).

   Nothing here may write to the console as an error: wall screens are watched for days and the
   browser tests require a clean console. */
(function () {
  "use strict";

  var MIN_EVERY_S = 10, MAX_EVERY_S = 3600, DEFAULT_EVERY_S = 30;
  var BEEP_GAP_MS = 1500;            // a burst of urgent events beeps once
  var URGENT = {high: true, critical: true};

  function kioskIn(search) { return new URLSearchParams(search || "").get("kiosk") === "1"; }

  // Before the first render: no flash of the navigation bar on a kiosk screen.
  if (kioskIn(window.location.search)) { document.documentElement.classList.add("kiosk"); }

  var state = {
    rotateTimer: null,
    wakeLock: null,
    wantWake: false,
    refreshTimer: null,
    audio: null,                     // AudioContext, created on the "Enable sound" click
    muted: false,
    soundClicks: 0,
    lastSeq: null,                   // the last live-events seq the sound looked at
    lastBeep: 0,
    beeps: 0                         // for the console and the browser tests
  };
  window.nocWall = state;

  function noUpdate() { return window.dash_clientside.no_update; }

  // -- rotation ----------------------------------------------------------------------------
  function rotation(search, pages) {
    var params = new URLSearchParams(search || "");
    var names = (params.get("rotate") || "").split(",");
    var paths = [];
    for (var i = 0; i < names.length; i++) {
      var name = names[i].trim();
      if (name && pages && Object.prototype.hasOwnProperty.call(pages, name) && paths.indexOf(pages[name]) < 0) {
        paths.push(pages[name]);
      }
    }
    var every = parseInt(params.get("every"), 10);
    if (!isFinite(every)) { every = DEFAULT_EVERY_S; }
    return {paths: paths, every: Math.min(MAX_EVERY_S, Math.max(MIN_EVERY_S, every))};
  }

  function armRotation(search, pathname, pages) {
    if (state.rotateTimer !== null) { clearTimeout(state.rotateTimer); state.rotateTimer = null; }
    var plan = rotation(search, pages);
    if (plan.paths.length < 2) { return; }
    state.rotateTimer = setTimeout(function () {
      state.rotateTimer = null;
      var next = plan.paths[(plan.paths.indexOf(pathname) + 1) % plan.paths.length];
      // Keep kiosk/rotate/every; navigate inside the app (the socket and its cursor stay).
      window.history.pushState({}, "", next + window.location.search);
      window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
    }, plan.every * 1000);
  }

  // -- screen wake lock --------------------------------------------------------------------
  function requestWake() {
    if (!state.wantWake || state.wakeLock || !navigator.wakeLock || document.visibilityState !== "visible") {
      return;
    }
    try {
      navigator.wakeLock.request("screen").then(function (lock) {
        state.wakeLock = lock;
        lock.addEventListener("release", function () { state.wakeLock = null; });
      }, function () { /* refused (battery saver, policy): the screen may sleep; nothing to do */ });
    } catch (err) { /* not supported here */ }
  }
  document.addEventListener("visibilitychange", requestWake);  // the lock is dropped when hidden

  // -- sound -------------------------------------------------------------------------------
  function beep(critical) {
    var ctx = state.audio;
    if (!ctx || state.muted) { return; }
    var now = Date.now();
    if (now - state.lastBeep < BEEP_GAP_MS) { return; }
    state.lastBeep = now;
    state.beeps += 1;
    try {
      var t = ctx.currentTime;
      var tones = critical ? [880, 660, 880] : [660];
      for (var i = 0; i < tones.length; i++) {
        var osc = ctx.createOscillator(), gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = tones[i];
        gain.gain.setValueAtTime(0.0001, t + i * 0.22);
        gain.gain.exponentialRampToValueAtTime(0.3, t + i * 0.22 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.22 + 0.2);
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start(t + i * 0.22);
        osc.stop(t + i * 0.22 + 0.21);
      }
    } catch (err) { /* audio device gone: stay silent */ }
  }

  function soundLabel() {
    if (!state.audio) { return "🔈 Enable sound"; }
    return state.muted ? "🔇 Muted" : "🔊 Sound on";
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.nocWall = {
    // Every page, on every URL change: kiosk class, rotation timer, wake lock.
    display: function (search, pathname, pages) {
      var kiosk = kioskIn(search);
      document.documentElement.classList.toggle("kiosk", kiosk);
      armRotation(search, pathname, pages);
      state.wantWake = kiosk || pathname === "/wall";
      requestWake();
      return noUpdate();
    },

    // The tiles re-read at most once per throttle period, after the events that asked for it
    // (trailing edge: an event arriving during a refresh is read by the next one).
    throttle: function (dirty, config) {
      if (!dirty || !config || state.refreshTimer !== null) { return noUpdate(); }
      state.refreshTimer = setTimeout(function () {
        state.refreshTimer = null;
        try {
          window.dash_clientside.set_props(config.refresh_id, {data: Date.now()});
        } catch (err) { /* the wall is no longer on screen */ }
      }, config.throttle_ms);
      return noUpdate();
    },

    // The cover when the socket is down, the slow refresh paused meanwhile (its requests would
    // fail too), and the time the wall last had news.
    status: function (status, updatedAt) {
      var s = (status && status.state) || "connecting";
      var down = s === "reconnecting" || s === "offline";
      var since = status && status.since ? new Date(status.since).toLocaleTimeString() : "";
      var times = [];
      if (updatedAt) { times.push(Date.parse(updatedAt)); }
      if (status && status.last_event_at) { times.push(status.last_event_at); }
      var last = times.length ? new Date(Math.max.apply(null, times)).toLocaleTimeString() : "—";
      var text = (s === "offline" ? "Disconnected since " + since + " · still retrying"
                                  : "Disconnected · reconnecting…") + " · last update " + last;
      return [down ? "wall-overlay show" : "wall-overlay", down ? text : "", down, "Updated " + last];
    },

    // "Enable sound" (a click is what lets the page play audio), then mute / unmute. Beeps for
    // new high/critical events only; the events already there when the page opened are not new.
    sound: function (clicks, live) {
      var triggered = window.dash_clientside.callback_context.triggered_id;
      if (triggered === undefined || triggered === null) {
        state.lastSeq = live && typeof live.seq === "number" ? live.seq : state.lastSeq;
        return soundLabel();
      }
      if (clicks && clicks !== state.soundClicks) {
        state.soundClicks = clicks;
        if (!state.audio) {
          var Context = window.AudioContext || window.webkitAudioContext;
          if (Context) {
            try { state.audio = new Context(); state.muted = false; } catch (err) { state.audio = null; }
          }
        } else {
          state.muted = !state.muted;
        }
        if (state.audio && state.audio.state === "suspended") { state.audio.resume().catch(function () {}); }
        return soundLabel();
      }
      if (live && typeof live.seq === "number") {
        var first = live.first_seq, events = live.events || [];
        var from = state.lastSeq === null ? live.seq + 1 : Math.max(state.lastSeq + 1, first);
        var urgent = false, critical = false;
        for (var seq = from; seq <= live.seq; seq++) {
          var event = events[seq - first];
          if (event && URGENT[event.severity]) { urgent = true; critical = critical || event.severity === "critical"; }
        }
        state.lastSeq = live.seq;
        if (urgent) { beep(critical); }
      }
      return noUpdate();
    }
  };
})();
