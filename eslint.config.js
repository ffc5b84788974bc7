// npm run lint: typescript-eslint's recommended rules over the sources, tests and config files.
// The layer rule (which src/ folder may import which) is dependency-cruiser's: .dependency-cruiser.cjs.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'results/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // CommonJS config files (dependency-cruiser reads only .cjs)
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    // the swarm page's script runs in the browser (served as is from dist/web)
    files: ['src/web/**/*.js'],
    languageOptions: { globals: { document: 'readonly', Node: 'readonly', EventSource: 'readonly', setTimeout: 'readonly', fetch: 'readonly', AbortController: 'readonly' } },
  },
)
