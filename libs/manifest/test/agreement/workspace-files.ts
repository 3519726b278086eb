import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CHART_DIR,
  HELPERS_FILE,
  SERVICE_SETTINGS_FILE,
  VALUES_FILE,
  type ChartSources,
} from './chart-agreement';

export const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..');

/** A workspace file's text, by its workspace-relative path. */
export function readWorkspaceFile(file: string): string {
  return readFileSync(join(WORKSPACE_ROOT, file), 'utf8');
}

/** The chart files chartDisagreements compares, as they are in the workspace. */
export function chartSources(): ChartSources {
  return {
    valuesYaml: readWorkspaceFile(VALUES_FILE),
    helpersTpl: readWorkspaceFile(HELPERS_FILE),
    serviceSettingsTpl: readWorkspaceFile(SERVICE_SETTINGS_FILE),
    templateDirs: readdirSync(join(WORKSPACE_ROOT, CHART_DIR, 'templates'), {
      withFileTypes: true,
    })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name),
  };
}
