// Partial acceptance bookkeeping: which suggestion a "next word / next line" accept took
// text from, and how much of it is accepted so far. Pure.

export interface ShownItem {
  id: string;
  insertText: string;
  /** Characters of insertText already accepted by earlier partial accepts. */
  accepted: number;
}

export interface PartialAccept {
  id: string;
  acceptedLength: number;
}

/** Remember the items last shown per document (only the newest list counts). */
export class ShownItems {
  private readonly byDocument = new Map<string, ShownItem[]>();

  set(documentKey: string, items: { id?: string; insertText: string }[]): void {
    const kept = items.filter((i): i is { id: string; insertText: string } => typeof i.id === 'string');
    if (kept.length) this.byDocument.set(documentKey, kept.map((i) => ({ ...i, accepted: 0 })));
    else this.byDocument.delete(documentKey);
  }

  forget(documentKey: string): void {
    this.byDocument.delete(documentKey);
  }

  /**
   * Match text the editor just inserted by a partial accept against the shown items;
   * on a match, advance that item and return the cumulative accepted length.
   */
  accept(documentKey: string, inserted: string): PartialAccept | undefined {
    if (!inserted) return undefined;
    const items = this.byDocument.get(documentKey) ?? [];
    for (const item of items) {
      const rest = item.insertText.slice(item.accepted);
      if (rest.startsWith(inserted)) {
        item.accepted += inserted.length;
        return { id: item.id, acceptedLength: item.accepted };
      }
    }
    return undefined;
  }
}

/** The `id` a qwen-lsp suggestion carries in its `qwen.didAccept` command. */
export function suggestionId(command: { command?: string; arguments?: unknown[] } | undefined): string | undefined {
  if (!command || command.command !== 'qwen.didAccept') return undefined;
  const arg = command.arguments?.[0];
  if (typeof arg === 'object' && arg !== null && typeof (arg as { id?: unknown }).id === 'string') {
    return (arg as { id: string }).id;
  }
  return undefined;
}
