// Lets plain `node --import` (and so the TypeORM CLI) load a service's TypeScript data source:
// compiles .ts with swc the way Jest does and resolves the @cinode/* aliases from tsconfig.base.json.
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import swc from '@swc/core';
import tsconfigPaths from 'tsconfig-paths';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const { compilerOptions } = JSON.parse(
  fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'),
);
tsconfigPaths.register({ baseUrl: root, paths: compilerOptions.paths });

// The TypeORM CLI require()s a data source from a CommonJS package, so a CommonJS extension hook is enough.
Module._extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
