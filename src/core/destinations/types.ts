import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../blocks/types.js'
import type { AbortOptions, OperationOptions } from '../logger.js'
import type { PublishResult } from '../publish.js'

export interface DestinationContext extends OperationOptions {
  result: PublishResult
  root: CID
  previousRoot: CID | null
  /** The CAR of the new blocks, for destinations that import one (kept or temporary). */
  carPath?: string
  /**
   * For name publishers: the root the name should hold now (null: no record yet). A publisher
   * that finds another throws NameMovedError instead of publishing, and the pipeline re-applies
   * this run's tags onto that root. Undefined: no check.
   */
  nameExpected?: CID | null
  /** Where this run serves the new root's blocks over IPFS, for destinations that fetch them (needsNetwork). */
  network?: BlockNetwork
  /** For name publishers: the reports of the names published before this one in this run (DNSLink finds the IPNS name there). */
  names?: readonly NameReport[]
}

/** This run's own IPFS peer, serving the new root's blocks until every destination is done. */
export interface BlockNetwork {
  /** Its multiaddrs, each ending in /p2p/<peer id>: the `origins` of a pin request. */
  readonly origins: string[]
  /** Connects to peers a service names (a pinning service's `delegates`), so they find the blocks. */
  dial(addresses: string[], options?: AbortOptions): Promise<void>
}

export interface DestinationReport {
  kind: string
  label: string
  /** What the destination did, for outputs and the summary: no secrets. */
  details: Record<string, string | number | boolean>
  /** False when it failed (then `error` says why); absent means it succeeded. */
  ok?: boolean
  error?: string
  /** A failure of a required destination fails the run; default true. */
  required?: boolean
  /** Seconds its store took. */
  seconds?: number
}

/**
 * Somewhere a published registry goes (a Kubo node, a pinning service, …).
 * Constructors validate configuration without touching the network.
 */
export interface Destination {
  readonly kind: string
  readonly label: string
  /** Takes the new blocks as a CAR file: the pipeline writes one (temporary, when not asked to keep one). */
  readonly needsCar?: boolean
  /** Fetches the blocks over IPFS (a pinning service): the pipeline serves them (context.network) while it stores. */
  readonly needsNetwork?: boolean
  /** Its failure fails the run (after the others finished, before any name moves); default true. */
  readonly required?: boolean
  /** Network checks before anything is published: reachable, credentials, version. */
  preflight(options: OperationOptions): Promise<void>
  /** Where the previous root's blocks can be read from this destination. */
  sources?(): BlockSource[]
  /** The registry root this destination holds, when no previous root was given. */
  previousRoot?(options: OperationOptions): Promise<CID | null>
  /** Stores the new blocks and pins the root; must fully succeed before any pointer changes. */
  store(context: DestinationContext): Promise<DestinationReport>
  /** Moves this destination's own pointer (e.g. an MFS path) to the new root. */
  point?(context: DestinationContext): Promise<void>
  /** Last, after every pointer and name moved: releases the previous root. */
  cleanup?(context: DestinationContext): Promise<void>
}

/** One place a name was written to (a Kubo node, a router, a DNS zone). */
export interface NameTarget {
  label: string
  ok: boolean
  /** What happened there: no secrets. */
  detail: string
}

export interface NameReport {
  kind: string
  label: string
  /** e.g. the IPNS name k51… */
  name: string
  value: string
  /** IPNS: the record's sequence number (a decimal string) and end of validity (ISO 8601). */
  sequence?: string
  expires?: string
  /** Where the signed record was written, when it was. */
  recordPath?: string
  /** Every place the name was written to, each a row in the job summary. */
  targets?: NameTarget[]
  /** Whether this run changed the name's value (DNSLink: false when every record already held it). */
  changed?: boolean
}

/** A name whose current value is a registry root (IPNS, DNSLink). */
export interface NameSource {
  readonly label: string
  /**
   * The root the name holds now, null when it has no value yet. Read before
   * publishing (the previous root), again just before the name moves, and after.
   */
  current(options: OperationOptions): Promise<CID | null>
}

/** Publishes a name (IPNS, DNSLink) for the new root; runs only after every destination stored it. */
export interface NamePublisher {
  readonly kind: string
  readonly label: string
  preflight(options: OperationOptions): Promise<void>
  /** Present when the publisher can read the name back: the pipeline then checks for concurrent publishes. */
  readonly source?: NameSource
  /**
   * Takes a lock that other publishes of the same name honour (on a Kubo node they share), for
   * the span from the last check of the name to the read-back; returns its release.
   */
  lock?(options: OperationOptions): Promise<() => Promise<void>>
  publish(context: DestinationContext): Promise<NameReport>
}
