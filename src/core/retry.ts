import { throwIfAborted } from './errors.js'

/** Exponential backoff with full jitter: a random delay in [base * 2^attempt / 2, base * 2^attempt]. */
export function backoffDelay (attempt: number, baseMs: number): number {
  const cap = baseMs * 2 ** attempt
  return cap / 2 + Math.random() * (cap / 2)
}

/** Waits `ms`, or less if `signal` aborts (then throws). */
export async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal)
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
    function done (): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
  })
  throwIfAborted(signal)
}
