// Sums a V8 .cpuprofile (node --cpu-prof) by function and by package: self time, top N.
//   node dist/bench/cpuprofile.js FILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number, children?: number[] }
interface Profile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

export interface Entry { name: string, where: string, selfMs: number, pct: number }

function where (url: string): string {
  if (url === '') return '(native/vm)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
  }
  if (url.startsWith('node:')) return url
  const m = url.match(/\/dist\/(.*)$/)
  return m != null ? `gossipd:${m[1]}` : url.replace(/^file:\/\//, '')
}

export function summarizeProfile (path: string, top = 25): { totalMs: number, byFunction: Entry[], byPackage: Entry[] } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile
  const byId = new Map(p.nodes.map(n => [n.id, n]))
  const self = new Map<number, number>()
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0))
  let total = 0
  const fn = new Map<string, { name: string, where: string, us: number }>()
  const pkg = new Map<string, number>()
  for (const [id, us] of self) {
    const n = byId.get(id)!
    const cf = n.callFrame
    total += us
    const w = where(cf.url)
    const name = cf.functionName !== '' ? cf.functionName : '(anonymous)'
    const file = cf.url === '' ? '' : `${cf.url.split('/').pop() ?? ''}:${cf.lineNumber + 1}`
    const key = `${name}\u0000${cf.url}\u0000${cf.lineNumber}`
    const e = fn.get(key) ?? { name, where: `${w}${file !== '' ? ` ${file}` : ''}`, us: 0 }
    e.us += us
    fn.set(key, e)
    const pk = ['(idle)', '(program)', '(garbage collector)'].includes(cf.functionName) ? cf.functionName : w
    pkg.set(pk, (pkg.get(pk) ?? 0) + us)
  }
  const toEntry = (name: string, w: string, us: number): Entry => ({ name, where: w, selfMs: us / 1000, pct: 100 * us / total })
  return {
    totalMs: total / 1000,
    byFunction: [...fn.values()].sort((a, b) => b.us - a.us).slice(0, top).map(e => toEntry(e.name, e.where, e.us)),
    byPackage: [...pkg].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => toEntry(k, '', us)),
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2]
  if (file == null) {
    console.error('usage: node dist/bench/cpuprofile.js FILE.cpuprofile [--top N]')
    process.exit(2)
  }
  const i = process.argv.indexOf('--top')
  const top = i >= 0 ? Number(process.argv[i + 1]) : 25
  const s = summarizeProfile(file, top)
  console.log(`${file}: ${s.totalMs.toFixed(0)} ms sampled`)
  console.log('\nself time by function:')
  for (const e of s.byFunction) console.log(`${e.selfMs.toFixed(0).padStart(8)} ms ${e.pct.toFixed(1).padStart(5)}%  ${e.name}  (${e.where})`)
  console.log('\nself time by package / module:')
  for (const e of s.byPackage) console.log(`${e.selfMs.toFixed(0).padStart(8)} ms ${e.pct.toFixed(1).padStart(5)}%  ${e.name}`)
}
