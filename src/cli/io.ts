/** What a command may touch of the outside world; main.ts builds it from `process`, tests build their own. */
export interface Io {
  stdout: (text: string) => void;
  /**
   * Writes bytes to stdout as they are (a report's UTF-8 pages), resolving when stdout can take more (a
   * slow reader holds the writer back instead of the bytes piling up in memory); absent: they go through
   * `stdout` as text.
   */
  stdoutBytes?: (bytes: Uint8Array) => Promise<void>;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal (live progress bar) or not (plain lines). */
  isTTY: boolean;
  /** Whether stdin is a terminal: only then may a command ask a question (run's confirmation). */
  stdinIsTTY?: boolean;
  /** Asks a question on the terminal and returns the answer line (rejects when `signal` aborts). */
  ask?: (question: string) => Promise<string>;
  /** Aborted on the first SIGINT/SIGTERM. */
  signal: AbortSignal;
  cwd: string;
}
