// Signature pad: draws with finger, stylus or mouse (pointer events) and keeps the strokes as
// vectors in the hidden "signature" field: {"width", "height", "strokes": [[[x, y], ...]]}.
(function () {
  "use strict";
  var canvas = document.getElementById("signature-canvas");
  var field = document.getElementById("signature-data");
  var clearButton = document.getElementById("signature-clear");
  if (!canvas || !field || !canvas.getContext) { return; }
  document.documentElement.classList.add("js");
  clearButton.hidden = false;

  var ctx = canvas.getContext("2d");
  var strokes = [];
  var current = null;

  function restore() {
    try {
      var saved = JSON.parse(field.value || "null");
      if (saved && saved.width === canvas.width && Array.isArray(saved.strokes)) {
        strokes = saved.strokes;
      }
    } catch (e) { strokes = []; }
  }

  function save() {
    field.value = strokes.length
      ? JSON.stringify({ width: canvas.width, height: canvas.height, strokes: strokes })
      : "";
  }

  function redraw() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";
    strokes.forEach(function (stroke) {
      ctx.beginPath();
      stroke.forEach(function (p, i) { if (i === 0) { ctx.moveTo(p[0], p[1]); } else { ctx.lineTo(p[0], p[1]); } });
      if (stroke.length === 1) { ctx.lineTo(stroke[0][0] + 0.1, stroke[0][1]); }
      ctx.stroke();
    });
  }

  function point(event) {
    var rect = canvas.getBoundingClientRect();
    var x = (event.clientX - rect.left) * (canvas.width / rect.width);
    var y = (event.clientY - rect.top) * (canvas.height / rect.height);
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  }

  canvas.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    current = [point(event)];
    strokes.push(current);
    redraw();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!current) { return; }
    event.preventDefault();
    var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    (events.length ? events : [event]).forEach(function (e) { current.push(point(e)); });
    redraw();
  });
  function end() { if (current) { current = null; save(); } }
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("pointerleave", end);

  clearButton.addEventListener("click", function () {
    strokes = [];
    save();
    redraw();
  });

  restore();
  redraw();
})();
