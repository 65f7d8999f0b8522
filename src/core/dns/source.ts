import type { CID } from 'multiformats/cid'
import type { NameSource } from '../destinations/types.js'
import type { RecordStore } from '../ipns/types.js'
import { silentLogger, type Logger, type OperationOptions } from '../logger.js'
import { followDnsLink, type TxtReader } from './link.js'

/**
 * The root a domain's DNSLink names now (following /ipns/ to a checked record),
 * null when the domain has none yet: where a publish reads its previous root.
 */
export class DnsLinkSource implements NameSource {
  readonly label: string
  constructor (readonly domain: string, private readonly read: TxtReader, private readonly stores: RecordStore[] = [], via: string, private readonly logger: Logger = silentLogger) {
    this.label = `DNSLink ${domain} (${via})`
  }

  async current (options: OperationOptions = {}): Promise<CID | null> {
    const logger = options.logger ?? this.logger
    const found = await followDnsLink(this.domain, this.read, { ...options, logger, stores: this.stores })
    if (found == null) return null
    logger.info(`${this.label}: ${found.record} holds ${found.value}${found.path.length > 1 ? ` (${found.path.join(' → ')})` : ''}`)
    return found.root
  }
}
