/** The plugin's states, which are also its exit codes (Monitoring Plugins guidelines). */
export const OK = 0;
export const WARNING = 1;
export const CRITICAL = 2;
export const UNKNOWN = 3;
export type State = typeof OK | typeof WARNING | typeof CRITICAL | typeof UNKNOWN;

export const STATE_NAMES: Record<State, string> = {
  [OK]: 'OK',
  [WARNING]: 'WARNING',
  [CRITICAL]: 'CRITICAL',
  [UNKNOWN]: 'UNKNOWN',
};

/** A check ends in this state with this message: CRITICAL for what is down, UNKNOWN for what could not be told. */
export class PluginError extends Error {
  override readonly name = 'PluginError';
  constructor(
    readonly state: State,
    message: string,
    /** Usage errors add a usage hint under the status line. */
    readonly usage = false,
  ) {
    super(message);
  }
}

/** A mistake in how the plugin was called: UNKNOWN, with the usage hint. */
export function usageError(message: string): PluginError {
  return new PluginError(UNKNOWN, message, true);
}

/** The state an error ends a check in: its own, or UNKNOWN for anything unforeseen. */
export function stateOfError(err: unknown): State {
  return err instanceof PluginError ? err.state : UNKNOWN;
}
