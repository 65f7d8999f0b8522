/** What the core needs from a shell to report progress. */
export interface Logger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  /** Runs `fn` inside a named, collapsible section where the shell has one. */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  group: async (_name, fn) => fn()
}

/** Options every long-running core operation accepts. */
export interface AbortOptions {
  signal?: AbortSignal
}

export interface OperationOptions extends AbortOptions {
  logger?: Logger
}
