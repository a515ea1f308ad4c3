// Consulta: small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // Confirm destructive actions declared with data-confirm on a form.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  // Auto-submit select filters marked data-autosubmit (a submit button stays for keyboards).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
