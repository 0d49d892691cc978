/* Models page: pick the model events out of the live window (components/live.py's
   live-events), so the page's server callback runs only when a model event arrived, not on
   every event of the tenant. Returns [models-live, models-live-seq]:
   models-live = {seq, gap, events: [model events since the last seq handled]}. */
(function () {
  "use strict";

  var MODEL_TYPES = ["model_training", "model_trained", "model_activated"];

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    nocModels: {
      pick: function (data, lastSeq) {
        var noUpdate = window.dash_clientside.no_update;
        if (!data || !data.events || typeof data.seq !== "number") { return [noUpdate, noUpdate]; }
        var first = typeof lastSeq !== "number";
        if (!first && data.seq <= lastSeq) { return [noUpdate, noUpdate]; }
        // Events after lastSeq; the first call takes the whole window (the page was just built).
        var start = first ? 0 : Math.max(0, lastSeq + 1 - data.first_seq);
        var gap = !first && data.first_seq > lastSeq + 1;   // some left the window unseen: reload
        var picked = data.events.slice(start).filter(function (event) {
          return event && MODEL_TYPES.indexOf(event.type) >= 0;
        });
        if (!picked.length && !gap) { return [noUpdate, data.seq]; }
        return [{seq: data.seq, gap: gap, events: picked}, data.seq];
      }
    }
  });
}());
