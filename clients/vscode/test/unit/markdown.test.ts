import { describe, expect, it } from 'vitest';
import { escapeHtml, renderMarkdown } from '../../src/markdown';

describe('renderMarkdown', () => {
  it('escapes HTML from model output before rendering', () => {
    const { html } = renderMarkdown('Hi <img src=x onerror="alert(1)"> <script>alert(2)</script>\n\n<div onclick="x()">block</div>');
    expect(html).not.toMatch(/<img|<script|<div onclick/);
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('&lt;div onclick=&quot;x()&quot;&gt;');
  });

  it('drops javascript: links and images', () => {
    const { html } = renderMarkdown('[click](javascript:alert(1)) ![x](https://evil.example/p.png) [ok](https://example.com)');
    expect(html).not.toMatch(/href="javascript/i);
    expect(html).not.toContain('<img');
    expect(html).toContain('href="https://example.com"');
  });

  it('highlights code blocks and collects them for Copy / Insert / Apply', () => {
    const { html, blocks } = renderMarkdown('Try:\n\n```python\ndef f(x):\n    return "<b>"\n```\n\n```\nplain <tag>\n```\n');
    expect(blocks).toEqual([
      { language: 'python', code: 'def f(x):\n    return "<b>"\n' },
      { language: '', code: 'plain <tag>\n' },
    ]);
    expect(html).toContain('class="hljs-keyword"');
    expect(html).toContain('&lt;b&gt;');
    expect(html).toContain('plain &lt;tag&gt;');
    expect(html).toContain('data-action="apply" data-block="1"');
  });

  it('does not let a fence info string inject attributes', () => {
    const { html, blocks } = renderMarkdown('```py"><script>x</script>\ncode\n```\n');
    expect(html).not.toContain('<script>');
    expect(blocks[0].language).toBe('pyscriptxscript');
  });

  it('renders an unfinished stream without throwing', () => {
    const { html } = renderMarkdown('Partial answer\n\n```python\ndef f(');
    expect(html).toContain('hljs-title function_">f</span>(');
  });
});

describe('escapeHtml', () => {
  it('escapes the five characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});
