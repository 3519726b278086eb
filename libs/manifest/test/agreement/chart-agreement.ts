import { parse } from 'yaml';
import { manifestPath } from '../../src/load-manifests';
import type { ServiceManifest } from '../../src/service-manifest';
import { resolvedDependencies } from '../../src/topology';
import { mapping, scalar } from './parsed-values';

export const CHART_DIR = 'charts/cinode';
export const VALUES_FILE = `${CHART_DIR}/values.yaml`;
export const HELPERS_FILE = `${CHART_DIR}/templates/_helpers.tpl`;
export const SERVICE_SETTINGS_FILE = `${CHART_DIR}/templates/_service-settings.tpl`;
/** Template directories of the bundled backing services, which have no manifest. */
const INFRASTRUCTURE_DIRS = new Set(['nats', 'postgresql']);

/** The chart files the comparison reads. */
export interface ChartSources {
  valuesYaml: string;
  helpersTpl: string;
  serviceSettingsTpl: string;
  /** Names of the directories under templates/. */
  templateDirs: readonly string[];
}

/** What the chart's `cinode.valuesKey` helper makes of a name: `replace "-" "_" | camelcase | untitle`. */
export function chartValuesKey(name: string): string {
  const camel = name
    .split(/[-_]/)
    .filter((part) => part !== '')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  return camel.charAt(0).toLowerCase() + camel.slice(1);
}

/**
 * The text between `{{- define "<name>" -}}` and its matching `{{ end }}`, or undefined. Nested
 * if/range/with blocks are counted so their `end`s do not close the definition.
 */
export function defineBody(template: string, name: string): string | undefined {
  const actions = [...template.matchAll(/\{\{-?\s*(.*?)\s*-?\}\}/gs)];
  const start = actions.findIndex((action) => action[1] === `define "${name}"`);
  if (start === -1) return undefined;
  let depth = 0;
  for (const action of actions.slice(start)) {
    const keyword = /^(\w+)/.exec(action[1])?.[1];
    if (keyword !== undefined && ['define', 'if', 'range', 'with', 'block'].includes(keyword))
      depth += 1;
    else if (keyword === 'end') depth -= 1;
    if (depth === 0) {
      const from = (actions[start].index ?? 0) + actions[start][0].length;
      return template.slice(from, action.index);
    }
  }
  return undefined;
}

/**
 * Where charts/cinode disagrees with the manifests, one message per disagreement naming the file
 * and the key: each manifest's values block (`chart.valuesKey`, as `cinode.valuesKey` derives it
 * from the name) with its grpcPort, metricsPort and database.name; `cinode.components` listing
 * exactly the manifests, each after the services it starts after; a templates/<name>/ directory
 * and `cinode.env.<name>` / `cinode.egress.<name>` definitions per manifest and none without one;
 * every dependency's variable set in `cinode.env.<name>` (capabilities' in the shared
 * `cinode.env`) and the callee's in-cluster address built from its own grpcPort value.
 */
export function chartDisagreements(
  manifests: readonly ServiceManifest[],
  chart: ChartSources,
): string[] {
  const problems: string[] = [];
  const names = new Set(manifests.map((m) => m.name));
  const byName = new Map(manifests.map((m) => [m.name, m]));
  const values = mapping(parse(chart.valuesYaml)) ?? {};

  for (const manifest of manifests) {
    const source = manifestPath(manifest.name);
    const key = manifest.chart.valuesKey;
    if (chartValuesKey(manifest.name) !== key)
      problems.push(
        `${source}: chart.valuesKey is ${key}, but cinode.valuesKey in ${HELPERS_FILE} makes ${chartValuesKey(manifest.name)} of the name`,
      );
    const block = mapping(values[key]);
    if (block === undefined) {
      problems.push(`${VALUES_FILE}: ${key} is missing (${source} chart.valuesKey)`);
      continue;
    }
    for (const [path, actual, expected] of [
      ['grpcPort', scalar(block['grpcPort']), String(manifest.grpcPort)],
      ['metricsPort', scalar(block['metricsPort']), String(manifest.metricsPort)],
      ['database.name', scalar(mapping(block['database'])?.['name']), manifest.database],
    ] as const) {
      if (actual !== expected)
        problems.push(
          `${VALUES_FILE}: ${key}.${path} is ${actual ?? 'unset'}, but ${source} says ${expected}`,
        );
    }
  }
  const keys = new Set(manifests.map((m) => m.chart.valuesKey));
  for (const [key, value] of Object.entries(values)) {
    const block = mapping(value);
    if (block !== undefined && 'grpcPort' in block && 'database' in block && !keys.has(key))
      problems.push(
        `${VALUES_FILE}: ${key} is a service block, but no service.json has chart.valuesKey ${key}`,
      );
  }

  const componentsBody = defineBody(chart.helpersTpl, 'cinode.components');
  if (componentsBody === undefined) {
    problems.push(`${HELPERS_FILE}: cinode.components is not defined`);
  } else {
    const components = componentsBody
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '');
    for (const name of names) {
      if (!components.includes(name))
        problems.push(`${HELPERS_FILE}: cinode.components lacks ${name} (${manifestPath(name)})`);
    }
    components.forEach((component, index) => {
      const manifest = byName.get(component);
      if (manifest === undefined) {
        problems.push(
          `${HELPERS_FILE}: cinode.components lists ${component}, which has no ${manifestPath(component)}`,
        );
        return;
      }
      for (const dependency of resolvedDependencies(manifest, manifests)) {
        if (dependency.startAfter && components.indexOf(dependency.service) > index)
          problems.push(
            `${HELPERS_FILE}: cinode.components lists ${component} before ${dependency.service}, which it starts after (start-up order)`,
          );
      }
    });
  }

  for (const name of names) {
    if (!chart.templateDirs.includes(name))
      problems.push(`${CHART_DIR}/templates/${name}/ is missing (${manifestPath(name)})`);
  }
  for (const dir of chart.templateDirs) {
    if (!names.has(dir) && !INFRASTRUCTURE_DIRS.has(dir))
      problems.push(`${CHART_DIR}/templates/${dir}/ has no ${manifestPath(dir)}`);
  }

  for (const name of names) {
    for (const kind of ['env', 'egress']) {
      if (defineBody(chart.serviceSettingsTpl, `cinode.${kind}.${name}`) === undefined)
        problems.push(
          `${SERVICE_SETTINGS_FILE}: cinode.${kind}.${name} is not defined (${manifestPath(name)})`,
        );
    }
  }
  for (const match of chart.serviceSettingsTpl.matchAll(
    /define "cinode\.(env|egress)\.([a-z0-9-]+)"/g,
  )) {
    if (!names.has(match[2]))
      problems.push(
        `${SERVICE_SETTINGS_FILE}: defines cinode.${match[1]}.${match[2]}, which has no ${manifestPath(match[2])}`,
      );
  }

  const templates = `${chart.helpersTpl}\n${chart.serviceSettingsTpl}`;
  for (const manifest of manifests) {
    for (const dependency of resolvedDependencies(manifest, manifests)) {
      const target = byName.get(dependency.service);
      if (target === undefined) continue;
      const [file, define] =
        dependency.via === 'dependency'
          ? [SERVICE_SETTINGS_FILE, `cinode.env.${manifest.name}`]
          : [HELPERS_FILE, 'cinode.env'];
      const body = defineBody(
        file === HELPERS_FILE ? chart.helpersTpl : chart.serviceSettingsTpl,
        define,
      );
      if (body !== undefined && !new RegExp(`- name: ${dependency.env}\\b`).test(body))
        problems.push(
          `${file}: ${define} does not set ${dependency.env} (${manifestPath(manifest.name)} calls ${target.name} through it)`,
        );
      const address = new RegExp(
        `"component" "${escape(target.name)}"\\)\\) \\(int \\.Values\\.${escape(target.chart.valuesKey)}\\.grpcPort\\)`,
      );
      if (!address.test(templates))
        problems.push(
          `${CHART_DIR}/templates: no in-cluster address of ${target.name} built from .Values.${target.chart.valuesKey}.grpcPort (${manifest.name}'s ${dependency.env})`,
        );
    }
  }
  return problems;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
