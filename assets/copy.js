// Copy buttons on the donate page: progressive enhancement. Without this script the
// account number and SWIFT code are still plain text that can be selected.
(function () {
  "use strict";
  var status = document.querySelector(".copy-status");
  if (!status || !navigator.clipboard) return;
  var buttons = document.querySelectorAll("button.copy[data-copy-value]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var value = button.getAttribute("data-copy-value");
      navigator.clipboard.writeText(value).then(function () {
        status.textContent = status.getAttribute("data-copied").replace("{value}", value);
      }, function () {
        status.textContent = status.getAttribute("data-failed");
      });
    });
  });
})();
