// Moved out of templates/meetings/form.html (the Content-Security-Policy allows no inline script).
(function () {
  const form = document.getElementById('meeting-form');
  const kind = form.querySelector('[name=kind]');
  const group = form.querySelector('[name=group_id]');
  const items = Array.from(form.querySelectorAll('.attend-list .list-group-item[data-group]'));
  function sync(item) {
    const box = item.querySelector('input[type=checkbox]');
    item.classList.toggle('absent', !box.checked);
    item.querySelector('.reason').classList.toggle('d-none', box.checked);
  }
  function count() {
    const shown = items.filter(i => !i.classList.contains('d-none'));
    const on = shown.filter(i => i.querySelector('input[type=checkbox]').checked).length;
    document.getElementById('attend-count').textContent = '应到 ' + shown.length + ' 人，实到 ' + on + ' 人';
  }
  function byKind(e) {
    const initial = !e;
    const isGroup = kind.value === 'party_group_meeting';
    document.getElementById('group-wrap').classList.toggle('d-none', !isGroup);
    document.getElementById('lecturer-wrap').classList.toggle('d-none', kind.value !== 'party_lecture');
    items.forEach(i => {
      const hide = isGroup && group.value !== '0' && i.dataset.group !== group.value;
      i.classList.toggle('d-none', hide);
      if (hide) { i.querySelector('input[type=checkbox]').checked = false; sync(i); }
      else if (isGroup && !initial && !i.dataset.touched) { i.querySelector('input[type=checkbox]').checked = true; sync(i); }
    });
    count();
  }
  items.forEach(i => i.querySelector('input[type=checkbox]').addEventListener('change', () => { i.dataset.touched = '1'; sync(i); count(); }));
  form.querySelectorAll('[data-all]').forEach(b => b.addEventListener('click', () => {
    items.filter(i => !i.classList.contains('d-none')).forEach(i => { i.querySelector('input[type=checkbox]').checked = b.dataset.all === '1'; i.dataset.touched = '1'; sync(i); });
    count();
  }));
  kind.addEventListener('change', byKind);
  group.addEventListener('change', byKind);
  byKind();
  form.addEventListener('submit', () => { const s = document.getElementById('save'); setTimeout(() => { s.disabled = true; s.textContent = '正在保存…'; }, 0); });
})();
