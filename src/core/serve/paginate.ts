import { RegistryError } from './errors.js'

/** Most entries one page holds, whatever `n` asks. */
export const MAX_PAGE = 10_000

/**
 * One page of a sorted list, as tags/list and _catalog give it: the entries after `last`
 * (query parameter), at most `n` of them; `next` is the query of the following page when
 * entries remain (for a `Link: <…?n=…&last=…>; rel="next"` header).
 */
export function paginate (sorted: string[], url: URL): { items: string[], next?: string } {
  const last = url.searchParams.get('last')
  const nText = url.searchParams.get('n')
  let n = MAX_PAGE
  if (nText != null && nText !== '') {
    if (!/^\d{1,9}$/.test(nText)) throw new RegistryError(400, 'PAGINATION_NUMBER_INVALID', 'invalid number of results requested', { n: nText })
    n = Math.min(MAX_PAGE, Number(nText))
  }
  const after = last == null ? sorted : sorted.filter((item) => item > last)
  const items = after.slice(0, n)
  if (after.length <= n || items.length === 0) return { items }
  const next = new URLSearchParams({ n: String(n), last: items[items.length - 1] as string })
  return { items, next: next.toString() }
}
