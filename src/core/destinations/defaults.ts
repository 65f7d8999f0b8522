/** What every pin of a registry is named after unless `pin-name` (`kubo-pin-name` for Kubo) says otherwise. */
export const DEFAULT_PIN_NAME = 'ipcr registry'

/** How long a remote pinning service (Pinning Service API, IPFS Cluster, w3up) may take: `pin-timeout`'s default. */
export const DEFAULT_PIN_TIMEOUT_MS = 10 * 60_000
