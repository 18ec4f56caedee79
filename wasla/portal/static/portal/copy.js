/* Copy buttons: the text of the element named by data-copy goes to the clipboard; where the
   Clipboard API is missing or refused (plain http, old browsers) the text is selected instead,
   so the person can press Ctrl+C. The button carries its own translated words (data-copied,
   data-selected). A static file: the site's Content-Security-Policy runs no inline script. */
(function () {
  "use strict";
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var target = document.getElementById(button.dataset.copy);
      var text = target.textContent.trim();
      var done = function () { button.textContent = button.dataset.copied; };
      var select = function () {
        var range = document.createRange();
        range.selectNodeContents(target);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = button.dataset.selected;
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, select);
      } else {
        select();
      }
    });
  });
})();
