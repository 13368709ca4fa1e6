// Keep what a liaison types into a report in this browser until the server has it, so a
// session that timed out or a tab closed by mistake loses nothing.
//
// Drafts are stored per report and per version (`report-draft:<pk>:<version>`). When the page
// comes back at the version a draft was typed on and the draft differs from what the server
// shows, a button offers to restore it: nothing is overwritten silently. A save moves the
// version, so the draft of the older version (marked as sent) is dropped on the next page. A
// draft never sent from an older version (the report changed meanwhile) is offered with a
// warning. The server refuses a save over a newer version in any case (a second tab).
(function () {
  "use strict";
  var PREFIX = "report-draft:";
  var MAX_AGE_MS = 30 * 24 * 3600 * 1000;
  var DELAY_MS = 400;

  function storage() {
    try {
      var store = window.localStorage;
      store.setItem(PREFIX + "probe", "1");
      store.removeItem(PREFIX + "probe");
      return store;
    } catch (e) {
      return null; // private mode, storage full or disabled: the page works without it
    }
  }

  function controls(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      if (!el.name || el.disabled) { return false; }
      if (el.name === "csrfmiddlewaretoken" || el.name === "version" || el.name === "action") { return false; }
      return el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
        (el.tagName === "INPUT" && ["text", "date", "number", "search", ""].indexOf(el.type) !== -1);
    });
  }

  function read(form) {
    var values = {};
    controls(form).forEach(function (el) { values[el.name] = el.value; });
    return values;
  }

  function differs(form, values) {
    return controls(form).some(function (el) {
      return Object.prototype.hasOwnProperty.call(values, el.name) && values[el.name] !== el.value;
    });
  }

  function apply(form, values) {
    controls(form).forEach(function (el) {
      if (Object.prototype.hasOwnProperty.call(values, el.name)) { el.value = values[el.name]; }
    });
  }

  function load(store, key) {
    try {
      var entry = JSON.parse(store.getItem(key));
      return entry && typeof entry.values === "object" ? entry : null;
    } catch (e) {
      return null;
    }
  }

  function save(store, key, entry) {
    try {
      store.setItem(key, JSON.stringify(entry));
    } catch (e) {
      // Quota exceeded: the server-side draft is still there; nothing else to do.
    }
  }

  function init(form) {
    var store = storage();
    if (!store) { return; }
    var version = parseInt(form.dataset.version, 10);
    var mine = PREFIX + form.dataset.report + ":";
    var key = mine + version;
    var now = Date.now();
    var olderKey = null;
    var older = null;

    for (var i = store.length - 1; i >= 0; i -= 1) {
      var k = store.key(i);
      if (!k || k.indexOf(PREFIX) !== 0 || k === key) { continue; }
      var entry = load(store, k);
      if (!entry || now - (entry.at || 0) > MAX_AGE_MS) { store.removeItem(k); continue; }
      if (k.indexOf(mine) !== 0) { continue; }
      var v = parseInt(k.slice(mine.length), 10);
      if (v < version && entry.sent) {
        store.removeItem(k); // sent, and the version has moved on: the save went through
      } else if (v < version && (!older || entry.at > older.at)) {
        olderKey = k;
        older = entry;
      }
    }

    var current = load(store, key);
    if (current && current.sent) {
      // Back on the same version after sending: the server did not save (an error, or a
      // newer version elsewhere), so the draft is still unsaved.
      current.sent = false;
      save(store, key, current);
    }

    var box = document.querySelector("[data-draft-restore]");
    var offered = null;
    var offeredKey = null;
    if (current && differs(form, current.values)) {
      offered = current;
      offeredKey = key;
    } else if (older && differs(form, older.values)) {
      offered = older;
      offeredKey = olderKey;
    } else if (older) {
      store.removeItem(olderKey);
    }
    if (box && offered) {
      box.querySelector("[data-draft-same]").hidden = offeredKey !== key;
      box.querySelector("[data-draft-older]").hidden = offeredKey === key;
      box.hidden = false;
      box.querySelector("[data-draft-apply]").addEventListener("click", function () {
        apply(form, offered.values);
        save(store, key, { at: Date.now(), sent: false, values: read(form) });
        if (offeredKey !== key) { store.removeItem(offeredKey); }
        box.hidden = true;
      });
      box.querySelector("[data-draft-discard]").addEventListener("click", function () {
        store.removeItem(offeredKey);
        box.hidden = true;
      });
    }

    var timer = null;
    function remember(sent) {
      window.clearTimeout(timer);
      timer = null;
      save(store, key, { at: Date.now(), sent: sent, values: read(form) });
    }
    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { remember(false); }, DELAY_MS);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("submit", function () { remember(true); });
    window.addEventListener("pagehide", function () { if (timer) { remember(false); } });
  }

  function start() {
    document.querySelectorAll("form[data-report-draft]").forEach(init);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
