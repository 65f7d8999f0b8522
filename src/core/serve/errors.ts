/** Error codes of the OCI Distribution Spec (and those `distribution` adds: server trouble, a bad `n`). */
export type ErrorCode =
  | 'BLOB_UNKNOWN' | 'DIGEST_INVALID' | 'MANIFEST_UNKNOWN' | 'NAME_INVALID' | 'NAME_UNKNOWN'
  | 'UNSUPPORTED' | 'UNKNOWN' | 'UNAVAILABLE' | 'PAGINATION_NUMBER_INVALID'

/** An answer the registry gives as a spec error body: `{"errors":[{code, message, detail}]}`. */
export class RegistryError extends Error {
  constructor (readonly status: number, readonly code: ErrorCode, message: string, readonly detail?: unknown) {
    super(message)
    this.name = 'RegistryError'
  }
}

export const notFound = {
  name: (name: string): RegistryError => new RegistryError(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name }),
  manifest: (reference: string): RegistryError => new RegistryError(404, 'MANIFEST_UNKNOWN', 'manifest unknown', { reference }),
  blob: (digest: string): RegistryError => new RegistryError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', { digest })
}

/** The JSON body of an error answer. */
export function errorBody (error: RegistryError): string {
  const entry: Record<string, unknown> = { code: error.code, message: error.message }
  if (error.detail !== undefined) entry.detail = error.detail
  return JSON.stringify({ errors: [entry] })
}
