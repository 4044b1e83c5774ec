/* Worklist: live updates over Server-Sent Events (a new task appears at the top with a banner and,
   for urgent ones, a tone), and keyboard shortcuts (j/k move, a acknowledge, e escalate, x select,
   / search). Texts come from data attributes the server rendered in the viewer's language. */
(function () {
  "use strict";
  var table = document.getElementById("worklist-table");
  if (!table) { return; }
  var body = table.tBodies[0];
  var banner = document.getElementById("live");
  var labels = table.dataset;

  function tone() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      var ctx = new Ctx();
      var osc = ctx.createOscillator(); var gain = ctx.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.15;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.35);
      document.documentElement.dataset.lastTone = String(Date.now());
    } catch (e) { /* no audio device: the banner still shows */ }
  }

  function cell(text, label) {
    var td = document.createElement("td");
    td.textContent = text; td.setAttribute("data-label", label || "");
    return td;
  }

  function addTask(task) {
    if (document.getElementById("task-" + task.id)) { return; }
    var tr = document.createElement("tr");
    tr.id = "task-" + task.id; tr.className = "sev-" + task.severity + " is-new"; tr.dataset.task = task.id;
    tr.tabIndex = -1;
    tr.appendChild(cell("", ""));
    var sev = cell("", labels.lSeverity); var badge = document.createElement("span");
    badge.className = "sev " + task.severity; badge.textContent = labels["sev" + task.severity] || task.severity;
    sev.appendChild(badge); tr.appendChild(sev);
    var who = cell("", labels.lPatient); var a = document.createElement("a");
    a.href = "/ui/patients/" + task.patient_id; a.className = "patient"; a.textContent = task.patient_name;
    who.appendChild(a); tr.appendChild(who);
    tr.appendChild(cell(task.title + (task.trigger ? " — " + task.trigger : ""), labels.lTask));
    tr.appendChild(cell(labels.lNew || "new", labels.lDue));
    tr.appendChild(cell("", labels.lStatus)); tr.appendChild(cell("", labels.lActions));
    body.insertBefore(tr, body.firstChild);
    if (banner) {
      banner.textContent = (labels.lNewTask || "New task") + ": " + task.patient_name + " — " + task.title +
        (task.trigger ? " (" + task.trigger + ")" : "");
      banner.hidden = false;
    }
    if (task.severity === "urgent") { tone(); }
  }

  if (window.EventSource) {
    var source = new EventSource("/worklist/events");
    source.addEventListener("task", function (event) { addTask(JSON.parse(event.data)); });
  }

  function rows() { return Array.prototype.slice.call(body.querySelectorAll("tr[data-task]")); }
  var current = -1;
  function focusRow(i) {
    var all = rows(); if (!all.length) { return; }
    current = Math.max(0, Math.min(all.length - 1, i)); all[current].focus();
  }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var row = rows()[current];
    if (event.key === "j") { focusRow(current + 1); }
    else if (event.key === "k") { focusRow(current - 1); }
    else if (event.key === "/") { var s = document.getElementById("worklist-search"); if (s) { s.focus(); } }
    else if ((event.key === "a" || event.key === "e") && row) {
      var button = row.querySelector('button[data-key="' + event.key + '"]'); if (button) { button.click(); }
    } else if (event.key === "x" && row) {
      var box = row.querySelector('input[type="checkbox"]'); if (box) { box.checked = !box.checked; }
    } else { return; }
    event.preventDefault();
  });
})();
