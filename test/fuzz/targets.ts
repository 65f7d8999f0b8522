import { carTarget } from './car.js'
import { dagTarget } from './dag.js'
import type { Target } from './harness.js'
import { jsonTarget } from './json.js'
import { tarTarget } from './tar.js'

export const targets: Record<string, Target<any>> = { tar: tarTarget, json: jsonTarget, car: carTarget, dag: dagTarget }
