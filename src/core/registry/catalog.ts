import { TreeError } from '../errors.js'

/** One published tag, as catalog.json records it. */
export interface CatalogTag {
  tag: string
  /** Digest of the image manifest, or of the index for a multi-platform image. */
  digest: string
  platforms: string[]
  /** Bytes of all blobs in the tag folder. */
  size: number
  /** CID of the tag folder. */
  cid: string
  published: string
  revision?: string
}

export interface CatalogImage {
  name: string
  description?: string
  tags: CatalogTag[]
}

export interface Catalog {
  schemaVersion: 1
  updated: string
  images: CatalogImage[]
}

export const CATALOG_FILE = 'catalog.json'

export function emptyCatalog (): Catalog {
  return { schemaVersion: 1, updated: new Date(0).toISOString(), images: [] }
}

export function parseCatalog (bytes: Uint8Array): Catalog {
  let value: any
  try {
    value = JSON.parse(new TextDecoder().decode(bytes))
  } catch (err) {
    throw new TreeError(`catalog.json of the previous root is not valid JSON: ${(err as Error).message}`)
  }
  if (value?.schemaVersion !== 1 || !Array.isArray(value.images)) {
    throw new TreeError('catalog.json of the previous root is not an ipcr catalog (expected schemaVersion 1 and an images array)')
  }
  return value as Catalog
}

/** Adds or replaces tags of one image; keeps images and tags sorted so the bytes are stable. */
export function updateCatalog (catalog: Catalog, update: { name: string, description?: string, tags: CatalogTag[], updated: string }): Catalog {
  const images = catalog.images.filter((i) => i.name !== update.name)
  const previous = catalog.images.find((i) => i.name === update.name)
  const replaced = new Set(update.tags.map((t) => t.tag))
  const tags = [...(previous?.tags ?? []).filter((t) => !replaced.has(t.tag)), ...update.tags]
    .sort((a, b) => a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0)
  const description = update.description ?? previous?.description
  images.push({ name: update.name, ...(description != null ? { description } : {}), tags })
  images.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  return { schemaVersion: 1, updated: update.updated, images }
}

export function encodeCatalog (catalog: Catalog): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(catalog, null, 2) + '\n')
}
