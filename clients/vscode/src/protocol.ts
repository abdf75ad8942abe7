// The qwen-lsp custom protocol as this client uses it (see the root README). No vscode imports.

export const STATUS_NOTIFICATION = 'qwen/status';
export const STATS_REQUEST = 'qwen/stats';
export const PARTIAL_ACCEPT_NOTIFICATION = 'qwen/didPartiallyAccept';
export const ACCEPT_COMMAND = 'qwen.didAccept';
export const CHAT_REQUEST = 'qwen/chat';
export const CHAT_DELTA_NOTIFICATION = 'qwen/chatDelta';
export const CHAT_RESET_REQUEST = 'qwen/chatReset';
export const APPLY_CODE_BLOCK_REQUEST = 'qwen/applyCodeBlock';

/** The server command that answers in the chat panel. */
export const EXPLAIN_COMMAND = 'qwen.explain';
/** Server commands that edit (through workspace/applyEdit, with confirmation). */
export const EDIT_COMMANDS = [
  'qwen.refactor',
  'qwen.simplify',
  'qwen.addTypeHints',
  'qwen.addDocstring',
  'qwen.generateTests',
  'qwen.fix',
] as const;
export type EditCommand = (typeof EDIT_COMMANDS)[number];
export const EXECUTE_COMMAND_REQUEST = 'workspace/executeCommand';

export interface EditResult { applied: boolean; reason?: string }

export type ServerState = 'idle' | 'indexing' | 'requesting' | 'error';

export interface StatusParams {
  state: ServerState;
  message?: string;
  endpoint?: string;
  provider?: string;
  model?: string;
}

export interface PartialAcceptParams {
  id: string;
  acceptedLength: number;
  kind: 'word' | 'line';
}

export interface LspPosition { line: number; character: number }
export interface LspRange { start: LspPosition; end: LspPosition }

export interface ChatParams {
  sessionId: string;
  message: string;
  context?: { uri?: string; range?: LspRange; includeRepoContext?: boolean };
}

export interface ChatDeltaParams {
  sessionId: string;
  requestId: string;
  delta: string;
  kind?: 'reasoning';
}

export interface ChatResult {
  sessionId: string;
  requestId: string;
  text: string;
}

export interface ApplyCodeBlockParams { uri: string; range?: LspRange; code: string }
export interface ApplyCodeBlockResult { applied: boolean; reason?: string }

export interface ActionArgs {
  uri: string;
  range: LspRange;
  instruction?: string;
  sessionId?: string;
}

/** JSON-RPC MethodNotFound: the server predates the feature. */
export const METHOD_NOT_FOUND = -32601;

export function isMethodNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === METHOD_NOT_FOUND;
}
