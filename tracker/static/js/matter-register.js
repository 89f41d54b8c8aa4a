// Moved out of templates/matters/register.html (the Content-Security-Policy allows no inline script).
(function () {
  const materials = JSON.parse(document.getElementById('matter-materials').textContent);
  const kinds = JSON.parse(document.getElementById('matter-kinds').textContent);
  const select = document.getElementById('matter_type_id');
  const box = document.getElementById('materials');
  const notice = document.getElementById('one_time_notice');
  const hint = document.getElementById('due-hint');
  const villageSelect = document.querySelector('select#village_id');
  const AUTO = '请补齐以下材料：';
  let autoNotice = !notice.value || notice.value.startsWith(AUTO);
  function missing() {
    return Array.from(box.querySelectorAll('input[type=checkbox]')).filter(c => !c.checked).map(c => c.value);
  }
  function refreshNotice() {
    const miss = missing();
    const kind = kinds[select.value];
    if (kind) {
      hint.textContent = kind[0] === 'immediate' ? '即办件：当日办结。' : `承诺件：自受理次日起 ${kind[1]} 个工作日内办结（补正期间暂停计时）。`;
    } else { hint.textContent = ''; }
    if (autoNotice) {
      notice.value = miss.length ? `${AUTO}${miss.join('、')}。材料补齐后，自次日起计算办理时限。` : '';
    }
  }
  function render() {
    const list = materials[select.value] || [];
    box.innerHTML = '';
    if (!list.length) { box.innerHTML = '<span class="text-muted small">该事项无需材料或未选择事项</span>'; }
    for (const m of list) {
      const label = document.createElement('label');
      label.className = 'form-check-label';
      const input = document.createElement('input');
      input.type = 'checkbox'; input.name = 'materials_received'; input.value = m; input.checked = true;
      input.className = 'form-check-input me-1';
      input.addEventListener('change', refreshNotice);
      label.appendChild(input); label.appendChild(document.createTextNode(m));
      box.appendChild(label);
    }
    refreshNotice();
  }
  notice.addEventListener('input', () => { autoNotice = !notice.value || notice.value.startsWith(AUTO); });
  select.addEventListener('change', render);
  box.querySelectorAll('input[type=checkbox]').forEach(c => c.addEventListener('change', refreshNotice));
  if (villageSelect) {
    villageSelect.addEventListener('change', () => { window.location = '?village_id=' + villageSelect.value; });
  }
  refreshNotice();
})();
