import { loadManifests } from '../src/load-manifests';
import { chartDisagreements, CHART_DIR } from './agreement/chart-agreement';
import { COMPOSE_FILE, composeDisagreements } from './agreement/compose-agreement';
import { INIT_DATABASES_FILE, initDatabasesDisagreements } from './agreement/sql-agreement';
import { chartSources, readWorkspaceFile, WORKSPACE_ROOT } from './agreement/workspace-files';

/**
 * The node's topology is written once, in services/*\/service.json; npm start and the e2e node
 * derive it from there. The deployment files keep their own copies, and these tests prove the
 * copies agree (agreement-checks.spec.ts proves each check fails on a disagreement).
 */
const manifests = loadManifests(WORKSPACE_ROOT);

describe('the deployment files agree with services/*/service.json', () => {
  it('has manifests to compare with', () => {
    expect(manifests.length).toBeGreaterThan(0);
  });

  it(COMPOSE_FILE, () => {
    expect(composeDisagreements(manifests, readWorkspaceFile(COMPOSE_FILE))).toEqual([]);
  });

  it(INIT_DATABASES_FILE, () => {
    expect(initDatabasesDisagreements(manifests, readWorkspaceFile(INIT_DATABASES_FILE))).toEqual(
      [],
    );
  });

  it(CHART_DIR, () => {
    expect(chartDisagreements(manifests, chartSources())).toEqual([]);
  });
});
