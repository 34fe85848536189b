// triage review: the keyboard keys on the message page. Every key has a button, link or box
// on the page too; keys are ignored while typing in a text field or with a modifier held.
(function () {
  "use strict";
  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && !/^(checkbox|radio|submit|button)$/.test(el.type));
  }
  document.addEventListener("keydown", function (ev) {
    var form = document.getElementById("decide");
    if (!form) return;
    if (ev.key === "Escape" && typing(document.activeElement)) { document.activeElement.blur(); return; }
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(document.activeElement)) return;
    var kinds = form.querySelectorAll("input[name=kind]");
    var el = null;
    switch (ev.key) {
      case "c": el = document.getElementById("confirm"); if (el) el.click(); break;
      case "s": el = document.getElementById("correct"); if (el) el.click(); break;
      case "n": el = document.getElementById("next"); if (el) el.click(); break;
      case "d": el = document.getElementById("dissatisfied"); if (el) { el.click(); el.focus(); } break;
      case "t": el = form.querySelector("#themes input"); if (el) el.focus(); break;
      case "f": el = form.querySelector("#flags input"); if (el) el.focus(); break;
      case "e": el = document.getElementById("note"); if (el) el.focus(); break;
      case "1": case "2": case "3": case "4": case "5":
        el = kinds[Number(ev.key) - 1]; if (el) { el.checked = true; el.focus(); } break;
      default: return;
    }
    ev.preventDefault();
  });
})();
