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
  // Quick date and time for a past meeting: the chips set the start and keep the length.
  const started = form.querySelector('[name=started_at]');
  const ended = form.querySelector('[name=ended_at]');
  function pad(n) { return String(n).padStart(2, '0'); }
  function local(d) { return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes()); }
  function setStart(d) {
    const old = started.value ? new Date(started.value) : null;
    const length = old && ended.value ? (new Date(ended.value) - old) : 0;
    started.value = local(d);
    // At least an hour: the form's default (this hour → now) is no meeting's length.
    ended.value = local(new Date(d.getTime() + Math.max(length, 3600000)));
  }
  form.querySelectorAll('[data-days-ago]').forEach(b => b.addEventListener('click', () => {
    const base = started.value ? new Date(started.value) : new Date();
    const d = new Date();
    d.setDate(d.getDate() - Number(b.dataset.daysAgo));
    d.setHours(base.getHours(), base.getMinutes(), 0, 0);
    setStart(d);
  }));
  form.querySelectorAll('[data-start-time]').forEach(b => b.addEventListener('click', () => {
    const d = started.value ? new Date(started.value) : new Date();
    const [h, m] = b.dataset.startTime.split(':');
    d.setHours(Number(h), Number(m), 0, 0);
    setStart(d);
  }));
  kind.addEventListener('change', byKind);
  group.addEventListener('change', byKind);
  byKind();
  form.addEventListener('submit', () => { const s = document.getElementById('save'); setTimeout(() => { s.disabled = true; s.textContent = '正在保存…'; }, 0); });
})();
