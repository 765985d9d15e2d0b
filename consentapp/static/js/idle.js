// Inactivity on a shared tablet. After data-idle-warning seconds without a touch, key or
// scroll, a dialog asks "Are you still there?" with a large "I need more time" button; after
// data-idle-reset seconds the reset form is posted: the server wipes the draft and the
// welcome screen returns. Time is measured from clock readings, not timers, so a tablet that
// slept through the limit resets the moment it wakes.
//
// While the patient is active the script also tells the server now and then (the same
// "I need more time" form, sent in the background): the server discards a draft untouched
// for longer than the reset time, and reading a long page touches nothing on the server.
(function () {
  "use strict";
  var body = document.body;
  var warnAfter = Number(body.getAttribute("data-idle-warning")) * 1000;
  var resetAfter = Number(body.getAttribute("data-idle-reset")) * 1000;
  var resetForm = document.getElementById("idle-reset");
  var dialog = document.getElementById("idle-dialog");
  var moreTime = document.getElementById("idle-more-time");
  var countdown = document.getElementById("idle-countdown");
  if (!resetAfter || !resetForm) { return; }
  var warns = Boolean(warnAfter && dialog && moreTime && dialog.showModal);

  var lastActivity = Date.now();
  var lastKeepAlive = Date.now();
  var resetting = false;

  function keepAlive() {
    lastKeepAlive = Date.now();
    return fetch(moreTime.action, {
      method: "POST", body: new FormData(moreTime), credentials: "same-origin", redirect: "manual"
    }).then(function (response) {
      // Anything but 204 means the draft is gone: back to the welcome screen.
      if (response.status !== 204) { reset(); }
    }, function () { /* offline for a moment: the next activity tries again */ });
  }

  function activity() {
    if (resetting || (warns && dialog.open)) { return; }
    lastActivity = Date.now();
    // Often enough that the server never sees a busy patient's draft as abandoned.
    if (warns && Date.now() - lastKeepAlive > resetAfter / 3) { keepAlive(); }
  }

  function reset() {
    if (resetting) { return; }
    resetting = true;
    resetForm.submit();
  }

  function tick() {
    var idle = Date.now() - lastActivity;
    if (idle >= resetAfter) { reset(); return; }
    if (!warns || idle < warnAfter) { return; }
    if (!dialog.open) { dialog.showModal(); }
    var seconds = Math.ceil((resetAfter - idle) / 1000);
    countdown.textContent = countdown.getAttribute("data-template").replace("{s}", seconds);
  }

  if (warns) {
    moreTime.addEventListener("submit", function (event) {
      event.preventDefault();
      dialog.close();
      lastActivity = Date.now();
      keepAlive();
    });
    // Escape closes a modal dialog; that is "more time" too, never a silent reset.
    dialog.addEventListener("cancel", function (event) {
      event.preventDefault();
      dialog.close();
      lastActivity = Date.now();
      keepAlive();
    });
  }

  ["pointerdown", "keydown", "input", "scroll", "wheel", "touchstart"].forEach(function (name) {
    window.addEventListener(name, activity, { passive: true, capture: true });
  });
  document.addEventListener("visibilitychange", tick);
  // A page brought back from the back/forward cache must ask the server again, which
  // shows nothing of a finished or wiped draft.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { window.location.reload(); }
  });
  window.setInterval(tick, 1000);
})();
