// Flat ESLint config for the whole workspace. Module boundaries are enforced with Nx tags, one
// layer per project:
//   layer:shared    code any project may import (common, contracts, generated API types)
//   layer:platform  Node backend libraries services stand on (config, database, events, kit, ...)
//   layer:service   the services; nothing imports a service
//   layer:test      test and local-infrastructure code (testing, local-infra, test projects, e2e,
//                   bench): production code never imports it; a service's own tests may.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** What each layer's production code may import. */
const PRODUCTION_LAYERS = {
  'layer:shared': ['layer:shared'],
  'layer:platform': ['layer:shared', 'layer:platform'],
  'layer:service': ['layer:shared', 'layer:platform'],
  // Tests and benchmarks run services as built processes; they import libraries only.
  'layer:test': ['layer:shared', 'layer:platform', 'layer:test'],
};

/** A service's and a library's own unit and integration tests may also use the test layer. */
const TEST_FILE_LAYERS = {
  ...PRODUCTION_LAYERS,
  'layer:service': ['layer:shared', 'layer:platform', 'layer:test'],
  'layer:platform': ['layer:shared', 'layer:platform', 'layer:test'],
};

function moduleBoundaries(layers) {
  return {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: Object.entries(layers).map(([sourceTag, onlyDependOnLibsWithTags]) => ({
      sourceTag,
      onlyDependOnLibsWithTags,
    })),
  };
}

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.data/**',
      '.cache/**',
      '.nx/**',
      'libs/proto/src/gen/**',
      'charts/**/templates/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@nx/enforce-module-boundaries': ['error', moduleBoundaries(PRODUCTION_LAYERS)],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  {
    files: [
      '**/*.spec.ts',
      '**/*.integration-spec.ts',
      '**/*.e2e-spec.ts',
      'services/*/test/**/*.ts',
      'bench/**/*.ts',
      'e2e/**/*.ts',
    ],
    rules: {
      '@nx/enforce-module-boundaries': ['error', moduleBoundaries(TEST_FILE_LAYERS)],
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/no-require-imports': 'off',
    },
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
      },
    },
  },
  prettier,
);
