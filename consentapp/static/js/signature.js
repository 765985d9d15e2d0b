// Signature pads: each [data-signature-pad] element (templates/_macros.html, signature_pad)
// draws with finger, stylus or mouse (pointer events) and keeps the strokes as vectors in its
// hidden [data-signature-field]: {"width", "height", "strokes": [[[x, y], ...]]}, in the
// canvas' own coordinates (its width and height attributes), whatever size it shows at.
//
// Only the canvas and the hidden field are required. Every other control is optional: the
// undo and clear buttons, the drawn/typed radios (signature_method) with the panel and the
// note each shows, and the notes for pages without JavaScript. Without this script a page
// offers only the typed signature: the patient's pad and choice stay hidden, and the form
// sends signature_method=typed.
(function () {
  "use strict";

  function start(root) {
    var canvas = root.querySelector("[data-signature-canvas]");
    var field = root.querySelector("[data-signature-field]");
    if (!canvas || !field || !canvas.getContext) { return; }
    var form = root.closest("form") || root;
    var choice = root.querySelector("[data-signature-choice]");
    var drawnPanel = root.querySelector("[data-signature-drawn]");
    var typedNote = root.querySelector("[data-signature-typed-note]");
    var tools = root.querySelector("[data-signature-tools]");
    var undoButton = root.querySelector("[data-signature-undo]");
    var clearButton = root.querySelector("[data-signature-clear]");
    var methods = root.querySelectorAll("input[name=signature_method]");
    var ctx = canvas.getContext("2d");
    // A narrow screen (a phone) gets a taller pad, so a finger has room to sign.
    if (form.clientWidth < 500) { canvas.height = Math.round(canvas.width / 2); }
    var width = canvas.width;
    var height = canvas.height;
    var strokes = [];
    var current = null;

    // With no choice of method on the page, the pad is for drawing.
    function method() {
      if (!methods.length) { return "drawn"; }
      var checked = root.querySelector("input[name=signature_method]:checked");
      return checked ? checked.value : "typed";
    }

    function padShown() { return !drawnPanel || !drawnPanel.hidden; }

    function showMethod() {
      var drawn = method() === "drawn";
      if (drawnPanel) { drawnPanel.hidden = !drawn; }
      if (typedNote) { typedNote.hidden = drawn; }
      if (drawn) { fitBackingStore(); }
    }

    function restore() {
      try {
        var saved = JSON.parse(field.value || "null");
        if (saved && saved.width === width && saved.height === height && Array.isArray(saved.strokes)) {
          strokes = saved.strokes;
        }
      } catch (e) { strokes = []; }
    }

    function save() {
      field.value = strokes.length
        ? JSON.stringify({ width: width, height: height, strokes: strokes })
        : "";
      [undoButton, clearButton].forEach(function (button) {
        if (button) { button.disabled = !strokes.length; }
      });
    }

    // Sharp lines on high-density screens: more backing pixels, same coordinates.
    function fitBackingStore() {
      var ratio = window.devicePixelRatio || 1;
      if (canvas.width !== Math.round(width * ratio)) {
        canvas.width = Math.round(width * ratio);
        canvas.height = Math.round(height * ratio);
      }
      ctx.setTransform(canvas.width / width, 0, 0, canvas.height / height, 0, 0);
      redraw();
    }

    // A smooth line through the points: quadratic curves between the midpoints, the same
    // shape the PDF draws (consentapp/records/signature.py, Signature.svg_path).
    function trace(stroke) {
      ctx.beginPath();
      ctx.moveTo(stroke[0][0], stroke[0][1]);
      if (stroke.length === 1) {
        ctx.lineTo(stroke[0][0] + 0.1, stroke[0][1]);
      } else {
        for (var i = 1; i < stroke.length - 1; i++) {
          var midX = (stroke[i][0] + stroke[i + 1][0]) / 2;
          var midY = (stroke[i][1] + stroke[i + 1][1]) / 2;
          ctx.quadraticCurveTo(stroke[i][0], stroke[i][1], midX, midY);
        }
        var last = stroke[stroke.length - 1];
        ctx.lineTo(last[0], last[1]);
      }
      ctx.stroke();
    }

    function redraw() {
      ctx.clearRect(0, 0, width, height);
      ctx.lineWidth = 3;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
      strokes.forEach(trace);
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      var x = (event.clientX - rect.left) * (width / rect.width);
      var y = (event.clientY - rect.top) * (height / rect.height);
      x = Math.min(Math.max(x, 0), width);
      y = Math.min(Math.max(y, 0), height);
      return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
    }

    function addPoint(event) {
      var p = point(event);
      var last = current[current.length - 1];
      // Points closer than half a pixel add nothing but weight to the record.
      if (Math.abs(p[0] - last[0]) + Math.abs(p[1] - last[1]) >= 0.5) { current.push(p); }
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
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      (events.length ? events : [event]).forEach(addPoint);
      redraw();
    });
    function end() { if (current) { current = null; save(); } }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);

    if (undoButton) {
      undoButton.addEventListener("click", function () {
        strokes.pop();
        save();
        redraw();
      });
    }
    if (clearButton) {
      clearButton.addEventListener("click", function () {
        strokes = [];
        save();
        redraw();
      });
    }
    methods.forEach(function (radio) { radio.addEventListener("change", showMethod); });
    window.addEventListener("resize", function () { if (padShown()) { fitBackingStore(); } });

    // A fresh page starts on drawing; after a submit, the person's own choice stands.
    if (methods.length && !form.hasAttribute("data-method-chosen")) {
      var drawnRadio = root.querySelector("input[name=signature_method][value=drawn]");
      if (drawnRadio) { drawnRadio.checked = true; }
    }
    // What only works with this script is shown now, and the notes for pages without it go.
    if (choice) { choice.hidden = false; }
    if (tools) { tools.hidden = false; }
    root.querySelectorAll("[data-signature-nojs]").forEach(function (note) { note.hidden = true; });
    restore();
    save();
    showMethod();
  }

  document.querySelectorAll("[data-signature-pad]").forEach(start);
})();
