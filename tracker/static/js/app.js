// Behaviour shared by every page, wired by data attributes: the
// Content-Security-Policy allows no inline script or on* handler.
//   data-print                  button prints the page
//   data-autosubmit             select submits its form when changed
//   data-check-all="selector"   button ticks every matching checkbox
//   data-check-none="selector"  button clears them
//   data-copy="selector"        button copies the element's value (or text) to the clipboard
//   data-confirm="question"     form submits only when the user confirms
//   table.card-list             on phones each row is a card: every cell gets data-label = its
//                               column title (from the table head), shown before the value
//   <body data-max-upload="bytes" data-upload-too-large="message">: a file input whose form
//     would send more than the server accepts is emptied and the message shown beside it
//     (the server would refuse the whole form with 413, and what was typed would be lost)
(function () {
  function uploadTooLarge(input) {
    const limit = Number(document.body.getAttribute('data-max-upload') || 0);
    if (!limit || !input.form) { return false; }
    let total = 0;
    input.form.querySelectorAll('input[type=file]').forEach(function (f) {
      Array.prototype.forEach.call(f.files || [], function (file) { total += file.size; });
    });
    let note = input.parentNode.querySelector('[data-upload-feedback]');
    if (total <= limit - 64 * 1024) {
      if (note) { note.remove(); input.classList.remove('is-invalid'); }
      return false;
    }
    if (!note) {
      note = document.createElement('div');
      note.className = 'invalid-feedback d-block';
      note.setAttribute('data-upload-feedback', '');
      input.insertAdjacentElement('afterend', note);
    }
    note.textContent = document.body.getAttribute('data-upload-too-large');
    input.classList.add('is-invalid');
    input.value = '';
    return true;
  }
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
  document.querySelectorAll('table.card-list').forEach(function (table) {
    const titles = Array.prototype.map.call(
      table.querySelectorAll('thead tr:first-child > th'),
      function (th) { return th.textContent.trim(); });
    table.querySelectorAll('tbody > tr').forEach(function (tr) {
      let col = 0;
      Array.prototype.forEach.call(tr.children, function (td) {
        if (!td.hasAttribute('data-label') && titles[col]) { td.setAttribute('data-label', titles[col]); }
        col += td.colSpan || 1;
      });
    });
  });
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
    const big = Array.prototype.some.call(
      e.target.querySelectorAll('input[type=file]'), uploadTooLarge);
    if (big) { e.preventDefault(); return; }
    const form = e.target.closest('form[data-confirm]');
    if (form && !window.confirm(form.getAttribute('data-confirm'))) { e.preventDefault(); }
  });
  document.addEventListener('change', function (e) {
    if (e.target.matches && e.target.matches('input[type=file]')) { uploadTooLarge(e.target); }
    const el = e.target.closest('select[data-autosubmit]');
    if (el && el.form) { el.form.submit(); }
  });
})();
