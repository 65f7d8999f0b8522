import type { TarIndex } from './tar-index.js'

/** Links followed for one path (as the Linux kernel's 40). */
export const MAX_LINK_HOPS = 40

/**
 * A node of the tree of link names; its edge from the parent is `label`,
 * one or more whole path components (a radix tree: a deep folder that only
 * leads to links is one edge, compared in one step).
 */
interface Node {
  label: string
  parent?: Node
  /** Children by the first component of their label. */
  children?: Map<string, Node>
  /** The link's target, for nodes that are links. */
  target?: string
  /** A link's target, resolved; null when it cannot be (loop, too many hops); 'busy' while being resolved. */
  resolved?: Place | null | 'busy'
}

/** A resolved path: a node of the tree, then a rest (no leading slash) below it that no link name shares. */
interface Place {
  node: Node
  rest: string
  hops: number
}

type Walk = Generator<Node, Place | null, Place | null>

function firstComponent (path: string, pos: number): string {
  const slash = path.indexOf('/', pos)
  return path.slice(pos, slash === -1 ? undefined : slash)
}

/** True when `label` is at `pos` of `path` and ends at a component boundary there. */
function startsWithComponents (path: string, label: string, pos: number): boolean {
  const end = pos + label.length
  // Equality of a slice compares memory; startsWith goes char by char.
  return (end === path.length || path.charCodeAt(end) === 0x2f) && path.slice(pos, end) === label
}

/** Walks `start` from the root; yields each link met and gets back its resolved place. */
function * walk (root: Node, start: string): Walk {
  let path = start
  let node = root
  let pos = 0
  let hops = 0
  while (pos < path.length) {
    const child = node.children?.get(firstComponent(path, pos))
    // No link name continues here: the rest is below `node` as it is.
    if (child == null || !startsWithComponents(path, child.label, pos)) return { node, rest: path.slice(pos), hops }
    const next = pos + child.label.length + 1
    if (child.target == null) {
      node = child
      pos = next
      continue
    }
    const place = yield child
    if (place == null) return null
    hops += place.hops
    if (hops > MAX_LINK_HOPS) return null
    node = place.node
    if (place.rest === '') {
      pos = next
    } else if (next >= path.length) {
      return { node, rest: place.rest, hops }
    } else {
      // The target ends below `node`, maybe inside an edge: walk on through its rest (at most one per hop).
      path = `${place.rest}/${path.slice(next)}`
      pos = 0
    }
  }
  return { node, rest: '', hops }
}

/**
 * Resolves paths through the symlinks and hardlinks of a tar index, also in
 * parent folders, in time linear in the path's length; each link's target
 * is resolved once. A loop, or a path that needs more than MAX_LINK_HOPS
 * links, stays unresolved.
 */
export class LinkResolver {
  private readonly root: Node = { label: '' }
  private readonly links: Array<{ name: string, node: Node }> = []

  constructor (private readonly index: TarIndex) {
    for (const [name, link] of index.links) {
      const node = this.insert(name)
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
    const place = this.run(walk(this.root, path))
    if (place == null) return undefined
    const resolved = pathOf(place)
    return this.index.files.has(resolved) ? resolved : undefined
  }

  /** The node for `name`, made (splitting an edge if needed) when missing. */
  private insert (name: string): Node {
    let node = this.root
    let pos = 0
    while (pos < name.length) {
      const key = firstComponent(name, pos)
      node.children ??= new Map()
      const child = node.children.get(key)
      if (child == null) {
        const leaf: Node = { label: name.slice(pos), parent: node }
        node.children.set(key, leaf)
        return leaf
      }
      if (startsWithComponents(name, child.label, pos)) {
        node = child
        pos += child.label.length + 1
        continue
      }
      // Split the edge at the last component both share (at least `key`).
      let i = 0
      while (i < child.label.length && child.label.charCodeAt(i) === name.charCodeAt(pos + i)) i++
      const atBoundary = (i === child.label.length || child.label.charCodeAt(i) === 0x2f) && (pos + i === name.length || name.charCodeAt(pos + i) === 0x2f)
      const cut = atBoundary ? i : child.label.lastIndexOf('/', i - 1)
      const middle: Node = { label: child.label.slice(0, cut), parent: node, children: new Map() }
      child.label = child.label.slice(cut + 1)
      child.parent = middle
      middle.children?.set(firstComponent(child.label, 0), child)
      node.children.set(key, middle)
      node = middle
      pos += cut + 1
    }
    return node
  }

  private resolveLink (node: Node): Place | null {
    if (node.resolved === undefined) this.run(this.linkWalk(node), node)
    return node.resolved === 'busy' ? null : node.resolved ?? null
  }

  private linkWalk (node: Node): Walk {
    node.resolved = 'busy'
    return walk(this.root, node.target ?? '')
  }

  /**
   * Runs a walk to its end, resolving the links it meets on an explicit stack
   * (no recursion: chains may be long), each link once.
   */
  private run (first: Walk, firstLink?: Node): Place | null {
    const stack: Array<{ walk: Walk, link?: Node }> = [{ walk: first, link: firstLink }]
    let input: Place | null = null
    let result: Place | null = null
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { walk: Walk, link?: Node }
      const step = top.walk.next(input)
      if (step.done === true) {
        stack.pop()
        let place = step.value
        if (top.link != null) {
          // Following the link itself is one hop.
          place = place == null || place.hops + 1 > MAX_LINK_HOPS ? null : { ...place, hops: place.hops + 1 }
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
  const labels: string[] = []
  for (let node: Node | undefined = place.node; node?.parent != null; node = node.parent) labels.push(node.label)
  labels.reverse()
  if (place.rest !== '') labels.push(place.rest)
  return labels.join('/')
}
