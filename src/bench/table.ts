// The bench's result table: rows built from raw and gossipd figures, number formatting, and printing the
// aligned table and the targets summary.

export interface Row { scenario: string, metric: string, raw: string, gossipd: string, ratio: string, target: string }

/** a goal a row is judged against; met is null when it could not be measured */
export interface Target { target: string, value: number | null, met: boolean | null }

/** a table row, and the target it judges, if any */
export interface ScenarioRow extends Row { judged?: Target }

export function fmt (v: unknown, digits = 0): string {
  if (v == null || (typeof v === 'number' && !Number.isFinite(v))) return 'n/a'
  if (typeof v === 'number') return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
  return String(v)
}

export function ratioOf (raw: unknown, g: unknown): number | null {
  return typeof raw === 'number' && typeof g === 'number' && raw !== 0 && Number.isFinite(raw) && Number.isFinite(g) ? g / raw : null
}

export function sec (ms: unknown): number | null {
  return typeof ms === 'number' ? ms / 1000 : null
}

export function pct (a: unknown, b: unknown): number | null {
  return typeof a === 'number' && typeof b === 'number' && b > 0 ? 100 * a / b : null
}

/** One metric of a scenario: raw and gossipd figures, their ratio, and the target it is judged against. */
export function row (scenario: string, metric: string, raw: unknown, g: unknown, digits = 0, target?: { text: string, met: boolean | null, value?: number | null }): ScenarioRow {
  const ratio = ratioOf(raw, g)
  const r: ScenarioRow = { scenario, metric, raw: fmt(raw, digits), gossipd: fmt(g, digits), ratio: ratio == null ? '' : `${ratio.toFixed(2)}x`, target: '' }
  if (target != null) {
    r.target = `${target.text}: ${target.met == null ? 'n/a' : target.met ? 'met' : 'NOT met'}`
    r.judged = { target: target.text, value: target.value ?? null, met: target.met }
  }
  return r
}

/** A row that only says something (a skipped scenario): empty figures, no n/a. */
export function noteRow (scenario: string, text: string): ScenarioRow {
  return { scenario, metric: text, raw: '', gossipd: '', ratio: '', target: '' }
}

/** the plain table row, as written to the JSON report */
export function plain ({ scenario, metric, raw, gossipd, ratio, target }: ScenarioRow): Row {
  return { scenario, metric, raw, gossipd, ratio, target }
}

export function targetsOf (rows: ScenarioRow[]): Target[] {
  return rows.flatMap(r => r.judged == null ? [] : [r.judged])
}

/** The table's lines: figures right-aligned, a scenario's name only on its first row. */
export function formatTable (rows: Row[]): string[] {
  const head: Row = { scenario: 'scenario', metric: 'metric', raw: 'raw', gossipd: 'gossipd', ratio: 'ratio', target: 'target' }
  const cols: Array<keyof Row> = ['scenario', 'metric', 'raw', 'gossipd', 'ratio', 'target']
  const w = cols.map(c => Math.max(...[head, ...rows].map(r => r[c].length)))
  const line = (r: Row): string => cols.map((c, i) => (c === 'raw' || c === 'gossipd' || c === 'ratio') ? r[c].padStart(w[i]) : r[c].padEnd(w[i])).join(' | ').trimEnd()
  const out = [line(head), w.map(n => '-'.repeat(n)).join('-|-')]
  let last = ''
  for (const r of rows) {
    out.push(line(r.scenario === last ? { ...r, scenario: '' } : r))
    last = r.scenario
  }
  return out
}

/** "targets: m of n met" and one line per target. */
export function formatTargets (targets: Target[]): string[] {
  const met = targets.filter(t => t.met === true).length
  const unmeasured = targets.filter(t => t.met == null).length
  return [
    `targets: ${met} of ${targets.length} met${unmeasured > 0 ? ` (${unmeasured} not measured)` : ''}`,
    ...targets.map(t => `  ${t.met == null ? 'n/a    ' : t.met ? 'met    ' : 'NOT met'}  ${t.target}${t.value != null ? ` (${fmt(t.value, 2)})` : ''}`),
  ]
}
