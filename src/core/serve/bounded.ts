/** Drops the oldest entries (in insertion order) of a Set or Map until it holds at most `max`. */
export function trimOldest (kept: Set<unknown> | Map<unknown, unknown>, max: number): void {
  for (const oldest of kept.keys()) {
    if (kept.size <= max) break
    kept.delete(oldest)
  }
}
