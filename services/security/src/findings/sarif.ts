/**
 * SARIF 2.1.0 import: one log (as received in a gRPC `bytes` field) in, normalized findings out.
 *
 * Severity of a finding
 *   1. `properties["security-severity"]` of the result, else of its rule (the GitHub code-scanning
 *      convention: a CVSS score, as a number or a numeric string, 0 to 10). When it is above 0:
 *        >= 9.0 critical, >= 7.0 high, >= 4.0 medium, > 0 low; the score is kept as `cvssScore`.
 *   2. Otherwise the level: `result.level`, else the rule's `defaultConfiguration.level`, else
 *      SARIF's default `warning`:  error -> high, warning -> medium, note -> low.
 *
 * Results that are not findings, counted in `skipped` and otherwise dropped, checked in this order
 *   - `kind` present and not `fail` (pass, open, informational, notApplicable, review): notFailing;
 *   - a `suppressions` entry whose status is `accepted` or absent: suppressed (an entry
 *     `underReview` or `rejected` does not suppress);
 *   - effective level (as in 2.) `none`: notFailing.
 *
 * Identity: `fingerprint` is the sha256 of tool, rule id and the result's `fingerprints` and
 * `partialFingerprints` (sorted `key=value`) when it has any, so a finding keeps its identity when
 * code moves; otherwise of tool, rule id, location and message. Findings of one log with the same
 * fingerprint are merged: the first is kept, with the highest severity (and score) among them.
 *
 * Refused as a whole, with a SarifError naming every bad field (up to 100), because a partial
 * import would make the missing findings look fixed: a log past SARIF_LIMITS, not UTF-8 JSON,
 * not version "2.1.0", without runs or a tool name; a field this module reads that has the wrong
 * type, a NUL character or a lone surrogate, or is longer than SARIF_TEXT_LIMITS allows; an index
 * (ruleIndex, rule.index, toolComponent.index, artifactLocation.index) pointing at nothing; a
 * finding without a rule id or whose message id names no message string. Properties this module
 * does not read, property bags included, may hold anything.
 */
import { createHash } from 'node:crypto';
import {
  ValidationError,
  hasLoneSurrogate,
  sanitizeText,
  type FieldViolation,
} from '@cinode/common';

export type FindingSeverity = 'low' | 'medium' | 'high' | 'critical';

export interface SarifFinding {
  /** `runs[i].tool.driver.name`. */
  tool: string;
  /** `driver.semanticVersion || driver.version || ''`. */
  toolVersion: string;
  ruleId: string;
  title: string;
  message: string;
  severity: FindingSeverity;
  /** 0 to 10, when the log gives a security-severity. */
  cvssScore?: number;
  /** CVE ids named by the rule or the result; unique, sorted, at most 20. */
  cveIds: string[];
  /** `uri:startLine`, `uri`, a logical location's fully qualified name, or ''. */
  location: string;
  /** 64 hex characters; the same finding imported again has the same fingerprint. */
  fingerprint: string;
  /** The rule's help page when it is an http(s) URL, else ''. */
  helpUri: string;
}

export interface SarifImport {
  findings: SarifFinding[];
  skipped: { suppressed: number; notFailing: number };
}

/** A refused log. A ValidationError, so the gRPC filter answers INVALID_ARGUMENT with BadRequest. */
export class SarifError extends ValidationError {
  constructor(readonly violations: FieldViolation[]) {
    super(violations);
  }
}

export const SARIF_LIMITS: Readonly<{
  maxBytes: number;
  maxRuns: number;
  maxResults: number;
  maxRules: number;
}> = { maxBytes: 4 * 1024 * 1024, maxRuns: 20, maxResults: 10_000, maxRules: 20_000 };

/**
 * Characters (code points) of the stored fields. Over the limit, the tool, its version, a rule id
 * and a uri refuse the log (they are identities, a cut one would be another); a title and a
 * message are cut, ending in '…'; a help URI is dropped.
 */
export const SARIF_TEXT_LIMITS: Readonly<{
  toolChars: number;
  toolVersionChars: number;
  ruleIdChars: number;
  titleChars: number;
  messageChars: number;
  uriChars: number;
  helpUriChars: number;
  cveIds: number;
}> = {
  toolChars: 200,
  toolVersionChars: 200,
  ruleIdChars: 1000,
  titleChars: 500,
  messageChars: 4000,
  uriChars: 1000,
  helpUriChars: 2000,
  cveIds: 20,
};

const MAX_VIOLATIONS = 100;
/** How many JSON values of a result's property bag are searched for CVE ids. */
const PROPERTY_SCAN_BUDGET = 10_000;
/**
 * How much of a message template is read (UTF-16 units): enough for a stored message unless its
 * placeholders stand for empty arguments, and a bound on the work of formatting it per result.
 */
const MAX_TEMPLATE_UNITS = 4 * SARIF_TEXT_LIMITS.messageChars;
/** How many characters of a map key a violation's field name shows. */
const KEY_IN_FIELD_CHARS = 64;

const LEVELS = ['none', 'note', 'warning', 'error'] as const;
type Level = (typeof LEVELS)[number];
const KINDS = ['pass', 'open', 'informational', 'notApplicable', 'review', 'fail'] as const;
const SUPPRESSION_STATUSES = ['accepted', 'underReview', 'rejected'] as const;
const SEVERITY_RANK: Record<FindingSeverity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

const CVE_ID = /(?<![A-Za-z0-9])CVE-(\d{4})-(\d{4,19})(?![0-9])/gi;
const PLACEHOLDER = /\{\{|\}\}|\{(\d{1,9})\}/g;

type JsonObject = { readonly [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A property of a parsed JSON object; never one inherited (`constructor`, `__proto__`). */
function own(object: JsonObject | undefined, key: string): unknown {
  return object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;
}

function keyField(path: string, key: string): string {
  return `${path}[${sanitizeText(key, KEY_IN_FIELD_CHARS)}]`;
}

/** Whether the string has more than `max` code points, counting no further than needed. */
function longerThan(value: string, max: number): boolean {
  if (value.length <= max) return false;
  let points = 0;
  for (let unit = 0; unit < value.length; unit++) {
    const code = value.charCodeAt(unit);
    if (code >= 0xd800 && code <= 0xdbff) unit++;
    if (++points > max) return true;
  }
  return false;
}

/** The string cut to `max` code points, the last of them '…' when anything was cut. */
function truncate(value: string, max: number): string {
  if (!longerThan(value, max)) return value;
  let points = 0;
  let unit = 0;
  while (points < max - 1) {
    const code = value.charCodeAt(unit);
    unit += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
    points++;
  }
  return `${value.slice(0, unit)}…`;
}

/** Collects violations; the 100th throws, so a hostile log costs no more than that. */
class Checks {
  readonly violations: FieldViolation[] = [];

  add(field: string, description: string): void {
    this.violations.push({ field, description });
    if (this.violations.length >= MAX_VIOLATIONS) throw new SarifError(this.violations);
  }

  object(value: unknown, field: string, required = false): JsonObject | undefined {
    if (value === undefined) {
      if (required) this.add(field, 'is required');
      return undefined;
    }
    if (!isObject(value)) {
      this.add(field, 'must be an object');
      return undefined;
    }
    return value;
  }

  array(value: unknown, field: string, required = false): readonly unknown[] | undefined {
    if (value === undefined) {
      if (required) this.add(field, 'is required');
      return undefined;
    }
    if (!Array.isArray(value)) {
      this.add(field, 'must be an array');
      return undefined;
    }
    return value as unknown[];
  }

  /** A string that can be stored: no NUL (Postgres text refuses it), well-formed, not too long. */
  text(
    value: unknown,
    field: string,
    rules: { required?: boolean; max?: number } = {},
  ): string | undefined {
    if (value === undefined) {
      if (rules.required) this.add(field, 'is required');
      return undefined;
    }
    if (typeof value !== 'string') {
      this.add(field, 'must be a string');
      return undefined;
    }
    if (rules.required && value.length === 0) {
      this.add(field, 'must not be empty');
      return undefined;
    }
    if (value.includes('\u0000')) {
      this.add(field, 'must not contain NUL characters');
      return undefined;
    }
    if (hasLoneSurrogate(value)) {
      this.add(field, 'must be well-formed Unicode');
      return undefined;
    }
    if (rules.max !== undefined && longerThan(value, rules.max)) {
      this.add(field, `must be at most ${rules.max} characters`);
      return undefined;
    }
    return value;
  }

  /** An integer index; SARIF writes -1 for "not set", read here as absent. */
  index(value: unknown, field: string): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < -1) {
      this.add(field, 'must be an integer index (0 or more, or -1 for none)');
      return undefined;
    }
    return value === -1 ? undefined : value;
  }

  oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.add(field, `must be one of ${allowed.join(', ')}`);
      return undefined;
    }
    return value as T;
  }
}

interface Rule {
  id: string;
  name: string | undefined;
  shortDescription: string | undefined;
  helpUri: string;
  messageStrings: Map<string, Template>;
  defaultLevel: Level | undefined;
  cvss: number | undefined;
  cveIds: Set<string>;
}

interface ToolComponent {
  path: string;
  name: string;
  /** One entry per `rules` element; undefined where the element is invalid (already reported). */
  rules: (Rule | undefined)[];
  rulesById: Map<string, Rule>;
  globalMessageStrings: Map<string, Template>;
}

interface RunContext {
  path: string;
  tool: string;
  toolVersion: string;
  driver: ToolComponent | undefined;
  extensions: (ToolComponent | undefined)[];
  artifacts: readonly unknown[] | undefined;
}

type Outcome = SarifFinding | 'suppressed' | 'notFailing' | undefined;

export function parseSarif(document: Uint8Array | string): SarifImport {
  const log = decode(document);
  const checks = new Checks();

  const version = own(log, 'version');
  if (version === undefined) checks.add('version', 'is required');
  else if (version !== '2.1.0') checks.add('version', 'must be "2.1.0"');
  const schema = own(log, '$schema');
  if (schema !== undefined && typeof schema !== 'string') checks.add('$schema', 'must be a string');
  const runs = checks.array(own(log, 'runs'), 'runs', true) ?? [];

  checkSizes(checks, runs);

  const findings = new Map<string, SarifFinding>();
  const skipped = { suppressed: 0, notFailing: 0 };
  runs.forEach((run, i) => {
    const path = `runs[${i}]`;
    const runObject = checks.object(run, path, true);
    if (!runObject) return;
    const context = readRun(checks, runObject, path);
    const results = checks.array(own(runObject, 'results'), `${path}.results`) ?? [];
    results.forEach((result, k) => {
      const outcome = readResult(checks, context, result, `${path}.results[${k}]`);
      if (outcome === 'suppressed') skipped.suppressed++;
      else if (outcome === 'notFailing') skipped.notFailing++;
      else if (outcome) merge(findings, outcome);
    });
  });

  if (checks.violations.length > 0) throw new SarifError(checks.violations);
  return { findings: [...findings.values()], skipped };
}

function decode(document: Uint8Array | string): JsonObject {
  const bytes =
    typeof document === 'string' ? Buffer.byteLength(document, 'utf8') : document.byteLength;
  if (bytes > SARIF_LIMITS.maxBytes) {
    throw new SarifError([
      { field: 'document', description: `must be at most ${SARIF_LIMITS.maxBytes} bytes` },
    ]);
  }
  let text: string;
  if (typeof document === 'string') {
    text = document.charCodeAt(0) === 0xfeff ? document.slice(1) : document;
  } else {
    try {
      // fatal: malformed UTF-8 is refused, not turned into U+FFFD; a leading BOM is dropped.
      text = new TextDecoder('utf-8', { fatal: true }).decode(document);
    } catch {
      throw new SarifError([{ field: 'document', description: 'must be UTF-8 text' }]);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // V8 names the position for some syntax errors only; the snippet it quotes is not repeated.
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    throw new SarifError([
      {
        field: 'document',
        description:
          position === undefined
            ? 'is not JSON'
            : `is not JSON (syntax error at position ${position})`,
      },
    ]);
  }
  if (!isObject(parsed)) {
    throw new SarifError([
      { field: 'document', description: 'must be a JSON object (a SARIF log)' },
    ]);
  }
  return parsed;
}

/** Refuses an oversized log before reading any result, with every limit it breaks. */
function checkSizes(checks: Checks, runs: readonly unknown[]): void {
  if (runs.length > SARIF_LIMITS.maxRuns) {
    checks.add('runs', `must have at most ${SARIF_LIMITS.maxRuns} runs`);
  }
  let results = 0;
  let rules = 0;
  let resultsReported = false;
  let rulesReported = false;
  runs.slice(0, SARIF_LIMITS.maxRuns + 1).forEach((run, i) => {
    if (!isObject(run)) return;
    const runResults = own(run, 'results');
    if (Array.isArray(runResults)) results += runResults.length;
    if (results > SARIF_LIMITS.maxResults && !resultsReported) {
      resultsReported = true;
      checks.add(
        `runs[${i}].results`,
        `brings the log past ${SARIF_LIMITS.maxResults} results in all runs`,
      );
    }
    const tool = own(run, 'tool');
    if (!isObject(tool)) return;
    const components = [own(tool, 'driver')];
    const extensions = own(tool, 'extensions');
    if (Array.isArray(extensions)) components.push(...(extensions as unknown[]));
    for (const component of components) {
      const componentRules = isObject(component) ? own(component, 'rules') : undefined;
      if (Array.isArray(componentRules)) rules += componentRules.length;
    }
    if (rules > SARIF_LIMITS.maxRules && !rulesReported) {
      rulesReported = true;
      checks.add(
        `runs[${i}].tool`,
        `brings the log past ${SARIF_LIMITS.maxRules} rules in all runs and tool components`,
      );
    }
  });
  if (runs.length > SARIF_LIMITS.maxRuns || resultsReported || rulesReported) {
    throw new SarifError(checks.violations);
  }
}

function readRun(checks: Checks, run: JsonObject, path: string): RunContext {
  const tool = checks.object(own(run, 'tool'), `${path}.tool`, true);
  const driverPath = `${path}.tool.driver`;
  const driverObject = tool ? checks.object(own(tool, 'driver'), driverPath, true) : undefined;
  const driver = driverObject && readToolComponent(checks, driverObject, driverPath);
  let toolVersion = '';
  if (driverObject) {
    const limit = { max: SARIF_TEXT_LIMITS.toolVersionChars };
    const semantic = checks.text(
      own(driverObject, 'semanticVersion'),
      `${driverPath}.semanticVersion`,
      limit,
    );
    const plain = checks.text(own(driverObject, 'version'), `${driverPath}.version`, limit);
    toolVersion = semantic || plain || '';
  }
  const extensions = (
    (tool && checks.array(own(tool, 'extensions'), `${path}.tool.extensions`)) ??
    []
  ).map((extension, j) => {
    const extensionPath = `${path}.tool.extensions[${j}]`;
    const object = checks.object(extension, extensionPath, true);
    return object && readToolComponent(checks, object, extensionPath);
  });
  return {
    path,
    tool: driver?.name ?? '',
    toolVersion,
    driver,
    extensions,
    artifacts: checks.array(own(run, 'artifacts'), `${path}.artifacts`),
  };
}

function readToolComponent(checks: Checks, component: JsonObject, path: string): ToolComponent {
  const name =
    checks.text(own(component, 'name'), `${path}.name`, {
      required: true,
      max: SARIF_TEXT_LIMITS.toolChars,
    }) ?? '';
  const rules = (checks.array(own(component, 'rules'), `${path}.rules`) ?? []).map((rule, j) =>
    readRule(checks, rule, `${path}.rules[${j}]`),
  );
  const rulesById = new Map<string, Rule>();
  for (const rule of rules) if (rule && !rulesById.has(rule.id)) rulesById.set(rule.id, rule);
  return {
    path,
    name,
    rules,
    rulesById,
    globalMessageStrings: readMessageStrings(
      checks,
      own(component, 'globalMessageStrings'),
      `${path}.globalMessageStrings`,
    ),
  };
}

/** A multiformatMessageString's text (`shortDescription`, `help`, ...), when it has one. */
function readMultiformatText(checks: Checks, value: unknown, path: string): string | undefined {
  const object = checks.object(value, path);
  return object && checks.text(own(object, 'text'), `${path}.text`, { required: false });
}

function readMessageStrings(checks: Checks, value: unknown, path: string): Map<string, Template> {
  const strings = new Map<string, Template>();
  const object = checks.object(value, path);
  if (!object) return strings;
  for (const [key, entry] of Object.entries(object)) {
    const field = keyField(path, key);
    const text = readMultiformatText(checks, entry, field);
    if (text === undefined && isObject(entry)) checks.add(`${field}.text`, 'is required');
    if (text !== undefined) strings.set(key, compile(text));
  }
  return strings;
}

function readRule(checks: Checks, value: unknown, path: string): Rule | undefined {
  const rule = checks.object(value, path, true);
  if (!rule) return undefined;
  const id = checks.text(own(rule, 'id'), `${path}.id`, {
    required: true,
    max: SARIF_TEXT_LIMITS.ruleIdChars,
  });
  const name = checks.text(own(rule, 'name'), `${path}.name`);
  const shortDescription = readMultiformatText(
    checks,
    own(rule, 'shortDescription'),
    `${path}.shortDescription`,
  );
  const fullDescription = readMultiformatText(
    checks,
    own(rule, 'fullDescription'),
    `${path}.fullDescription`,
  );
  const help = readMultiformatText(checks, own(rule, 'help'), `${path}.help`);
  const helpUri = checks.text(own(rule, 'helpUri'), `${path}.helpUri`);
  const configuration = checks.object(
    own(rule, 'defaultConfiguration'),
    `${path}.defaultConfiguration`,
  );
  const defaultLevel = checks.oneOf(
    own(configuration, 'level'),
    `${path}.defaultConfiguration.level`,
    LEVELS,
  );
  const messageStrings = readMessageStrings(
    checks,
    own(rule, 'messageStrings'),
    `${path}.messageStrings`,
  );
  if (id === undefined) return undefined;

  const properties = own(rule, 'properties');
  const cveIds = new Set<string>();
  for (const text of [id, name, shortDescription, fullDescription, help]) collectCves(text, cveIds);
  const tags = isObject(properties) ? own(properties, 'tags') : undefined;
  if (Array.isArray(tags)) for (const tag of tags) collectCves(tag, cveIds);
  return {
    id,
    name,
    shortDescription,
    helpUri: webUri(helpUri),
    messageStrings,
    defaultLevel,
    cvss: securitySeverity(properties),
    cveIds,
  };
}

function readResult(checks: Checks, run: RunContext, value: unknown, path: string): Outcome {
  const result = checks.object(value, path, true);
  if (!result) return undefined;
  const kind = checks.oneOf(own(result, 'kind'), `${path}.kind`, KINDS);
  const level = checks.oneOf(own(result, 'level'), `${path}.level`, LEVELS);
  const beforeRule = checks.violations.length;
  const { rule, ruleId, component } = resolveRule(checks, run, result, path);
  const ruleReported = checks.violations.length > beforeRule;
  const suppressed = isSuppressed(checks, own(result, 'suppressions'), `${path}.suppressions`);
  const message = readMessage(checks, own(result, 'message'), `${path}.message`);
  const location = readLocation(checks, run, own(result, 'locations'), `${path}.locations`);
  const fingerprints = readFingerprints(checks, result, path);

  if (kind !== undefined && kind !== 'fail') return 'notFailing';
  if (suppressed) return 'suppressed';
  const effectiveLevel = level ?? rule?.defaultLevel ?? 'warning';
  if (effectiveLevel === 'none') return 'notFailing';

  if (!ruleId) {
    if (ruleReported) return undefined;
    checks.add(`${path}.ruleId`, 'is required (no ruleId, rule.id or ruleIndex names the rule)');
    return undefined;
  }
  const text = message && resolveMessage(checks, message, rule, component, `${path}.message`);
  if (text === undefined || location === undefined || fingerprints === undefined) return undefined;

  const properties = own(result, 'properties');
  const cvss = securitySeverity(properties) ?? rule?.cvss;
  const severity =
    cvss !== undefined && cvss > 0 ? severityOfScore(cvss) : severityOfLevel(effectiveLevel);
  const cveIds = new Set(rule?.cveIds);
  collectCves(ruleId, cveIds);
  collectPropertyCves(properties, cveIds);

  const identity =
    fingerprints.length > 0
      ? ['sarif-fingerprints/1', run.tool, ruleId, ...fingerprints]
      : ['sarif-content/1', run.tool, ruleId, location, text];
  return {
    tool: run.tool,
    toolVersion: run.toolVersion,
    ruleId,
    title: truncate(rule?.shortDescription || rule?.name || ruleId, SARIF_TEXT_LIMITS.titleChars),
    message: text,
    severity,
    ...(cvss === undefined ? {} : { cvssScore: cvss }),
    cveIds: sortCves(cveIds).slice(0, SARIF_TEXT_LIMITS.cveIds),
    location,
    fingerprint: createHash('sha256').update(JSON.stringify(identity)).digest('hex'),
    helpUri: rule?.helpUri ?? '',
  };
}

/**
 * The rule a result refers to: by `rule.index` or `ruleIndex` in the tool component that
 * `rule.toolComponent` names (the driver when it names none), else by id in that component, the
 * driver or an extension. The rule id is `ruleId || rule.id || the rule's id`.
 */
function resolveRule(
  checks: Checks,
  run: RunContext,
  result: JsonObject,
  path: string,
): { rule: Rule | undefined; ruleId: string | undefined; component: ToolComponent | undefined } {
  const idLimit = { max: SARIF_TEXT_LIMITS.ruleIdChars };
  const ruleId = checks.text(own(result, 'ruleId'), `${path}.ruleId`, idLimit);
  const ruleIndex = checks.index(own(result, 'ruleIndex'), `${path}.ruleIndex`);
  const reference = checks.object(own(result, 'rule'), `${path}.rule`);
  const referenceId = checks.text(own(reference, 'id'), `${path}.rule.id`, idLimit);
  const referenceIndex = checks.index(own(reference, 'index'), `${path}.rule.index`);

  let component = run.driver;
  const componentRef = checks.object(own(reference, 'toolComponent'), `${path}.rule.toolComponent`);
  if (componentRef) {
    const index = checks.index(own(componentRef, 'index'), `${path}.rule.toolComponent.index`);
    const name = checks.text(own(componentRef, 'name'), `${path}.rule.toolComponent.name`);
    if (index !== undefined) {
      component = run.extensions[index];
      if (index >= run.extensions.length) {
        checks.add(
          `${path}.rule.toolComponent.index`,
          `must refer to one of the ${run.extensions.length} entries of ${run.path}.tool.extensions`,
        );
      }
    } else if (name !== undefined) {
      component = [run.driver, ...run.extensions].find((c) => c?.name === name) ?? run.driver;
    }
  }

  let rule: Rule | undefined;
  for (const [index, field] of [
    [referenceIndex, `${path}.rule.index`],
    [ruleIndex, `${path}.ruleIndex`],
  ] as const) {
    if (index === undefined || !component) continue;
    if (index >= component.rules.length) {
      checks.add(
        field,
        `must refer to one of the ${component.rules.length} entries of ${component.path}.rules`,
      );
    } else {
      rule ??= component.rules[index];
    }
  }
  const id = ruleId || referenceId;
  if (!rule && id) {
    rule =
      component?.rulesById.get(id) ??
      [run.driver, ...run.extensions].map((c) => c?.rulesById.get(id)).find(Boolean);
  }
  return { rule, ruleId: id || rule?.id, component };
}

/** Whether an entry suppresses the result: status `accepted` or none (SARIF's default). */
function isSuppressed(checks: Checks, value: unknown, path: string): boolean {
  const suppressions = checks.array(value, path) ?? [];
  let suppressed = false;
  suppressions.forEach((entry, j) => {
    const suppression = checks.object(entry, `${path}[${j}]`, true);
    if (!suppression) return;
    const status = checks.oneOf(
      own(suppression, 'status'),
      `${path}[${j}].status`,
      SUPPRESSION_STATUSES,
    );
    if (own(suppression, 'status') === undefined || status === 'accepted') suppressed = true;
  });
  return suppressed;
}

interface Message {
  text: string | undefined;
  id: string | undefined;
  arguments: string[] | undefined;
}

function readMessage(checks: Checks, value: unknown, path: string): Message | undefined {
  const message = checks.object(value, path, true);
  if (!message) return undefined;
  const text = checks.text(own(message, 'text'), `${path}.text`);
  const id = checks.text(own(message, 'id'), `${path}.id`);
  const args = checks
    .array(own(message, 'arguments'), `${path}.arguments`)
    ?.map((arg, j) => checks.text(arg, `${path}.arguments[${j}]`) ?? '');
  if (own(message, 'text') === undefined && own(message, 'id') === undefined) {
    checks.add(path, 'must have a text or an id');
  }
  return { text, id, arguments: args };
}

/**
 * The message's text, else the rule's `messageStrings` or the component's `globalMessageStrings`
 * entry its id names; `{n}` replaced by the n-th argument and `{{` `}}` by braces (SARIF §3.11.5).
 */
function resolveMessage(
  checks: Checks,
  message: Message,
  rule: Rule | undefined,
  component: ToolComponent | undefined,
  path: string,
): string | undefined {
  if (message.text !== undefined) {
    const text =
      message.arguments === undefined
        ? message.text
        : format(compile(message.text), message.arguments);
    return truncate(text, SARIF_TEXT_LIMITS.messageChars);
  }
  let template: Template | undefined;
  if (message.id !== undefined) {
    template =
      rule?.messageStrings.get(message.id) ?? component?.globalMessageStrings.get(message.id);
    if (template === undefined) {
      checks.add(
        `${path}.id`,
        "names no entry of the rule's messageStrings or the tool's globalMessageStrings",
      );
    }
  }
  if (template === undefined) return undefined;
  return truncate(format(template, message.arguments ?? []), SARIF_TEXT_LIMITS.messageChars);
}

/** A message string split once into literals and `{n}` placeholders, for every result using it. */
interface Template {
  parts: (string | { index: number; token: string })[];
  /** Whether the template was longer than MAX_TEMPLATE_UNITS and only its start was read. */
  cut: boolean;
}

function compile(template: string): Template {
  let source = template;
  let cut = false;
  if (source.length > MAX_TEMPLATE_UNITS) {
    const code = source.charCodeAt(MAX_TEMPLATE_UNITS - 1);
    const end = code >= 0xd800 && code <= 0xdbff ? MAX_TEMPLATE_UNITS - 1 : MAX_TEMPLATE_UNITS;
    source = source.slice(0, end);
    cut = true;
  }
  const parts: Template['parts'] = [];
  let literal = '';
  let last = 0;
  for (const match of source.matchAll(PLACEHOLDER)) {
    literal += source.slice(last, match.index);
    const token = match[0];
    last = match.index + token.length;
    if (token === '{{') literal += '{';
    else if (token === '}}') literal += '}';
    else {
      if (literal) parts.push(literal);
      literal = '';
      parts.push({ index: Number(match[1]), token });
    }
  }
  literal += source.slice(last);
  if (literal) parts.push(literal);
  return { parts, cut };
}

/** Builds no longer a string than a stored message needs, however long the arguments. */
function format(template: Template, args: readonly string[]): string {
  // Two UTF-16 units per code point at most, plus room for the '…' decision.
  const enough = 2 * SARIF_TEXT_LIMITS.messageChars + 2;
  let out = '';
  for (const part of template.parts) {
    out += typeof part === 'string' ? part : (args[part.index] ?? part.token);
    if (out.length > enough) return out;
  }
  return template.cut ? `${out}…` : out;
}

/**
 * `uri:startLine` (or `uri`) of the first physical location with a uri, given directly or through
 * `artifactLocation.index` into the run's artifacts; else the first logical location's
 * fullyQualifiedName (or name); else ''. Undefined when a location it read is invalid.
 */
function readLocation(
  checks: Checks,
  run: RunContext,
  value: unknown,
  path: string,
): string | undefined {
  const locations = checks.array(value, path) ?? [];
  const before = checks.violations.length;
  const uriLimit = { max: SARIF_TEXT_LIMITS.uriChars };
  const objects = locations.map((location, j) => checks.object(location, `${path}[${j}]`, true));
  for (const [j, location] of objects.entries()) {
    const physicalPath = `${path}[${j}].physicalLocation`;
    const physical = checks.object(own(location, 'physicalLocation'), physicalPath);
    if (!physical) continue;
    const artifactPath = `${physicalPath}.artifactLocation`;
    const artifact = checks.object(own(physical, 'artifactLocation'), artifactPath);
    let uri = checks.text(own(artifact, 'uri'), `${artifactPath}.uri`, uriLimit);
    const index = checks.index(own(artifact, 'index'), `${artifactPath}.index`);
    if (!uri && index !== undefined) {
      if (!run.artifacts || index >= run.artifacts.length) {
        checks.add(
          `${artifactPath}.index`,
          `must refer to one of the ${run.artifacts?.length ?? 0} entries of ${run.path}.artifacts`,
        );
      } else {
        const entryPath = `${run.path}.artifacts[${index}]`;
        const entry = checks.object(run.artifacts[index], entryPath, true);
        const entryLocation = checks.object(own(entry, 'location'), `${entryPath}.location`);
        uri = checks.text(own(entryLocation, 'uri'), `${entryPath}.location.uri`, uriLimit);
      }
    }
    const region = checks.object(own(physical, 'region'), `${physicalPath}.region`);
    const startLine = own(region, 'startLine');
    if (
      startLine !== undefined &&
      (typeof startLine !== 'number' || !Number.isSafeInteger(startLine) || startLine < 1)
    ) {
      checks.add(`${physicalPath}.region.startLine`, 'must be an integer of 1 or more');
    }
    if (checks.violations.length > before) return undefined;
    if (uri) return typeof startLine === 'number' ? `${uri}:${startLine}` : uri;
  }
  for (const [j, location] of objects.entries()) {
    const logicalPath = `${path}[${j}].logicalLocations`;
    const logical = checks.array(own(location, 'logicalLocations'), logicalPath) ?? [];
    for (const [m, entry] of logical.entries()) {
      const entryPath = `${logicalPath}[${m}]`;
      const object = checks.object(entry, entryPath, true);
      const qualified = checks.text(
        own(object, 'fullyQualifiedName'),
        `${entryPath}.fullyQualifiedName`,
        uriLimit,
      );
      const name = checks.text(own(object, 'name'), `${entryPath}.name`, uriLimit);
      if (checks.violations.length > before) return undefined;
      if (qualified || name) return qualified || name;
    }
  }
  return checks.violations.length > before ? undefined : '';
}

/** `fingerprints` and `partialFingerprints` as sorted `kind:key=value` lines. */
function readFingerprints(checks: Checks, result: JsonObject, path: string): string[] | undefined {
  const before = checks.violations.length;
  const lines: string[] = [];
  for (const [property, kind] of [
    ['fingerprints', 'full'],
    ['partialFingerprints', 'partial'],
  ] as const) {
    const object = checks.object(own(result, property), `${path}.${property}`);
    for (const [key, value] of Object.entries(object ?? {})) {
      if (typeof value === 'string') lines.push(`${kind}:${key}=${value}`);
      else checks.add(keyField(`${path}.${property}`, key), 'must be a string');
    }
  }
  return checks.violations.length > before ? undefined : lines.sort();
}

/** A CVSS score in 0..10 from a property bag's `security-severity`, as a number or a string. */
function securitySeverity(properties: unknown): number | undefined {
  const value = isObject(properties) ? own(properties, 'security-severity') : undefined;
  const score =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d{1,2}(\.\d{1,3})?\s*$/.test(value)
        ? Number(value)
        : Number.NaN;
  return Number.isFinite(score) && score >= 0 && score <= 10 ? score : undefined;
}

function severityOfScore(score: number): FindingSeverity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  return 'low';
}

function severityOfLevel(level: Exclude<Level, 'none'>): FindingSeverity {
  switch (level) {
    case 'error':
      return 'high';
    case 'warning':
      return 'medium';
    case 'note':
      return 'low';
  }
}

function collectCves(text: unknown, into: Set<string>): void {
  if (typeof text !== 'string') return;
  for (const match of text.matchAll(CVE_ID)) into.add(`CVE-${match[1]}-${match[2]}`);
}

/** CVE ids in any string of a result's property bag, however it nests, within a budget. */
function collectPropertyCves(properties: unknown, into: Set<string>): void {
  const pending: unknown[] = [properties];
  for (let visited = 0; pending.length > 0 && visited < PROPERTY_SCAN_BUDGET; visited++) {
    const value = pending.pop();
    if (typeof value === 'string') collectCves(value, into);
    else if (Array.isArray(value))
      pending.push(...(value as unknown[]).slice(0, PROPERTY_SCAN_BUDGET));
    else if (isObject(value)) pending.push(...Object.values(value).slice(0, PROPERTY_SCAN_BUDGET));
  }
}

/** By year, then by number (numerically: CVE-2021-9999 before CVE-2021-10000). */
function sortCves(ids: Set<string>): string[] {
  const key = (id: string) => {
    const [, year = '', number = ''] = id.split('-');
    return `${year}-${number.padStart(19, '0')}`;
  };
  return [...ids].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The URI when it is an absolute http(s) URL of reasonable length, else ''. */
function webUri(value: string | undefined): string {
  if (!value || longerThan(value, SARIF_TEXT_LIMITS.helpUriChars)) return '';
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? value : '';
  } catch {
    return '';
  }
}

/** Keeps the first finding of a fingerprint, raised to the highest severity of its duplicates. */
function merge(findings: Map<string, SarifFinding>, finding: SarifFinding): void {
  const first = findings.get(finding.fingerprint);
  if (!first) {
    findings.set(finding.fingerprint, finding);
    return;
  }
  const rank = SEVERITY_RANK[finding.severity] - SEVERITY_RANK[first.severity];
  if (rank > 0) {
    first.severity = finding.severity;
    if (finding.cvssScore !== undefined) first.cvssScore = finding.cvssScore;
  } else if (
    rank === 0 &&
    finding.cvssScore !== undefined &&
    (first.cvssScore === undefined || finding.cvssScore > first.cvssScore)
  ) {
    first.cvssScore = finding.cvssScore;
  }
}
