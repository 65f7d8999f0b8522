// Node 20 has no Promise.withResolvers (Node 22 has): libp2p's peer store takes its locks through
// mortice 3.3, which calls it. Defined here, only where it is missing, before libp2p loads.
declare global {
  interface PromiseConstructor {
    withResolvers?: unknown
  }
}

export function definePromiseWithResolvers(): void {
  if (typeof Promise.withResolvers === 'function') return
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}
