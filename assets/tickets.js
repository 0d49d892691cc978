/* The tickets page's browser-side pieces (components/tickets.py, pages/tickets.py).

   syncUrl: the filters (and the open ticket) live in the query string so a URL reproduces the
   view. history.replaceState, not a dcc.Location: a Location change makes Dash's page router
   rebuild the whole page on every filter change. The server parses the same keys
   (backend/queries/ticket_schemas.py: state, priority, site, mine, ticket). */
(function () {
  "use strict";

  var TICKET_PARAM = "ticket";

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.nocTickets = {
    syncUrl: function (query, ticket) {
      var params = new URLSearchParams(query || "");
      if (ticket) { params.set(TICKET_PARAM, String(ticket)); }
      var search = params.toString();
      var target = window.location.pathname + (search ? "?" + search : "") + window.location.hash;
      if (target !== window.location.pathname + window.location.search + window.location.hash) {
        window.history.replaceState(window.history.state, "", target);
      }
      return window.dash_clientside.no_update;
    },

    /* The header checkbox selects every open ticket shown (closed ones have a disabled box). */
    checkAll: function (all, disabled) {
      return (disabled || []).map(function (off) { return !off && !!all; });
    },

    /* "3 selected" and the bulk button's state. */
    selection: function (values) {
      var count = (values || []).filter(function (v) { return v === true; }).length;
      var text = count ? count + " selected" : "Select open tickets to acknowledge them together.";
      return [text, count === 0];
    }
  };
})();
