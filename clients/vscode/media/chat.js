// Chat panel script. The HTML it shows is rendered (escaped, then Markdown) by the extension.
// @ts-check
(function () {
  // eslint-disable-next-line no-undef
  const vscode = acquireVsCodeApi();
  const list = /** @type {HTMLElement} */ (document.getElementById('messages'));
  const empty = /** @type {HTMLElement} */ (document.getElementById('empty'));
  const form = /** @type {HTMLFormElement} */ (document.getElementById('composer'));
  const input = /** @type {HTMLTextAreaElement} */ (document.getElementById('input'));
  const stop = /** @type {HTMLButtonElement} */ (document.getElementById('stop'));
  const send = /** @type {HTMLButtonElement} */ (document.getElementById('send'));
  const newChat = /** @type {HTMLButtonElement} */ (document.getElementById('new'));

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  }

  function fill(el, index, m) {
    el.className = `message ${m.role} ${m.status}`;
    el.dataset.index = String(index);
    let html = '';
    if (m.reasoningHtml) html += `<details class="reasoning"><summary>Thinking</summary>${m.reasoningHtml}</details>`;
    html += `<div class="body">${m.html}</div>`;
    el.innerHTML = html;
    if (m.status === 'streaming' && !m.html.trim()) {
      el.querySelector('.body')?.insertAdjacentHTML('beforeend', '<span class="typing">…</span>');
    }
    if (m.note || m.status === 'stopped') {
      const note = document.createElement('div');
      note.className = 'note';
      note.textContent = m.note || 'Stopped.';
      el.appendChild(note);
    }
  }

  function setBusy(busy) {
    stop.hidden = !busy;
    send.disabled = busy;
  }

  window.addEventListener('message', (event) => {
    const msg = event.data;
    const stick = nearBottom();
    if (msg.type === 'state') {
      list.textContent = '';
      msg.messages.forEach((m, i) => {
        const el = document.createElement('div');
        fill(el, i, m);
        list.appendChild(el);
      });
      empty.hidden = msg.messages.length > 0;
      setBusy(msg.busy);
    } else if (msg.type === 'update') {
      let el = /** @type {HTMLElement | null} */ (list.querySelector(`.message[data-index="${msg.index}"]`));
      if (!el) {
        el = document.createElement('div');
        list.appendChild(el);
      }
      fill(el, msg.index, msg.message);
    } else if (msg.type === 'focus') {
      input.placeholder = msg.context ? `Ask about ${msg.context}… (the selection goes along)` : input.dataset.placeholder || '';
      input.focus();
    }
    if (stick) list.scrollTop = list.scrollHeight;
  });
  input.dataset.placeholder = input.placeholder;

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || send.disabled) return;
    vscode.postMessage({ type: 'send', text });
    input.value = '';
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  stop.addEventListener('click', () => vscode.postMessage({ type: 'stop' }));
  newChat.addEventListener('click', () => vscode.postMessage({ type: 'new' }));

  list.addEventListener('click', (e) => {
    const target = /** @type {HTMLElement} */ (e.target);
    const button = target.closest('button[data-action]');
    if (button instanceof HTMLElement) {
      const message = button.closest('.message');
      vscode.postMessage({
        type: 'code',
        action: button.dataset.action,
        message: Number(message instanceof HTMLElement ? message.dataset.index : -1),
        block: Number(button.dataset.block),
      });
      if (button.dataset.action === 'copy') {
        button.textContent = 'Copied';
        setTimeout(() => (button.textContent = 'Copy'), 1200);
      }
      return;
    }
    const link = target.closest('a[href]');
    if (link instanceof HTMLAnchorElement) {
      e.preventDefault();
      vscode.postMessage({ type: 'link', href: link.getAttribute('href') });
    }
  });

  vscode.postMessage({ type: 'ready' });
})();
