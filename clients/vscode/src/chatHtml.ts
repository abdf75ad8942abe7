// The chat panel's HTML document. Pure.

export function nonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < 32; i++) out += chars[Math.floor(Math.random() * chars.length)];
  return out;
}

/** The panel's HTML: a strict CSP, only our own script and styles from media/. */
export function chatHtml(cspSource: string, scriptUri: string, styleUri: string, scriptNonce: string): string {
  const csp = [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
    `script-src 'nonce-${scriptNonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${styleUri}">
<title>Qwen Chat</title>
</head>
<body>
<div id="messages" role="log" aria-live="polite"></div>
<div id="empty" class="empty">Ask about your code. The selection in the editor goes along as context.</div>
<form id="composer">
  <textarea id="input" rows="3" placeholder="Ask Qwen… (Enter to send, Shift+Enter for a new line)" aria-label="Message"></textarea>
  <div class="buttons">
    <button type="button" id="new" class="secondary" title="New chat">New chat</button>
    <button type="button" id="stop" class="secondary" title="Stop the answer" hidden>Stop</button>
    <button type="submit" id="send" title="Send">Send</button>
  </div>
</form>
<script nonce="${scriptNonce}" src="${scriptUri}"></script>
</body>
</html>`;
}
