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
