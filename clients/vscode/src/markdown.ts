// Markdown for the chat panel: model output is escaped first (markdown-it with html off),
// then rendered; code blocks get highlighting and Copy / Insert / Apply buttons.
// Pure: runs in the extension host and in unit tests, the webview only shows the result.

import MarkdownIt from 'markdown-it';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import typescript from 'highlight.js/lib/languages/typescript';
import yaml from 'highlight.js/lib/languages/yaml';
import diff from 'highlight.js/lib/languages/diff';

const LANGUAGES = { bash, c, cpp, go, java, javascript, json, python, rust, typescript, yaml, diff };
for (const [name, def] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, def);
hljs.registerAliases(['sh', 'shell', 'zsh'], { languageName: 'bash' });
hljs.registerAliases(['py'], { languageName: 'python' });
hljs.registerAliases(['js', 'jsx'], { languageName: 'javascript' });
hljs.registerAliases(['ts', 'tsx'], { languageName: 'typescript' });

export interface CodeBlock {
  language: string;
  code: string;
}

export interface Rendered {
  html: string;
  blocks: CodeBlock[];
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function createRenderer(): ReturnType<typeof MarkdownIt> {
  // html: false is the escaping step: any HTML in the model's text comes out as text.
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false, breaks: false });
  // No images: a remote image is a way to send data out (the CSP blocks it too).
  md.disable('image');
  md.validateLink = (url: string) => /^(https?:|mailto:|#)/i.test(url.trim());
  md.renderer.rules.fence = (tokens, idx, _options, rawEnv) => {
    const env = rawEnv as { blocks: CodeBlock[] };
    const token = tokens[idx];
    const language = (token.info.trim().split(/\s+/)[0] ?? '').toLowerCase().replace(/[^a-z0-9_+#.-]/g, '');
    const index = env.blocks.length;
    env.blocks.push({ language, code: token.content });
    let body: string;
    if (language && hljs.getLanguage(language)) {
      // highlight.js escapes the code it is given; its output holds only its own spans.
      body = hljs.highlight(token.content, { language, ignoreIllegals: true }).value;
    } else {
      body = escapeHtml(token.content);
    }
    const label = language ? `<span class="code-lang">${escapeHtml(language)}</span>` : '';
    return (
      `<div class="code-block" data-block="${index}">` +
      `<div class="code-actions">${label}` +
      `<button type="button" data-action="copy" data-block="${index}" title="Copy">Copy</button>` +
      `<button type="button" data-action="insert" data-block="${index}" title="Insert at cursor">Insert</button>` +
      `<button type="button" data-action="apply" data-block="${index}" title="Apply to the editor">Apply</button>` +
      `</div><pre><code class="hljs${language ? ` language-${escapeHtml(language)}` : ''}">${body}</code></pre></div>\n`
    );
  };
  const defaultLink = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    tokens[idx].attrSet('title', tokens[idx].attrGet('href') ?? '');
    return defaultLink(tokens, idx, options, env, self);
  };
  return md;
}

const renderer = createRenderer();

/** Render model output (possibly incomplete, while streaming) to safe HTML. */
export function renderMarkdown(text: string): Rendered {
  const env = { blocks: [] as CodeBlock[] };
  const html = renderer.render(text, env);
  return { html, blocks: env.blocks };
}
