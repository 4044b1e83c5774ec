// One question per screen with a progress bar; enableWhen shown/hidden as answers change.
// Without this script the page lists every question and the server still decides what applies.
(function () {
  "use strict";
  var form = document.getElementById("q-form");
  if (!form) return;
  var ui = JSON.parse(document.getElementById("q-ui").textContent);
  var items = Array.prototype.slice.call(form.querySelectorAll(".q-item"));
  var back = document.getElementById("q-back"), next = document.getElementById("q-next");
  var submit = document.getElementById("q-submit"), mode = document.getElementById("q-mode");
  var bar = document.getElementById("q-bar"), count = document.getElementById("q-count");
  var onePerScreen = true, current = 0;

  function value(link) {
    var fields = form.querySelectorAll('[name="' + link + '"]');
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === "radio") { if (f.checked) return f.value; } else if (f.value !== "") return f.value;
    }
    return null;
  }
  function holds(c) {
    var v = value(c.q);
    if (c.op === "exists") return (v !== null) === (c.v === "true");
    if (v === null) return c.op === "!=";
    if (c.op === "=") return v === c.v;
    if (c.op === "!=") return v !== c.v;
    var a = parseFloat(v), b = parseFloat(c.v);
    if (isNaN(a) || isNaN(b)) { a = v; b = c.v; }
    return c.op === ">" ? a > b : c.op === "<" ? a < b : c.op === ">=" ? a >= b : a <= b;
  }
  function enabled(el) {
    var conds = JSON.parse(el.dataset.enable || "[]");
    if (!conds.length) return true;
    var results = conds.map(holds);
    return el.dataset.enableAll === "true" ? results.every(Boolean) : results.some(Boolean);
  }
  function visible() { return items.filter(function (el) { return enabled(el); }); }
  function answered(el) { return el.dataset.type === "display" || value(el.dataset.link) !== null; }
  function render() {
    var shown = visible();
    items.forEach(function (el) { el.classList.toggle("q-off", shown.indexOf(el) < 0); });
    if (current >= shown.length) current = shown.length - 1;
    if (current < 0) current = 0;
    shown.forEach(function (el, i) { el.classList.toggle("q-hidden", onePerScreen && i !== current); });
    var questions = shown.filter(function (el) { return el.dataset.type !== "display"; });
    var done = questions.filter(answered).length;
    bar.style.width = (questions.length ? Math.round(100 * done / questions.length) : 100) + "%";
    var last = current === shown.length - 1;
    count.textContent = onePerScreen ? ui.progress.replace("{n}", current + 1).replace("{total}", shown.length) : "";
    back.hidden = !onePerScreen || current === 0;
    next.hidden = !onePerScreen || last;
    submit.hidden = onePerScreen && !last;
    mode.textContent = onePerScreen ? mode.dataset.all : mode.dataset.one;
  }
  function step(delta) {
    var shown = visible(), el = shown[current];
    if (delta > 0 && el && el.dataset.required === "true" && !answered(el)) {
      el.classList.add("q-missing");
      return;
    }
    if (el) el.classList.remove("q-missing");
    current += delta;
    render();
    var focus = visible()[current];
    if (focus) { var input = focus.querySelector("input, textarea"); if (input) input.focus(); window.scrollTo(0, 0); }
  }
  form.classList.add("q-onescreen");
  mode.hidden = false;
  // Resume at the first unanswered question.
  var first = visible().findIndex(function (el) { return !answered(el); });
  current = first < 0 ? visible().length - 1 : first;
  back.addEventListener("click", function () { step(-1); });
  next.addEventListener("click", function () { step(1); });
  mode.addEventListener("click", function (e) { e.preventDefault(); onePerScreen = !onePerScreen; render(); });
  form.addEventListener("change", render);
  form.addEventListener("input", render);
  render();
})();
