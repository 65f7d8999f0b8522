// What the shells call for `ipcr pull` (see pull.ts).
export { pullImage, type PullOptions, type PullResult } from './pull.js'
export { openPullSources, type PullSources, type PullSourceSpec, type OpenPullSourcesOptions } from './sources.js'
export { parsePullReference, referenceText, type PullReference } from './reference.js'
export { parsePlatform } from './platform.js'
