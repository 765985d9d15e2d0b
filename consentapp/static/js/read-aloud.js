// "Read aloud" buttons: each reads its section with the browser's own speech synthesis.
// Only voices that run on the tablet itself are used (localService): a network voice would
// send the patient's screen to someone else's server. With no such voice, or no speech
// synthesis at all, the buttons stay hidden.
(function () {
  "use strict";
  var buttons = Array.prototype.slice.call(document.querySelectorAll("[data-read-aloud]"));
  if (!buttons.length || !("speechSynthesis" in window) ||
      typeof window.SpeechSynthesisUtterance !== "function") { return; }
  var synth = window.speechSynthesis;
  var language = (document.documentElement.lang || "en").toLowerCase();
  var speaking = null;

  function localVoice() {
    var voices = synth.getVoices().filter(function (voice) {
      return voice.localService && voice.lang.toLowerCase().indexOf(language) === 0;
    });
    return voices.filter(function (voice) { return voice.default; })[0] || voices[0] || null;
  }

  // The section's words, block by block, each ending as a sentence so the voice pauses.
  function textOf(section) {
    var blocks = section.querySelectorAll("h1, h2, h3, p, li, legend, dt, dd, .choice > span");
    return Array.prototype.map.call(blocks, function (block) {
      if (block.closest("[data-read-aloud], [hidden]")) { return ""; }
      var text = block.textContent.replace(/\s+/g, " ").trim();
      return text && !/[.!?:]$/.test(text) ? text + "." : text;
    }).filter(Boolean).join(" ");
  }

  function label(button, playing) {
    button.setAttribute("aria-pressed", playing ? "true" : "false");
  }

  function stop() {
    if (speaking) { label(speaking, false); }
    speaking = null;
    synth.cancel();
  }

  function read(button) {
    var voice = localVoice();
    var section = document.getElementById(button.getAttribute("data-read-aloud"));
    if (!voice || !section) { return; }
    var utterance = new window.SpeechSynthesisUtterance(textOf(section));
    utterance.voice = voice;
    utterance.lang = voice.lang;
    utterance.rate = 0.9;
    utterance.onend = utterance.onerror = function () {
      if (speaking === button) { stop(); }
    };
    speaking = button;
    label(button, true);
    synth.speak(utterance);
  }

  function reveal() {
    var available = Boolean(localVoice());
    buttons.forEach(function (button) { button.hidden = !available; });
  }

  buttons.forEach(function (button) {
    label(button, false);
    button.addEventListener("click", function () {
      var again = speaking === button;
      stop();
      if (!again) { read(button); }
    });
  });
  // Leaving the page stops the voice: the next page must not go on reading this one.
  window.addEventListener("pagehide", stop);
  if (typeof synth.addEventListener === "function") {
    synth.addEventListener("voiceschanged", reveal);
  }
  reveal();
})();
