/** Paths inside the registry tree, as arrays of folder names. */
export const registryPaths = {
  catalog: (): string[] => ['catalog.json'],
  image: (name: string): string[] => name.split('/'),
  readme: (name: string): string[] => [...name.split('/'), 'README-short.txt'],
  tags: (name: string): string[] => [...name.split('/'), 'tags'],
  tag: (name: string, tag: string): string[] => [...name.split('/'), 'tags', tag]
}

export function ipfsPath (root: string, path: string[]): string {
  return `/ipfs/${[root, ...path].join('/')}`
}
