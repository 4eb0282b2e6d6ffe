import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * STRICT_BOUNDARIES: the import boundaries below are errors. Set it to false to see them as warnings (still
 * reported, lint passes) while files are being moved between folders. The type-aware promise rules are
 * errors either way.
 */
const STRICT_BOUNDARIES = true;
const level = STRICT_BOUNDARIES ? 'error' : 'warn';
/** Whether an api/ module may import row *types* from its store (never values: queries stay in the store). */
const API_MAY_IMPORT_STORE_TYPES = false;

/** TypeScript files in tsconfig.json's project: linted with type information. */
const TYPED = ['src/**/*.ts', 'tests/**/*.ts', 'bench/**/*.ts', 'tools/**/*.ts', '*.config.ts'];

const SERVICES = readdirSync(new URL('./src/services/', import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

// Import boundaries (issue 11), checked on the import specifier (all imports in src/ are relative):
// services do not import each other (facades through ctx.services, types from src/core/facades), agent code
// does not import services, a service's api/ does not reach its store, core imports neither.
const otherService = (me) => ({
  regex: `^(\\.\\./)+(services/)?(${SERVICES.filter((s) => s !== me).join('|')})(/|$)`,
  message: `src/services/${me} may not import another service: use its facade (ctx.services.<type>, types in src/core/facades).`,
});
const apiToStore = {
  regex: '^(\\.\\./)+store(\\.js)?$|^(\\.\\./)+store/',
  allowTypeImports: API_MAY_IMPORT_STORE_TYPES,
  message: "an api/ module may not import its service's store: go through the manager/domain layer.",
};
const agentToServices = {
  regex: '^(\\.\\./)+services(/|$)',
  message: 'src/agent may not import src/services: data-plane contracts live under src/agent.',
};
const coreToServices = {
  regex: '^(\\.\\./)+services(/|$)',
  message: 'src/core may not import services.',
};
// The service contract (core/service.ts) names what a service needs of the host it runs beside, so core may
// import the agent's *types* (its data-plane contracts), never its code.
const coreToAgentCode = {
  regex: '^(\\.\\./)+agent(/|$)',
  allowTypeImports: true,
  message: 'src/core may import only types from src/agent (its contracts), not agent code.',
};
const restrict = (...patterns) => ({ '@typescript-eslint/no-restricted-imports': [level, { patterns }] });

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: TYPED,
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  ...SERVICES.flatMap((s) => [
    { files: [`src/services/${s}/**/*.ts`], rules: restrict(otherService(s)) },
    { files: [`src/services/${s}/api/**/*.ts`], rules: restrict(otherService(s), apiToStore) },
  ]),
  { files: ['src/agent/**/*.ts'], rules: restrict(agentToServices) },
  { files: ['src/core/**/*.ts'], rules: restrict(coreToServices, coreToAgentCode) },
);
