/**
 * Calls by key that concurrent callers share: while a call for a key runs, another caller for
 * that key gets its result instead of starting a second one; once it settles, the key is free.
 */
export class SharedCalls<T> {
  private readonly calls = new Map<string, Promise<T>>()

  /** The call running for `key`, if any. */
  running (key: string): Promise<T> | undefined {
    return this.calls.get(key)
  }

  /** The result of the call running for `key`, else of `start()`, shared until it settles. */
  async run (key: string, start: () => Promise<T>): Promise<T> {
    const running = this.calls.get(key)
    if (running != null) return await running
    const call = start()
    this.calls.set(key, call)
    try {
      return await call
    } finally {
      this.calls.delete(key)
    }
  }
}
