import { describe, expect, it } from 'vitest';
import manifest from '../../package.json';

const bindings = manifest.contributes.keybindings as { command: string; key: string; when?: string }[];
const binding = (command: string) => bindings.find((b) => b.command === command);

describe('keybindings', () => {
  it('gives Tab to a next edit only when nothing else wants it', () => {
    const when = binding('qwen.nextEdit.tab')?.when ?? '';
    expect(binding('qwen.nextEdit.tab')?.key).toBe('tab');
    for (const clause of ['qwen.nextEditVisible', '!inlineSuggestionVisible', '!suggestWidgetVisible', '!inSnippetMode', 'editorTextFocus']) {
      expect(when).toContain(clause);
    }
  });

  it('lets Escape dismiss a next edit, but not the suggest widget or ghost text', () => {
    const when = binding('qwen.nextEdit.dismiss')?.when ?? '';
    expect(binding('qwen.nextEdit.dismiss')?.key).toBe('escape');
    expect(when).toContain('qwen.nextEditVisible');
    expect(when).toContain('!suggestWidgetVisible');
    expect(when).toContain('!inlineSuggestionVisible');
  });

  it("keeps VS Code's own keys: Alt+] cycles ghost text, chat keys only while VS Code's chat is off", () => {
    expect(binding('qwen.requestNextEdit')?.when).toContain('!inlineSuggestionVisible');
    expect(binding('qwen.chat.focus')).toMatchObject({ key: 'ctrl+alt+i' });
    expect(binding('qwen.chat.focus')?.when).toContain('!chatIsEnabled');
    expect(binding('qwen.chat.sendSelection')).toMatchObject({ key: 'ctrl+l' });
    expect(binding('qwen.chat.sendSelection')?.when).toContain('editorHasSelection');
    expect(binding('qwen.chat.sendSelection')?.when).toContain('!chatIsEnabled');
  });

  it('contributes the next-edit colours with the diff editor ones as defaults', () => {
    const colors = manifest.contributes.colors as { id: string; defaults: Record<string, string> }[];
    const byId = Object.fromEntries(colors.map((c) => [c.id, c.defaults.dark]));
    expect(byId['qwen.nextEdit.insertedTextBackground']).toBe('diffEditor.insertedTextBackground');
    expect(byId['qwen.nextEdit.removedTextBackground']).toBe('diffEditor.removedTextBackground');
  });
});
