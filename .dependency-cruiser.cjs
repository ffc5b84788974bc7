// Layer check (npm run lint): each src/ folder may import only the folders notes/layout.md (issue #8) lets
// it, so any import from a higher layer fails. Type-only imports count: they couple layers just the same.
// `npx depcruise src` runs it alone.

/** folder -> the internal folders it may import (besides itself, src/version.ts and src/polyfill.ts) */
const MAY_IMPORT = {
  wire: [],
  store: [],
  core: ['store'],
  daemon: ['core', 'store', 'wire'],
  client: ['wire'],
  repl: ['client', 'wire'],
  cli: ['client', 'repl', 'daemon', 'wire'],
  // src/bench and src/lan are tools: they may import any layer (through public APIs: not checkable here)
}
const FOLDERS = [...Object.keys(MAY_IMPORT), 'bench', 'lan']

const layerRules = Object.entries(MAY_IMPORT).map(([from, may]) => ({
  name: `layer-${from}`,
  comment: `src/${from} may import ${may.length === 0 ? 'nothing internal' : may.map(f => `src/${f}`).join(', ')} (layout.md)`,
  severity: 'error',
  from: { path: `^src/${from}/` },
  to: { path: `^src/(${FOLDERS.filter(f => f !== from && !may.includes(f)).join('|')})/` },
}))

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layer-cli-repl-lazily',
      comment: 'src/cli loads src/repl only to run the REPL (dynamic import); shared formatting such as shortId belongs in src/wire',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/repl/', dependencyTypesNot: ['dynamic-import'] },
    },
    {
      name: 'layer-root-files',
      comment: 'src/version.ts and src/polyfill.ts are below every layer: they import nothing internal',
      severity: 'error',
      from: { path: '^src/(version|polyfill)\\.ts$' },
      to: { path: '^src/', pathNot: '^src/(version|polyfill)\\.ts$' },
    },
    {
      name: 'no-unresolvable',
      comment: 'an import the checker cannot resolve would silently escape the layer rules',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // count `import type` too
    tsPreCompilationDeps: true,
    // resolves the '.js' specifiers of this nodenext setup to the .ts sources
    tsConfig: { fileName: 'tsconfig.json' },
    // ESM-only packages (libp2p) export only an "import" condition
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
}
