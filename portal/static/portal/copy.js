// Copy buttons: <button type="button" data-copy="ID" hidden>Copy</button> copies the
// text of the element with id ID, and says so in the element marked data-copy-status
// next to it (a role="status" region, read out by screen readers). The buttons are
// hidden until this script shows them: without it, people select the text themselves.
(function () {
  "use strict";

  function say(button, text) {
    var status = button.parentElement.querySelector("[data-copy-status]");
    if (status) status.textContent = text;
  }

  function select(source) {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.textContent;
    // The clipboard API needs a secure page (https, or localhost); elsewhere the text
    // is selected for the person to copy with their keyboard or menu.
    if (!navigator.clipboard || !window.isSecureContext) {
      select(source);
      say(button, "Selected: press Ctrl+C (⌘C on a Mac) to copy.");
      return;
    }
    navigator.clipboard.writeText(text).then(
      function () { say(button, "Copied."); },
      function () {
        select(source);
        say(button, "Selected: press Ctrl+C (⌘C on a Mac) to copy.");
      }
    );
  }

  function start() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { copy(button); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
