/**
 * Files the registry tree keeps at its top. A repository name may not start
 * with one of them: its folder would take the file's place. A file added to
 * the tree's top joins this list.
 */
export const TOP_LEVEL_FILES = {
  catalog: 'catalog.json',
  /** The registry's web page. */
  webPage: 'index.html'
} as const

/**
 * Entries of every repository folder. No component of a repository name may
 * be one of them, in any case: `a/tags` would land inside the tags of `a`, and
 * `a/readme-short.txt` would clash with `a/README-short.txt` on a file system
 * that ignores case.
 */
export const REPOSITORY_ENTRIES = {
  tags: 'tags',
  readme: 'README-short.txt'
} as const

/** Paths inside the registry tree, as arrays of folder names. */
export const registryPaths = {
  catalog: (): string[] => [TOP_LEVEL_FILES.catalog],
  image: (name: string): string[] => name.split('/'),
  readme: (name: string): string[] => [...name.split('/'), REPOSITORY_ENTRIES.readme],
  tags: (name: string): string[] => [...name.split('/'), REPOSITORY_ENTRIES.tags],
  tag: (name: string, tag: string): string[] => [...name.split('/'), REPOSITORY_ENTRIES.tags, tag]
}

/** Why `name` cannot be a repository folder in the tree, or undefined when it can. */
export function reservedNameProblem (name: string): string | undefined {
  const parts = name.split('/')
  const first = (parts[0] ?? '').toLowerCase()
  const top = Object.values(TOP_LEVEL_FILES).find((f) => f.toLowerCase() === first)
  if (top != null) {
    return `starts with '${top}', a file the registry tree keeps at its top (reserved first components: ${Object.values(TOP_LEVEL_FILES).join(', ')})`
  }
  for (const part of parts) {
    const entry = Object.values(REPOSITORY_ENTRIES).find((e) => e.toLowerCase() === part.toLowerCase())
    if (entry != null) {
      return `has the component '${part}', which every repository folder uses for '${entry}' (reserved components: ${Object.values(REPOSITORY_ENTRIES).join(', ')})`
    }
  }
  return undefined
}

export function ipfsPath (root: string, path: string[]): string {
  return `/ipfs/${[root, ...path].join('/')}`
}
