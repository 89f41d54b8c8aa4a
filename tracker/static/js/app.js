// Behaviour shared by every page, wired by data attributes: the
// Content-Security-Policy allows no inline script or on* handler.
//   data-print                  button prints the page
//   data-autosubmit             select submits its form when changed
//   data-check-all="selector"   button ticks every matching checkbox
//   data-check-none="selector"  button clears them
//   data-copy="selector"        button copies the element's value (or text) to the clipboard
//   data-confirm="question"     form submits only when the user confirms
(function () {
  function copy(button) {
    const source = document.querySelector(button.getAttribute('data-copy'));
    if (!source) { return; }
    const text = 'value' in source ? source.value : source.textContent;
    const done = function () {
      button.dataset.label = button.dataset.label || button.textContent;
      button.textContent = '✓ ' + button.dataset.label;
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      const area = document.createElement('textarea');
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand('copy');
      area.remove();
      done();
    }
  }
  document.addEventListener('click', function (e) {
    const el = e.target.closest('[data-print],[data-check-all],[data-check-none],[data-copy]');
    if (!el) { return; }
    if (el.hasAttribute('data-print')) { window.print(); return; }
    if (el.hasAttribute('data-copy')) { copy(el); return; }
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
