import type { TarIndex } from './tar-index.js'

/**
 * Resolves paths through the symlinks and hardlinks of a tar index, also
 * in parent folders, in time linear in the path's length: link names form
 * a tree of path components, and each link's target is resolved once.
 * A loop, or a path that needs more than MAX_HOPS links, stays unresolved.
 */
export const LINK_LIMITS = {
  /** Links followed for one path (as the Linux kernel's 40). */
  hops: 40,
  /** Components of all link names together: the tree's size. */
  nodes: 200_000
} as const

interface Node {
  name: string
  parent?: Node
  children?: Map<string, Node>
  /** The link's target, for nodes that are links. */
  target?: string
  /** A link's target, resolved; null when it cannot be (loop, too many hops); 'busy' while being resolved. */
  resolved?: Place | null | 'busy'
}

/** A resolved path: a node of the link tree, then components below it that no link name has. */
interface Place {
  node: Node
  rest: string[]
  hops: number
}

/** Thrown when the links are too many or their names too deep; the caller adds the input's name. */
export class LinkLimitError extends Error {}

/** Walks `parts` from the root; yields each link met and gets back its resolved place. */
function * walk (root: Node, parts: string[]): Generator<Node, Place | null, Place | null> {
  let node = root
  let rest: string[] = []
  let hops = 0
  for (const part of parts) {
    if (rest.length > 0) {
      rest.push(part)
      continue
    }
    const child = node.children?.get(part)
    if (child == null) {
      rest = [part]
    } else if (child.target == null) {
      node = child
    } else {
      const place = yield child
      if (place == null) return null
      hops += place.hops
      if (hops > LINK_LIMITS.hops) return null
      node = place.node
      rest = [...place.rest]
    }
  }
  return { node, rest, hops }
}

function split (path: string): string[] {
  return path === '' ? [] : path.split('/')
}

export class LinkResolver {
  private readonly root: Node = { name: '' }
  private readonly links: Array<{ name: string, node: Node }> = []

  constructor (private readonly index: TarIndex) {
    let nodes = 0
    for (const [name, link] of index.links) {
      let node = this.root
      for (const part of split(name)) {
        node.children ??= new Map()
        let child = node.children.get(part)
        if (child == null) {
          if (++nodes > LINK_LIMITS.nodes) {
            throw new LinkLimitError(`links whose names have more than ${LINK_LIMITS.nodes} path components in all`)
          }
          child = { name: part, parent: node }
          node.children.set(part, child)
        }
        node = child
      }
      node.target = link.target
      this.links.push({ name, node })
    }
  }

  /** The names of links that resolve to a regular file. */
  resolvedLinks (): string[] {
    const names: string[] = []
    for (const { name, node } of this.links) {
      const place = this.resolveLink(node)
      if (place != null && this.index.files.has(pathOf(place))) names.push(name)
    }
    return names
  }

  /** The regular file a path names, links followed; undefined when there is none. */
  resolve (path: string): string | undefined {
    if (this.index.files.has(path)) return path
    const place = this.run(walk(this.root, split(path)))
    if (place == null) return undefined
    const resolved = pathOf(place)
    return this.index.files.has(resolved) ? resolved : undefined
  }

  private resolveLink (node: Node): Place | null {
    if (node.resolved === undefined) this.run(this.linkWalk(node), node)
    return node.resolved === 'busy' ? null : node.resolved ?? null
  }

  private linkWalk (node: Node): Generator<Node, Place | null, Place | null> {
    node.resolved = 'busy'
    return walk(this.root, split(node.target ?? ''))
  }

  /**
   * Runs a walk to its end, resolving the links it meets on an explicit stack
   * (no recursion: chains may be long), each link once.
   */
  private run (first: Generator<Node, Place | null, Place | null>, firstLink?: Node): Place | null {
    const stack: Array<{ walk: Generator<Node, Place | null, Place | null>, link?: Node }> = [{ walk: first, link: firstLink }]
    let input: Place | null = null
    let result: Place | null = null
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { walk: Generator<Node, Place | null, Place | null>, link?: Node }
      const step = top.walk.next(input)
      if (step.done === true) {
        stack.pop()
        let place = step.value
        if (top.link != null) {
          // Following the link itself is one hop.
          place = place == null || place.hops + 1 > LINK_LIMITS.hops ? null : { ...place, hops: place.hops + 1 }
          top.link.resolved = place
        }
        input = place
        result = place
        continue
      }
      const link = step.value
      if (link.resolved === undefined) {
        stack.push({ walk: this.linkWalk(link), link })
        input = null
      } else {
        // 'busy': the link is being resolved further down the stack, a loop.
        input = link.resolved === 'busy' ? null : link.resolved
      }
    }
    return result
  }
}

function pathOf (place: Place): string {
  const parts: string[] = []
  for (let node: Node | undefined = place.node; node?.parent != null; node = node.parent) parts.push(node.name)
  parts.reverse()
  return [...parts, ...place.rest].join('/')
}
