// chanjiao web UI: the only hand-written script.  Kept in a file (not inline attributes) so the
// Content-Security-Policy can forbid inline scripts.
"use strict";
// A suggestion radio (data-fills="ID") copies its value into the field it belongs to; the radios
// themselves sit outside the form so that only that field is submitted.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target instanceof HTMLInputElement && target.dataset.fills) {
    var field = document.getElementById(target.dataset.fills);
    if (field) { field.value = target.value; }
  }
});
// After a failed submit the page opens on its error summary: focus goes there so that it is read
// first and its links lead to the fields.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary instanceof HTMLElement) { summary.focus(); }
});
