// Behaviour shared by every page, wired by data attributes: the
// Content-Security-Policy allows no inline script or on* handler.
//   data-print                  button prints the page
//   data-autosubmit             select submits its form when changed
//   data-check-all="selector"   button ticks every matching checkbox
//   data-check-none="selector"  button clears them
//   data-confirm="question"     form submits only when the user confirms
(function () {
  document.addEventListener('click', function (e) {
    const el = e.target.closest('[data-print],[data-check-all],[data-check-none]');
    if (!el) { return; }
    if (el.hasAttribute('data-print')) { window.print(); return; }
    const on = el.hasAttribute('data-check-all');
    const selector = el.getAttribute(on ? 'data-check-all' : 'data-check-none');
    document.querySelectorAll(selector).forEach(function (c) { c.checked = on; });
  });
  document.addEventListener('submit', function (e) {
    const form = e.target.closest('form[data-confirm]');
    if (form && !window.confirm(form.getAttribute('data-confirm'))) { e.preventDefault(); }
  });
  document.addEventListener('change', function (e) {
    const el = e.target.closest('select[data-autosubmit]');
    if (el && el.form) { el.form.submit(); }
  });
})();
