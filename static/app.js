// billingplans: small enhancements on top of pages that work without JavaScript.
// Loaded as a file (the Content-Security-Policy allows no inline script).
"use strict";

// A select marked data-autosubmit sends its form as soon as it changes (the
// account switcher); its submit button stays for browsers without JavaScript.
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
    el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
  }
});
