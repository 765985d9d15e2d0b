// Follow-up questions (show_if): each [data-show-if] wrapper holds a question asked only when
// an answer on this page calls for it. Its condition comes from the server as JSON, every
// part that reads an earlier step or the age already settled to true or false:
//   {"q": "medicines", "in": ["yes"]}   the answer to "medicines" is one of these
//   {"all": [...]}, {"any": [...]}, {"not": ...}, true, false
// On every change the script shows the follow-ups whose condition holds (hidden and disabled
// otherwise, so a hidden answer is never sent) and keeps the form's "shown" list up to date.
// The server works out the same on Continue: this is a shortcut, never the authority.
(function () {
  "use strict";
  var form = document.querySelector("form[data-show-if-form]");
  if (!form) { return; }
  var wrappers = Array.prototype.slice.call(form.querySelectorAll("[data-show-if]"));
  var shownInput = form.querySelector("[data-show-if-shown]");
  var conditions = wrappers.map(function (wrapper) {
    return JSON.parse(wrapper.getAttribute("data-show-if"));
  });

  function answersTo(key) {
    var values = [];
    Array.prototype.forEach.call(form.elements, function (input) {
      if (input.name !== key || input.disabled) { return; }
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) { values.push(input.value); }
      } else if (input.value) {
        values.push(input.value);
      }
    });
    return values;
  }

  function holds(condition) {
    if (condition === true || condition === false) { return condition; }
    if (condition.q !== undefined) {
      return answersTo(condition.q).some(function (value) {
        return condition.in.indexOf(value) !== -1;
      });
    }
    if (condition.all) { return condition.all.every(holds); }
    if (condition.any) { return condition.any.some(holds); }
    if (condition.not !== undefined) { return !holds(condition.not); }
    return false;
  }

  function update() {
    // In page order, so a follow-up of a follow-up sees its parent as it is now.
    wrappers.forEach(function (wrapper, index) {
      var show = holds(conditions[index]);
      wrapper.hidden = !show;
      wrapper.disabled = !show;
    });
    if (shownInput) {
      var shown = shownInput.value.split(" ").filter(function (key) {
        return key && !form.querySelector('[data-show-if][data-question="' + key + '"]');
      });
      wrappers.forEach(function (wrapper) {
        if (!wrapper.hidden) { shown.push(wrapper.getAttribute("data-question")); }
      });
      shownInput.value = shown.join(" ");
    }
  }

  form.addEventListener("change", update);
  update();
})();
