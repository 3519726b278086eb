// Maps the @cinode/* aliases of tsconfig.base.json onto Jest's moduleNameMapper, so tests run on
// sources without a build and the aliases are written down in exactly one place.
const path = require('node:path');
const fs = require('node:fs');

function pathsToModuleNameMapper() {
  const root = path.resolve(__dirname, '..');
  const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'));
  const mapper = {};
  for (const [alias, [target]] of Object.entries(tsconfig.compilerOptions.paths)) {
    const key = '^' + alias.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace('*', '(.*)') + '$';
    mapper[key] = '<rootDir>/' + target.replace('*', '$1');
  }
  return mapper;
}

module.exports = { pathsToModuleNameMapper };
