// The checks tests/app/web/test_axe.py runs in each page, added as a Playwright init script.
"use strict";
window.__access = {};
// axe rules of the WCAG 2.0-2.2 A/AA and best-practice sets run on every page; a violation of any
// impact fails.  No rule is disabled.
window.__access.axeRun = async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
    resultTypes: ["violations"]});  // passes and incomplete are counted, not detailed
  return {rules: result.passes.length + result.violations.length,
    violations: result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " — " + n.failureSummary.split("\n").slice(1, 3).join(" "))}))};
};
// Links, buttons and fields smaller than 24 x 24 px (WCAG 2.5.8).  Exempt as the criterion allows:
// a link inside running text (its block holds other words), and what is not shown.
window.__access.smallTargets = () => {
  const out = [];
  const blockOf = el => { let b = el.parentElement;
    while (b && getComputedStyle(b).display.startsWith("inline")) b = b.parentElement; return b; };
  for (const el of document.querySelectorAll(
      "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1'])")) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || style.visibility === "hidden" || el.closest("[hidden], details:not([open]) > :not(summary)")) continue;
    if (r.right <= 0 || r.bottom <= 0 || (r.width <= 1 && r.height <= 1)) continue;  // off-screen skip link, visually hidden
    if (r.width >= 24 - 0.01 && r.height >= 24 - 0.01) continue;
    if (el.tagName === "A") {
      const block = blockOf(el);
      const rest = block ? block.textContent.replace(el.textContent, "") : "";
      if (/[\p{L}\p{N}]/u.test(rest)) continue;  // a link in running text
    }
    out.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${(el.textContent || el.value || el.name || "").trim().slice(0, 30)}" ${r.width.toFixed(1)}x${r.height.toFixed(1)}`);
  }
  return out;
};
// At 390 px: tables are cards whose cells say their column; chart labels are whole (not cut,
// not shrunk, not on top of each other); nothing runs off the side of the screen.
window.__access.phoneLayout = () => {
  const out = [];
  if (document.documentElement.scrollWidth > window.innerWidth) out.push("page wider than the screen: " + document.documentElement.scrollWidth);
  for (const table of document.querySelectorAll("main table")) {
    if (!table.getClientRects().length) continue;  // in a closed <details>
    if (table.querySelector("thead") && getComputedStyle(table).display !== "block") out.push("table not stacked: " + (table.id || table.className || table.outerHTML.slice(0, 60)));
    const width = table.querySelectorAll("thead th").length ? [...table.querySelectorAll("thead th")].reduce((n, th) => n + th.colSpan, 0) : 0;
    for (const td of table.querySelectorAll("tbody td")) {
      if (!width || td.colSpan >= width || !td.textContent.trim() && !td.children.length) continue;
      if (!td.dataset.label) out.push("cell without its column's name: " + td.textContent.trim().slice(0, 30));
    }
    if (table.getBoundingClientRect().right > window.innerWidth + 0.5) out.push("table wider than the screen");
  }
  const labels = [...document.querySelectorAll(".chart .bar-label")];
  labels.forEach((label, i) => {
    const size = parseFloat(getComputedStyle(label).fontSize);
    if (size < 12) out.push(`chart label at ${size}px: ${label.textContent}`);
    if (label.scrollWidth > label.clientWidth + 1) out.push("chart label cut: " + label.textContent);
    const r = label.getBoundingClientRect();
    if (r.right > window.innerWidth + 0.5) out.push("chart label off the screen: " + label.textContent);
    const next = labels[i + 1];
    if (next && next.closest(".chart") === label.closest(".chart")) {
      const n = next.getBoundingClientRect();
      if (n.top < r.bottom - 0.5) out.push("chart labels overlap: " + label.textContent + " / " + next.textContent);
    }
  });
  return out;
};
// Each focusable element focused from the keyboard: a ring of at least 2 px whose colour has 3:1
// against the background behind it (the first opaque background up the tree).
window.__access.focusRing = () => {
  const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
  const behind = el => { for (let e = el.parentElement; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor); if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); }
    return [255, 255, 255]; };
  const out = [];
  let checked = 0;
  for (const el of document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary")) {
    if (!el.getClientRects().length || checked >= 40) continue;
    el.focus();
    if (document.activeElement !== el) continue;
    checked++;
    const s = getComputedStyle(el);
    const width = parseFloat(s.outlineWidth);
    if (s.outlineStyle === "none" || width < 2) { out.push(`no focus ring: ${el.tagName} ${el.textContent.trim().slice(0, 20)}`); continue; }
    const [a, b] = [lum(rgb(s.outlineColor).slice(0, 3)), lum(behind(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 3) out.push(`focus ring ${s.outlineColor} has ${ratio.toFixed(2)}:1 on ${el.tagName} ${el.textContent.trim().slice(0, 20)}`);
  }
  if (document.activeElement) document.activeElement.blur();
  return {checked, problems: out};
};
// The forms of a page a person fills in (a field to type in, choose or upload), one per kind: the
// same form on every row of a table (an agreement per placement) counts once.
const formKey = form => form.method + " " + new URL(form.action, location.href).pathname.replace(/\d+/g, "{id}");
window.__access.formsToTry = () => {
  const seen = new Set();
  for (const form of document.forms) {
    const fields = [...form.elements].filter(el => el.name && !["hidden", "submit", "button", "checkbox", "radio"].includes(el.type));
    if (fields.length && !formKey(form).endsWith(" /logout")) seen.add(formKey(form));
  }
  return [...seen];
};
// Fills the (first) form of `key` with bad input and submits it, past the browser's own checks (novalidate):
// "empty" leaves every field empty; "bad" types letters into numbers, an impossible date, 5,000
// characters into text, a choice that is not offered, and a file of bad rows.
window.__access.submitBad = ({key, variant}) => {
  const form = [...document.forms].find(f => formKey(f) === key);
  if (!form) return false;
  form.noValidate = true;
  for (const el of [...form.elements]) {
    if (!el.name || ["hidden", "submit", "button", "checkbox", "radio"].includes(el.type)) continue;
    if (el.type === "file") {
      if (variant === "bad") {
        const data = new DataTransfer();
        data.items.add(new File(["\ufeff学号,姓名,专业,年级,标题,名额\n" + "x".repeat(300) + ",,abc,-5,,abc\n"], "bad.csv", {type: "text/csv"}));
        el.files = data.files;
      }
      continue;
    }
    if (el.tagName === "SELECT") {
      const option = new Option("x", variant === "bad" ? "999999999999" : "");
      el.add(option);
      el.value = option.value;
      continue;
    }
    const kind = el.type;
    if (["number", "date", "email", "tel", "url"].includes(kind)) el.type = "text";
    el.value = variant === "empty" ? "" : kind === "number" ? "abc" : kind === "date" ? "2027-13-45" : "x".repeat(5000);
  }
  form.submit();
  return true;
};
// What the page says about the submission: its error summary, field messages, alerts and notices.
window.__access.messages = () => {
  if (!document.querySelector("main")) return {page: document.body.innerText.slice(0, 500), messages: []};
  const messages = [...document.querySelectorAll(
      "main .error-summary, main .field-error, main .error, main [role=alert], main .flash, main .warning")]
    .map(el => el.innerText.trim()).filter(Boolean);
  return {page: document.querySelector("main").innerText, messages};
};
