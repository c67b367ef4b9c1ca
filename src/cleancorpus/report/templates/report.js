// Show only the documents with at least N edits (by any stage, or by the chosen one).
(function () {
  "use strict";
  var form = document.getElementById("filter");
  var min = document.getElementById("min-edits");
  var stage = document.getElementById("stage-filter");
  var shown = document.getElementById("shown-count");
  if (!form || !min || !stage || !shown) return;
  var items = document.querySelectorAll("article.doc, tr.doc-row");
  function editsOf(el) {
    if (!stage.value) return Number(el.dataset.edits) || 0;
    var by = JSON.parse(el.dataset.byStage || "{}");
    return by[stage.value] || 0;
  }
  function apply() {
    var n = Math.max(0, Number(min.value) || 0);
    var total = 0, visible = 0;
    items.forEach(function (el) {
      var keep = editsOf(el) >= n;
      el.hidden = !keep;
      if (el.tagName === "ARTICLE") { total += 1; if (keep) visible += 1; }
    });
    shown.textContent = visible + " of " + total + " shown";
  }
  var was = document.getElementById("show-was");
  if (was) was.addEventListener("change", function () { document.body.classList.toggle("was", was.checked); });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  min.addEventListener("input", apply);
  stage.addEventListener("change", apply);
  apply();
})();
