// Placeholder for a central-broker reference (mosquitto, MQTT QoS 1): says why it did not run.
import { execFileSync } from 'node:child_process'
import type { Scenario } from '../scenario.js'
import { noteRow } from '../table.js'

function mosquittoPath (): string {
  try { return execFileSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' }).trim() } catch { return '' }
}

export const mosquitto: Scenario = {
  name: 'mosquitto',
  title: 'central broker reference (not implemented: reports whether mosquitto is installed)',
  run: async ({ results }) => {
    const found = mosquittoPath()
    const why = found === ''
      ? 'skipped: mosquitto is not installed (command -v mosquitto found nothing; the benchmark does not install it)'
      : `skipped: mosquitto found at ${found}, but the MQTT reference scenario is not implemented (it needs the mqtt client as a devDependency)`
    results.mosquitto = { skipped: why }
    return [noteRow('central broker reference (mosquitto, QoS 1)', why)]
  },
}
