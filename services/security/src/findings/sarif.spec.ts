import { hasLoneSurrogate, seededRandom } from '@cinode/common';
import {
  SARIF_LIMITS,
  SARIF_TEXT_LIMITS,
  SarifError,
  parseSarif,
  type SarifFinding,
  type SarifImport,
} from './sarif';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
type Violation = { field: string; description: string };

function log(...runs: Json[]): JsonObject {
  return { $schema: 'https://json.schemastore.org/sarif-2.1.0.json', version: '2.1.0', runs };
}

function run(driver: JsonObject, results: Json[], extra: JsonObject = {}): JsonObject {
  return { tool: { driver }, results, ...extra };
}

function parse(document: Json): SarifImport {
  return parseSarif(JSON.stringify(document));
}

/** The violations a document is refused with; fails the test when it is accepted. */
function violationsOf(document: Json | Uint8Array): Violation[] {
  const input = document instanceof Uint8Array ? document : JSON.stringify(document);
  try {
    parseSarif(input);
  } catch (error) {
    if (error instanceof SarifError) return error.violations;
    throw error;
  }
  throw new Error('the document was accepted');
}

function refusalOf(input: string | Uint8Array): Violation[] {
  try {
    parseSarif(input);
  } catch (error) {
    if (error instanceof SarifError) return error.violations;
    throw error;
  }
  throw new Error('the document was accepted');
}

/** A minimal valid log around one result, for the validation cases to break. */
function oneResult(
  result: JsonObject,
  driver: JsonObject = {},
  extra: JsonObject = {},
): JsonObject {
  return log(
    run(
      {
        name: 'scanner',
        rules: [{ id: 'R1', shortDescription: { text: 'Rule one' } }, { id: 'R2' }],
        ...driver,
      },
      [{ ruleId: 'R1', message: { text: 'found' }, ...result }],
      extra,
    ),
  );
}

function only(imported: SarifImport): SarifFinding {
  expect(imported.findings).toHaveLength(1);
  return imported.findings[0];
}

// ---------------------------------------------------------------------------------------------
// Fixtures, written by hand in the shapes the scanners emit (trimmed to what is read, plus some
// of what is not, since unknown and ignored properties must not matter).

/** CodeQL: queries live in the query pack's tool component; results point at it. */
function codeqlLog(sqlInjectionLine = 42): JsonObject {
  return log(
    run(
      { name: 'CodeQL', organization: 'GitHub', semanticVersion: '2.15.3', rules: [] },
      [
        {
          ruleId: 'js/sql-injection',
          ruleIndex: 0,
          rule: { id: 'js/sql-injection', index: 0, toolComponent: { index: 0 } },
          message: { text: 'This query string depends on a [user-provided value](1).' },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: 'src/db.js', uriBaseId: '%SRCROOT%', index: 0 },
                region: { startLine: sqlInjectionLine, startColumn: 5, endColumn: 40 },
              },
            },
          ],
          partialFingerprints: {
            primaryLocationLineHash: 'a1b2c3d4e5f60718:1',
            primaryLocationStartColumnFingerprint: '4',
          },
          codeFlows: [{ threadFlows: [{ locations: [] }] }],
          relatedLocations: [{ id: 1, message: { text: 'user-provided value' } }],
        },
        {
          ruleId: 'js/log-injection',
          rule: { id: 'js/log-injection', index: 1, toolComponent: { index: 0 } },
          message: { text: 'Log entry depends on a [user-provided value](1).' },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { index: 1 },
                region: { startLine: 7, startColumn: 3, endColumn: 22 },
              },
            },
          ],
          // The same line hash as the first result: only the rule tells them apart.
          partialFingerprints: { primaryLocationLineHash: 'a1b2c3d4e5f60718:1' },
        },
        {
          ruleId: 'js/unused-local-variable',
          rule: { id: 'js/unused-local-variable', index: 2, toolComponent: { index: 0 } },
          message: { text: 'Unused variable tmp.' },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: 'src/util.js', uriBaseId: '%SRCROOT%' },
                region: { startLine: 3, startColumn: 7, endColumn: 10 },
              },
            },
          ],
          partialFingerprints: { primaryLocationLineHash: '0badc0ffee000001:1' },
        },
      ],
      {
        artifacts: [
          { location: { uri: 'src/db.js', uriBaseId: '%SRCROOT%', index: 0 } },
          { location: { uri: 'src/logger.js', uriBaseId: '%SRCROOT%', index: 1 } },
        ],
        automationDetails: { id: '/language:javascript/' },
        columnKind: 'utf16CodeUnits',
        properties: { semmle: { formatSpecifier: 'sarif-latest' } },
      },
    ),
  );
}

function addCodeqlPack(document: JsonObject): JsonObject {
  const tool = ((document.runs as JsonObject[])[0] as { tool: JsonObject }).tool;
  tool.extensions = [
    {
      name: 'codeql/javascript-queries',
      semanticVersion: '0.8.3',
      rules: [
        {
          id: 'js/sql-injection',
          name: 'js/sql-injection',
          shortDescription: { text: 'Database query built from user-controlled sources' },
          fullDescription: {
            text: 'Building a database query from user-controlled sources is vulnerable to insertion of malicious code by the user.',
          },
          defaultConfiguration: { enabled: true, level: 'error' },
          help: { text: '# Database query built from user-controlled sources\n...' },
          properties: {
            tags: ['security', 'external/cwe/cwe-089'],
            kind: 'path-problem',
            precision: 'high',
            'security-severity': '8.8',
          },
        },
        {
          id: 'js/log-injection',
          name: 'js/log-injection',
          shortDescription: { text: 'Log injection' },
          defaultConfiguration: { enabled: true, level: 'error' },
          properties: { tags: ['security', 'external/cwe/cwe-117'], 'security-severity': '7.8' },
        },
        {
          id: 'js/unused-local-variable',
          name: 'js/unused-local-variable',
          shortDescription: { text: 'Unused variable, import, function or class' },
          defaultConfiguration: { enabled: true, level: 'note' },
          properties: { tags: ['maintainability'], precision: 'very-high' },
        },
      ],
    },
  ];
  return document;
}

function codeql(sqlInjectionLine = 42): JsonObject {
  return addCodeqlPack(codeqlLog(sqlInjectionLine));
}

/** Trivy: one rule per CVE, the CVE id as rule id, severity in tags and security-severity. */
function trivy(): JsonObject {
  const log4jMessage =
    'Package: org.apache.logging.log4j:log4j-core\nInstalled Version: 2.14.1\nVulnerability CVE-2021-44228\nSeverity: CRITICAL\nFixed Version: 2.15.0\nLink: [CVE-2021-44228](https://avd.aquasec.com/nvd/cve-2021-44228)';
  const log4jResult = {
    ruleId: 'CVE-2021-44228',
    ruleIndex: 0,
    level: 'error',
    message: { text: log4jMessage },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: 'app/lib/log4j-core-2.14.1.jar', uriBaseId: 'ROOTPATH' },
          region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 },
        },
        message: {
          text: 'app/lib/log4j-core-2.14.1.jar: org.apache.logging.log4j:log4j-core@2.14.1',
        },
      },
    ],
  };
  return log(
    run(
      {
        fullName: 'Trivy Vulnerability Scanner',
        informationUri: 'https://github.com/aquasecurity/trivy',
        name: 'Trivy',
        version: '0.48.3',
        rules: [
          {
            id: 'CVE-2021-44228',
            name: 'LanguageSpecificPackageVulnerability',
            shortDescription: {
              text: 'log4j-core: Remote code execution in Log4j 2.x when logs contain an attacker-controlled string value',
            },
            fullDescription: { text: 'Apache Log4j2 2.0-beta9 through 2.15.0 JNDI features ...' },
            defaultConfiguration: { level: 'error' },
            helpUri: 'https://avd.aquasec.com/nvd/cve-2021-44228',
            help: {
              text: 'Vulnerability CVE-2021-44228\nSeverity: CRITICAL\nPackage: org.apache.logging.log4j:log4j-core\nFixed Version: 2.15.0',
              markdown: '**Vulnerability CVE-2021-44228**\n| Severity | Package |',
            },
            properties: {
              precision: 'very-high',
              'security-severity': '10.0',
              tags: ['vulnerability', 'security', 'CRITICAL'],
            },
          },
          {
            id: 'CVE-2022-23302',
            name: 'LanguageSpecificPackageVulnerability',
            shortDescription: {
              text: 'log4j: Remote code execution in Log4j 1.x when JMSSink is used',
            },
            defaultConfiguration: { level: 'error' },
            helpUri: 'https://avd.aquasec.com/nvd/cve-2022-23302',
            help: {
              text: 'Vulnerability CVE-2022-23302, see also CVE-2022-23305 and cve-2021-4104',
            },
            properties: { 'security-severity': '8.8', tags: ['vulnerability', 'security', 'HIGH'] },
          },
        ],
      },
      [
        log4jResult,
        // Trivy repeats a result when a jar is found through two paths: one finding, not two.
        log4jResult,
        {
          ruleId: 'CVE-2022-23302',
          ruleIndex: 1,
          level: 'error',
          message: { text: 'Package: log4j:log4j\nInstalled Version: 1.2.17' },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: 'app/lib/log4j-1.2.17.jar', uriBaseId: 'ROOTPATH' },
                region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 },
              },
            },
          ],
        },
      ],
      { columnKind: 'utf16CodeUnits', originalUriBaseIds: { ROOTPATH: { uri: 'file:///' } } },
    ),
  );
}

/** Semgrep: rule ids are dotted paths, levels come from the rule, `nosemgrep` is a suppression. */
function semgrep(): JsonObject {
  const ruleId = 'python.django.security.injection.sql.sql-injection-using-db-cursor-execute';
  return log(
    run(
      {
        name: 'Semgrep OSS',
        semanticVersion: '1.50.0',
        rules: [
          {
            id: ruleId,
            name: ruleId,
            shortDescription: { text: `Semgrep Finding: ${ruleId}` },
            fullDescription: {
              text: 'User-controlled data from a request is passed to execute(). This could lead to a SQL injection.',
            },
            defaultConfiguration: { level: 'error' },
            helpUri: `https://semgrep.dev/r/${ruleId}`,
            help: { text: 'Use parameterized queries.', markdown: 'Use parameterized queries.' },
            properties: {
              precision: 'very-high',
              tags: [
                'CWE-89: SQL Injection',
                'HIGH CONFIDENCE',
                'OWASP-A03:2021 - Injection',
                'security',
              ],
            },
          },
          {
            id: 'generic.secrets.security.detected-generic-secret',
            name: 'generic.secrets.security.detected-generic-secret',
            shortDescription: {
              text: 'Semgrep Finding: generic.secrets.security.detected-generic-secret',
            },
            defaultConfiguration: { level: 'warning' },
            properties: { precision: 'very-high', tags: ['CWE-798', 'security'] },
          },
        ],
      },
      [
        {
          ruleId,
          message: {
            text: 'User-controlled data from a request is passed to execute(). This could lead to a SQL injection.',
          },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: 'app/views.py', uriBaseId: '%SRCROOT%' },
                region: {
                  startLine: 27,
                  startColumn: 9,
                  endLine: 27,
                  endColumn: 58,
                  snippet: { text: '        cursor.execute("SELECT * FROM t WHERE id=" + pk)' },
                },
              },
            },
          ],
          fingerprints: { 'matchBasedId/v1': '4f1e0c7d0d2f0a39b1f2b6c1f63b0c5e' },
          properties: {},
        },
        {
          ruleId: 'generic.secrets.security.detected-generic-secret',
          message: { text: 'Generic Secret detected' },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: 'settings/test.py', uriBaseId: '%SRCROOT%' },
                region: { startLine: 3, startColumn: 1, endLine: 3, endColumn: 40 },
              },
            },
          ],
          fingerprints: { 'matchBasedId/v1': '9d1c0aa0d2b24ce4b7e4b0c7f6c1c3aa' },
          suppressions: [{ kind: 'inSource' }],
        },
      ],
    ),
  );
}

/** A DAST scanner (ZAP-like): no files, the URL as a logical location, rules found by index. */
function zapLike(): JsonObject {
  return log(
    run(
      {
        name: 'OWASP ZAP',
        version: '2.14.0',
        rules: [
          {
            id: '40012',
            name: 'Cross Site Scripting (Reflected)',
            helpUri: 'https://www.zaproxy.org/docs/alerts/40012/',
            defaultConfiguration: { level: 'error' },
            properties: {
              references: ['https://owasp.org/www-community/attacks/xss/'],
              cweid: '79',
            },
          },
          {
            id: '10038',
            name: 'Content Security Policy (CSP) Header Not Set',
            helpUri: 'javascript:alert(1)',
            defaultConfiguration: { level: 'warning' },
          },
        ],
      },
      [
        {
          ruleIndex: 0,
          level: 'error',
          message: { text: 'Reflected XSS in parameter q' },
          locations: [
            {
              logicalLocations: [
                { fullyQualifiedName: 'GET https://shop.example.test/search?q=', kind: 'resource' },
              ],
            },
          ],
          properties: {
            evidence: '<script>alert(1)</script>',
            // A library fingerprinted on the page, with its advisories: CVE ids anywhere count.
            libraries: [
              { name: 'jquery', version: '1.8.1', advisories: [{ id: 'CVE-2020-11023' }] },
            ],
          },
        },
        {
          ruleIndex: 1,
          message: { text: 'CSP header missing' },
          locations: [{ logicalLocations: [{ name: 'https://shop.example.test/' }] }],
        },
      ],
    ),
  );
}

// ---------------------------------------------------------------------------------------------

describe(parseSarif.name, () => {
  describe('findings of real scanners’ shapes', () => {
    it('reads CodeQL: rules of the query pack, security-severity, artifact indexes', () => {
      const { findings, skipped } = parse(codeql());
      expect(skipped).toEqual({ suppressed: 0, notFailing: 0 });
      expect(findings).toHaveLength(3);
      const [sql, logInjection, unused] = findings;
      expect(sql).toEqual({
        tool: 'CodeQL',
        toolVersion: '2.15.3',
        ruleId: 'js/sql-injection',
        title: 'Database query built from user-controlled sources',
        message: 'This query string depends on a [user-provided value](1).',
        severity: 'high',
        cvssScore: 8.8,
        cveIds: [],
        location: 'src/db.js:42',
        fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown as string,
        helpUri: '',
      });
      expect(logInjection).toMatchObject({
        ruleId: 'js/log-injection',
        title: 'Log injection',
        severity: 'high',
        cvssScore: 7.8,
        location: 'src/logger.js:7',
      });
      expect(unused).toMatchObject({ severity: 'low', location: 'src/util.js:3' });
      expect(unused.cvssScore).toBeUndefined();
      expect(new Set(findings.map((f) => f.fingerprint)).size).toBe(3);
    });

    it('keeps a CodeQL finding’s fingerprint when its code moves, from partialFingerprints', () => {
      const before = parse(codeql(42)).findings[0];
      const after = parse(codeql(57)).findings[0];
      expect(after.location).toBe('src/db.js:57');
      expect(after.fingerprint).toBe(before.fingerprint);
    });

    it('reads Trivy: CVE ids, help URI, critical from security-severity 10.0', () => {
      const { findings } = parse(trivy());
      expect(findings).toHaveLength(2);
      expect(findings[0]).toEqual({
        tool: 'Trivy',
        toolVersion: '0.48.3',
        ruleId: 'CVE-2021-44228',
        title:
          'log4j-core: Remote code execution in Log4j 2.x when logs contain an attacker-controlled string value',
        message: expect.stringContaining('Installed Version: 2.14.1') as unknown as string,
        severity: 'critical',
        cvssScore: 10,
        cveIds: ['CVE-2021-44228'],
        location: 'app/lib/log4j-core-2.14.1.jar:1',
        fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown as string,
        helpUri: 'https://avd.aquasec.com/nvd/cve-2021-44228',
      });
      expect(findings[1]).toMatchObject({
        severity: 'high',
        cveIds: ['CVE-2021-4104', 'CVE-2022-23302', 'CVE-2022-23305'],
      });
    });

    it('reads Semgrep: level from the rule, a nosemgrep suppression skipped', () => {
      const { findings, skipped } = parse(semgrep());
      expect(skipped).toEqual({ suppressed: 1, notFailing: 0 });
      const finding = only({ findings, skipped });
      expect(finding).toMatchObject({
        tool: 'Semgrep OSS',
        toolVersion: '1.50.0',
        severity: 'high',
        location: 'app/views.py:27',
        helpUri:
          'https://semgrep.dev/r/python.django.security.injection.sql.sql-injection-using-db-cursor-execute',
        cveIds: [],
      });
      expect(finding.cvssScore).toBeUndefined();
      expect(finding.title).toMatch(/^Semgrep Finding: python\.django/);
    });

    it('reads a ZAP-like log: rule by index, logical locations, title from the rule name', () => {
      const { findings } = parse(zapLike());
      expect(findings).toHaveLength(2);
      expect(findings[0]).toMatchObject({
        tool: 'OWASP ZAP',
        toolVersion: '2.14.0',
        ruleId: '40012',
        title: 'Cross Site Scripting (Reflected)',
        severity: 'high',
        location: 'GET https://shop.example.test/search?q=',
        helpUri: 'https://www.zaproxy.org/docs/alerts/40012/',
        cveIds: ['CVE-2020-11023'],
      });
      expect(findings[1]).toMatchObject({
        ruleId: '10038',
        severity: 'medium',
        location: 'https://shop.example.test/',
        helpUri: '',
      });
    });

    it('accepts the same log as bytes, with or without a byte order mark', () => {
      const text = JSON.stringify(trivy());
      const expected = parseSarif(text);
      expect(parseSarif(Buffer.from(text))).toEqual(expected);
      expect(
        parseSarif(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])),
      ).toEqual(expected);
      expect(parseSarif(new Uint8Array(Buffer.from(text)))).toEqual(expected);
    });

    it('accepts a log without runs’ results and with an empty runs array', () => {
      expect(parse(log())).toEqual({ findings: [], skipped: { suppressed: 0, notFailing: 0 } });
      expect(parse(log({ tool: { driver: { name: 'x' } } })).findings).toEqual([]);
    });
  });

  describe('messages', () => {
    const driver = {
      name: 'scanner',
      globalMessageStrings: { generic: { text: 'Global: {0} in {1}' } },
      rules: [
        {
          id: 'taint',
          // Parsed, so that "__proto__" is an own key as in any received log.
          messageStrings: JSON.parse(
            `{"default": {"text": "'{0}' flows into {1} ({{sic}}), {0} again; {7} unknown"},
              "__proto__": {"text": "own key named __proto__"}}`,
          ) as JsonObject,
        },
      ],
    };

    it('resolves a message id through the rule’s messageStrings with its arguments', () => {
      const finding = only(
        parse(
          oneResult(
            { ruleId: 'taint', message: { id: 'default', arguments: ['userInput', 'db.query'] } },
            driver,
          ),
        ),
      );
      expect(finding.message).toBe(
        "'userInput' flows into db.query ({sic}), userInput again; {7} unknown",
      );
    });

    it('falls back to the tool’s globalMessageStrings', () => {
      const finding = only(
        parse(
          oneResult({ ruleId: 'taint', message: { id: 'generic', arguments: ['a', 'b'] } }, driver),
        ),
      );
      expect(finding.message).toBe('Global: a in b');
    });

    it('prefers the text, formatting it only when arguments are given', () => {
      const plain = only(parse(oneResult({ message: { text: 'keep {0} and {{' } })));
      expect(plain.message).toBe('keep {0} and {{');
      const formatted = only(
        parse(oneResult({ message: { text: 'use {0}', id: 'default', arguments: ['x'] } }, driver)),
      );
      expect(formatted.message).toBe('use x');
    });

    it('reads an id naming an own key "__proto__", and no inherited one', () => {
      const own = only(parse(oneResult({ ruleId: 'taint', message: { id: '__proto__' } }, driver)));
      expect(own.message).toBe('own key named __proto__');
      for (const id of ['toString', 'constructor', 'hasOwnProperty']) {
        expect(violationsOf(oneResult({ ruleId: 'taint', message: { id } }, driver))).toEqual([
          {
            field: 'runs[0].results[0].message.id',
            description: expect.stringContaining('names no entry') as unknown as string,
          },
        ]);
      }
    });

    it('cuts a long message to 4000 characters ending in an ellipsis, whole code points', () => {
      const text = '😀'.repeat(5000);
      const finding = only(parse(oneResult({ message: { text } })));
      expect([...finding.message]).toHaveLength(SARIF_TEXT_LIMITS.messageChars);
      expect(finding.message.endsWith('😀…')).toBe(true);
      const exact = 'm'.repeat(SARIF_TEXT_LIMITS.messageChars);
      expect(only(parse(oneResult({ message: { text: exact } }))).message).toBe(exact);
    });

    it('does not build a huge string from a template repeating a huge argument', () => {
      const finding = only(
        parse(
          oneResult(
            { ruleId: 'R1', message: { id: 'm', arguments: ['y'.repeat(200_000)] } },
            { rules: [{ id: 'R1', messageStrings: { m: { text: '{0}'.repeat(5000) } } }] },
          ),
        ),
      );
      expect([...finding.message]).toHaveLength(SARIF_TEXT_LIMITS.messageChars);
    });

    it('cuts a long title to 500 characters', () => {
      const finding = only(
        parse(
          oneResult({}, { rules: [{ id: 'R1', shortDescription: { text: 't'.repeat(600) } }] }),
        ),
      );
      expect(finding.title).toBe(`${'t'.repeat(499)}…`);
    });
  });

  describe('severity', () => {
    it.each([
      [10, 'critical'],
      ['9.0', 'critical'],
      [8.99, 'high'],
      ['7.0', 'high'],
      [6.9, 'medium'],
      [4, 'medium'],
      ['3.9', 'low'],
      [0.1, 'low'],
    ])('maps security-severity %p to %s', (score, severity) => {
      const finding = only(
        parse(oneResult({ level: 'note', properties: { 'security-severity': score } })),
      );
      expect(finding.severity).toBe(severity);
      expect(finding.cvssScore).toBe(Number(score));
    });

    it.each([
      ['error', 'high'],
      ['warning', 'medium'],
      ['note', 'low'],
    ])('maps level %s to %s without a score', (level, severity) => {
      expect(only(parse(oneResult({ level }))).severity).toBe(severity);
    });

    it('reads level warning when neither result nor rule sets one (the SARIF default)', () => {
      expect(only(parse(oneResult({}))).severity).toBe('medium');
    });

    it('falls back to the level when the score is 0, not a number or out of range', () => {
      for (const score of [0, '0.0', 'high', 11, -1, '9.8 (critical)', null, [9.8]]) {
        const finding = only(
          parse(oneResult({ level: 'note', properties: { 'security-severity': score } })),
        );
        expect(finding.severity).toBe('low');
      }
    });

    it('prefers the result’s security-severity to the rule’s, and the result’s level', () => {
      const driver = {
        rules: [
          {
            id: 'R1',
            defaultConfiguration: { level: 'error' },
            properties: { 'security-severity': '9.1' },
          },
        ],
      };
      expect(only(parse(oneResult({}, driver)))).toMatchObject({
        severity: 'critical',
        cvssScore: 9.1,
      });
      expect(
        only(parse(oneResult({ properties: { 'security-severity': 5 } }, driver))),
      ).toMatchObject({ severity: 'medium', cvssScore: 5 });
      const noScore = { rules: [{ id: 'R1', defaultConfiguration: { level: 'error' } }] };
      expect(only(parse(oneResult({}, noScore))).severity).toBe('high');
      expect(only(parse(oneResult({ level: 'note' }, noScore))).severity).toBe('low');
    });
  });

  describe('results that are not findings', () => {
    it.each(['pass', 'open', 'informational', 'notApplicable', 'review'])(
      'counts kind %s as not failing',
      (kind) => {
        expect(parse(oneResult({ kind, level: 'error' }))).toEqual({
          findings: [],
          skipped: { suppressed: 0, notFailing: 1 },
        });
      },
    );

    it('counts level none, from the result or the rule, as not failing', () => {
      expect(parse(oneResult({ level: 'none' })).skipped).toEqual({ suppressed: 0, notFailing: 1 });
      const quiet = { rules: [{ id: 'R1', defaultConfiguration: { level: 'none' } }] };
      expect(parse(oneResult({}, quiet)).skipped).toEqual({ suppressed: 0, notFailing: 1 });
      expect(parse(oneResult({ level: 'error' }, quiet)).findings).toHaveLength(1);
    });

    it('counts a result suppressed by an accepted suppression or one without status', () => {
      for (const suppressions of <Json[][]>[
        [{ kind: 'inSource' }],
        [{ kind: 'external', status: 'accepted', justification: 'false positive' }],
        [{ kind: 'external', status: 'rejected' }, { kind: 'inSource' }],
      ]) {
        expect(parse(oneResult({ kind: 'fail', suppressions }))).toEqual({
          findings: [],
          skipped: { suppressed: 1, notFailing: 0 },
        });
      }
    });

    it('keeps a result whose suppressions are under review or rejected', () => {
      for (const suppressions of [
        [],
        [{ kind: 'external', status: 'underReview' }],
        [{ kind: 'external', status: 'rejected' }],
      ]) {
        expect(parse(oneResult({ suppressions })).findings).toHaveLength(1);
      }
    });

    it('does not require a rule id of a result that is not a finding', () => {
      expect(
        parse(oneResult({ ruleId: undefined as unknown as Json, kind: 'pass' })).skipped,
      ).toEqual({
        suppressed: 0,
        notFailing: 1,
      });
    });
  });

  describe('identity', () => {
    it('merges findings with one fingerprint, keeping the first at the highest severity', () => {
      const same = { ruleId: 'R1', partialFingerprints: { primaryLocationLineHash: 'abc:1' } };
      const { findings } = parse(
        log(
          run({ name: 'scanner', rules: [{ id: 'R1' }] }, [
            { ...same, level: 'note', message: { text: 'first' } },
            {
              ...same,
              level: 'error',
              message: { text: 'second' },
              properties: { 'security-severity': 7.5 },
            },
            { ...same, level: 'warning', message: { text: 'third' } },
          ]),
        ),
      );
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({ message: 'first', severity: 'high', cvssScore: 7.5 });
    });

    it('keys a finding without fingerprints on tool, rule, location and message', () => {
      const base = parse(oneResult({})).findings[0].fingerprint;
      expect(parse(oneResult({})).findings[0].fingerprint).toBe(base);
      expect(parse(oneResult({ message: { text: 'other' } })).findings[0].fingerprint).not.toBe(
        base,
      );
      expect(parse(oneResult({ ruleId: 'R2' })).findings[0].fingerprint).not.toBe(base);
      expect(parse(oneResult({}, { name: 'other' })).findings[0].fingerprint).not.toBe(base);
      const located = {
        locations: [
          { physicalLocation: { artifactLocation: { uri: 'a.c' }, region: { startLine: 2 } } },
        ],
      };
      expect(parse(oneResult(located)).findings[0].fingerprint).not.toBe(base);
    });

    it('tells apart two rules’ findings with the same partial fingerprints (one line hash)', () => {
      const same = { partialFingerprints: { primaryLocationLineHash: 'a1b2c3d4e5f60718:1' } };
      const { findings } = parse(
        log(
          run({ name: 'CodeQL', rules: [{ id: 'R1' }, { id: 'R2' }] }, [
            { ...same, ruleId: 'R1', message: { text: 'one' } },
            { ...same, ruleId: 'R2', message: { text: 'two' } },
          ]),
        ),
      );
      expect(findings.map((f) => f.ruleId)).toEqual(['R1', 'R2']);
      expect(findings[0].fingerprint).not.toBe(findings[1].fingerprint);
    });

    it('orders fingerprint entries, so their order in the log does not matter', () => {
      const a = parse(oneResult({ partialFingerprints: { x: '1', y: '2' } })).findings[0];
      const b = parse(oneResult({ partialFingerprints: { y: '2', x: '1' } })).findings[0];
      const c = parse(oneResult({ partialFingerprints: { y: '2', x: '3' } })).findings[0];
      expect(a.fingerprint).toBe(b.fingerprint);
      expect(c.fingerprint).not.toBe(a.fingerprint);
    });

    it('takes the rule id from rule.id or the indexed rule when ruleId is absent', () => {
      const driver: JsonObject = { rules: [{ id: 'R1' }, { id: 'R2', name: 'Second' }] };
      expect(
        only(parse(oneResult({ ruleId: undefined as unknown as Json, rule: { id: 'R2' } }, driver)))
          .ruleId,
      ).toBe('R2');
      expect(
        only(parse(oneResult({ ruleId: undefined as unknown as Json, ruleIndex: 1 }, driver))),
      ).toMatchObject({
        ruleId: 'R2',
        title: 'Second',
      });
      // A rule id not among the rules: still a finding, titled by its id.
      expect(only(parse(oneResult({ ruleId: 'X9' }, driver)))).toMatchObject({
        ruleId: 'X9',
        title: 'X9',
      });
    });

    it('reads ruleIndex -1 as no index (the SARIF default)', () => {
      expect(only(parse(oneResult({ ruleIndex: -1 }))).ruleId).toBe('R1');
    });

    it('finds CVE ids in rule id, tags, texts and result properties: unique, sorted, at most 20', () => {
      const tags = Array.from({ length: 30 }, (_, i) => `CVE-2023-${String(30000 - i)}`);
      const finding = only(
        parse(
          oneResult(
            {
              ruleId: 'CVE-2019-10000-pkg',
              properties: { nested: [[{ deeper: 'see cve-2019-9999, CVE-2019-9999' }]] },
            },
            {
              rules: [
                {
                  id: 'CVE-2019-10000-pkg',
                  fullDescription: { text: 'fixes CVE-2018-1234 (not XCVE-2018-9999)' },
                  properties: { tags },
                },
              ],
            },
          ),
        ),
      );
      expect(finding.cveIds).toHaveLength(20);
      expect(finding.cveIds.slice(0, 4)).toEqual([
        'CVE-2018-1234',
        'CVE-2019-9999',
        'CVE-2019-10000',
        'CVE-2023-29971',
      ]);
      expect(new Set(finding.cveIds).size).toBe(20);
    });
  });

  describe('refusals, each naming its field', () => {
    it('refuses a log over 4 MiB and accepts one of exactly 4 MiB', () => {
      const text = JSON.stringify(oneResult({}));
      const exact = text + ' '.repeat(SARIF_LIMITS.maxBytes - Buffer.byteLength(text));
      expect(parseSarif(Buffer.from(exact)).findings).toHaveLength(1);
      expect(parseSarif(exact).findings).toHaveLength(1);
      expect(refusalOf(Buffer.from(`${exact} `))).toEqual([
        { field: 'document', description: 'must be at most 4194304 bytes' },
      ]);
      // Multi-byte characters count as bytes, not characters.
      expect(refusalOf(`${exact.slice(0, -1)}é`)).toEqual([
        { field: 'document', description: 'must be at most 4194304 bytes' },
      ]);
    });

    it('refuses bytes that are not UTF-8', () => {
      const bytes = Buffer.from(JSON.stringify(oneResult({ message: { text: 'Xé' } })));
      bytes[bytes.indexOf('X') + 1] = 0xff;
      expect(refusalOf(bytes)).toEqual([{ field: 'document', description: 'must be UTF-8 text' }]);
    });

    it('refuses what is not JSON, with the position when the parser gives one', () => {
      expect(refusalOf('{"version": "2.1.0",')).toEqual([
        { field: 'document', description: 'is not JSON (syntax error at position 20)' },
      ]);
      expect(refusalOf('')).toEqual([{ field: 'document', description: 'is not JSON' }]);
      expect(refusalOf('nope')).toEqual([{ field: 'document', description: 'is not JSON' }]);
    });

    it.each(['[]', 'null', '"2.1.0"', '42'])('refuses JSON %s that is no object', (text) => {
      expect(refusalOf(text)).toEqual([
        { field: 'document', description: 'must be a JSON object (a SARIF log)' },
      ]);
    });

    const cases: [string, JsonObject, string, string][] = [
      ['no version', { version: undefined as unknown as Json, runs: [] }, 'version', 'is required'],
      ['version 2.0.0', { version: '2.0.0', runs: [] }, 'version', 'must be "2.1.0"'],
      ['version as a number', { version: 2.1, runs: [] }, 'version', 'must be "2.1.0"'],
      [
        'a $schema that is no string',
        { version: '2.1.0', $schema: 5, runs: [] },
        '$schema',
        'must be a string',
      ],
      ['no runs', { version: '2.1.0' }, 'runs', 'is required'],
      ['runs as an object', { version: '2.1.0', runs: {} }, 'runs', 'must be an array'],
      ['a run that is null', log(null), 'runs[0]', 'must be an object'],
      ['a run without tool', log({ results: [] }), 'runs[0].tool', 'is required'],
      ['a tool without driver', log({ tool: {} }), 'runs[0].tool.driver', 'is required'],
      [
        'a driver without name',
        log({ tool: { driver: {} } }),
        'runs[0].tool.driver.name',
        'is required',
      ],
      [
        'an empty driver name',
        log({ tool: { driver: { name: '' } } }),
        'runs[0].tool.driver.name',
        'must not be empty',
      ],
      [
        'a driver name of 201 characters',
        log({ tool: { driver: { name: 'n'.repeat(201) } } }),
        'runs[0].tool.driver.name',
        'must be at most 200 characters',
      ],
      [
        'a driver name that is a number',
        log({ tool: { driver: { name: 42 } } }),
        'runs[0].tool.driver.name',
        'must be a string',
      ],
      [
        'a driver name with NUL',
        log({ tool: { driver: { name: 'a\u0000b' } } }),
        'runs[0].tool.driver.name',
        'must not contain NUL characters',
      ],
      [
        'a driver version that is a number',
        log({ tool: { driver: { name: 'x', version: 1 } } }),
        'runs[0].tool.driver.version',
        'must be a string',
      ],
      [
        'results as an object',
        log({ tool: { driver: { name: 'x' } }, results: {} }),
        'runs[0].results',
        'must be an array',
      ],
      [
        'a result that is a string',
        log({ tool: { driver: { name: 'x' } }, results: ['r'] }),
        'runs[0].results[0]',
        'must be an object',
      ],
      [
        'extensions as a string',
        log({ tool: { driver: { name: 'x' }, extensions: 'e' } }),
        'runs[0].tool.extensions',
        'must be an array',
      ],
      [
        'an extension without name',
        log({ tool: { driver: { name: 'x' }, extensions: [{}] } }),
        'runs[0].tool.extensions[0].name',
        'is required',
      ],
      [
        'rules as an object',
        oneResult({}, { rules: {} }),
        'runs[0].tool.driver.rules',
        'must be an array',
      ],
      [
        'a rule without id',
        oneResult({}, { rules: [{ id: 'R1' }, { name: 'x' }] }),
        'runs[0].tool.driver.rules[1].id',
        'is required',
      ],
      [
        'a rule id with NUL',
        oneResult({}, { rules: [{ id: 'R1' }, { id: 'R\u0000' }] }),
        'runs[0].tool.driver.rules[1].id',
        'must not contain NUL characters',
      ],
      [
        'a rule helpUri that is no string',
        oneResult({}, { rules: [{ id: 'R1', helpUri: {} }] }),
        'runs[0].tool.driver.rules[0].helpUri',
        'must be a string',
      ],
      [
        'an unknown default level',
        oneResult({}, { rules: [{ id: 'R1', defaultConfiguration: { level: 'fatal' } }] }),
        'runs[0].tool.driver.rules[0].defaultConfiguration.level',
        'must be one of none, note, warning, error',
      ],
      [
        'a messageStrings entry without text',
        oneResult({}, { rules: [{ id: 'R1', messageStrings: { m: {} } }] }),
        'runs[0].tool.driver.rules[0].messageStrings[m].text',
        'is required',
      ],
      [
        'a result without rule id',
        oneResult({ ruleId: undefined as unknown as Json }),
        'runs[0].results[0].ruleId',
        'is required (no ruleId, rule.id or ruleIndex names the rule)',
      ],
      [
        'a rule id of 1001 characters',
        oneResult({ ruleId: 'r'.repeat(1001) }),
        'runs[0].results[0].ruleId',
        'must be at most 1000 characters',
      ],
      [
        'ruleIndex out of range',
        oneResult({ ruleIndex: 2 }),
        'runs[0].results[0].ruleIndex',
        'must refer to one of the 2 entries of runs[0].tool.driver.rules',
      ],
      [
        'ruleIndex not an integer',
        oneResult({ ruleIndex: 0.5 }),
        'runs[0].results[0].ruleIndex',
        'must be an integer index (0 or more, or -1 for none)',
      ],
      [
        'ruleIndex as a string',
        oneResult({ ruleIndex: '0' }),
        'runs[0].results[0].ruleIndex',
        'must be an integer index (0 or more, or -1 for none)',
      ],
      [
        'ruleIndex huge',
        oneResult({ ruleIndex: 1e300 }),
        'runs[0].results[0].ruleIndex',
        'must be an integer index (0 or more, or -1 for none)',
      ],
      [
        'rule.index out of range',
        oneResult({ rule: { index: 9 } }),
        'runs[0].results[0].rule.index',
        'must refer to one of the 2 entries of runs[0].tool.driver.rules',
      ],
      [
        'a toolComponent index out of range',
        oneResult({ rule: { id: 'R1', toolComponent: { index: 0 } } }),
        'runs[0].results[0].rule.toolComponent.index',
        'must refer to one of the 0 entries of runs[0].tool.extensions',
      ],
      [
        'an unknown kind',
        oneResult({ kind: 'broken' }),
        'runs[0].results[0].kind',
        'must be one of pass, open, informational, notApplicable, review, fail',
      ],
      [
        'an unknown level',
        oneResult({ level: 'fatal' }),
        'runs[0].results[0].level',
        'must be one of none, note, warning, error',
      ],
      [
        'no message',
        oneResult({ message: undefined as unknown as Json }),
        'runs[0].results[0].message',
        'is required',
      ],
      [
        'a message without text or id',
        oneResult({ message: {} }),
        'runs[0].results[0].message',
        'must have a text or an id',
      ],
      [
        'a message text with NUL',
        oneResult({ message: { text: 'a\u0000' } }),
        'runs[0].results[0].message.text',
        'must not contain NUL characters',
      ],
      [
        'a message text with a lone surrogate',
        oneResult({ message: { text: 'a\ud800b' } }),
        'runs[0].results[0].message.text',
        'must be well-formed Unicode',
      ],
      [
        'arguments that are not strings',
        oneResult({ message: { text: '{0}', arguments: [1] } }),
        'runs[0].results[0].message.arguments[0]',
        'must be a string',
      ],
      [
        'an unknown message id',
        oneResult({ message: { id: 'nope' } }),
        'runs[0].results[0].message.id',
        "names no entry of the rule's messageStrings or the tool's globalMessageStrings",
      ],
      [
        'suppressions as an object',
        oneResult({ suppressions: {} }),
        'runs[0].results[0].suppressions',
        'must be an array',
      ],
      [
        'an unknown suppression status',
        oneResult({ suppressions: [{ kind: 'inSource', status: 'maybe' }] }),
        'runs[0].results[0].suppressions[0].status',
        'must be one of accepted, underReview, rejected',
      ],
      [
        'locations as a string',
        oneResult({ locations: 'here' }),
        'runs[0].results[0].locations',
        'must be an array',
      ],
      [
        'a uri of 1001 characters',
        oneResult({
          locations: [{ physicalLocation: { artifactLocation: { uri: 'u'.repeat(1001) } } }],
        }),
        'runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri',
        'must be at most 1000 characters',
      ],
      [
        'a uri with NUL',
        oneResult({
          locations: [{ physicalLocation: { artifactLocation: { uri: 'a\u0000.c' } } }],
        }),
        'runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri',
        'must not contain NUL characters',
      ],
      [
        'a start line of 0',
        oneResult({
          locations: [
            { physicalLocation: { artifactLocation: { uri: 'a.c' }, region: { startLine: 0 } } },
          ],
        }),
        'runs[0].results[0].locations[0].physicalLocation.region.startLine',
        'must be an integer of 1 or more',
      ],
      [
        'an artifact index out of range',
        oneResult(
          { locations: [{ physicalLocation: { artifactLocation: { index: 3 } } }] },
          {},
          { artifacts: [{ location: { uri: 'a.c' } }] },
        ),
        'runs[0].results[0].locations[0].physicalLocation.artifactLocation.index',
        'must refer to one of the 1 entries of runs[0].artifacts',
      ],
      [
        'a logical name with NUL',
        oneResult({ locations: [{ logicalLocations: [{ fullyQualifiedName: 'a\u0000' }] }] }),
        'runs[0].results[0].locations[0].logicalLocations[0].fullyQualifiedName',
        'must not contain NUL characters',
      ],
      [
        'a fingerprint that is no string',
        oneResult({ partialFingerprints: { primaryLocationLineHash: 1 } }),
        'runs[0].results[0].partialFingerprints[primaryLocationLineHash]',
        'must be a string',
      ],
      [
        'fingerprints as an array',
        oneResult({ fingerprints: ['a'] }),
        'runs[0].results[0].fingerprints',
        'must be an object',
      ],
    ];

    it.each(cases)('refuses %s', (_name, document, field, description) => {
      expect(violationsOf(document)).toEqual([{ field, description }]);
    });

    it('refuses more than 20 runs', () => {
      const runs = Array.from({ length: SARIF_LIMITS.maxRuns + 1 }, () => run({ name: 'x' }, []));
      expect(violationsOf(log(...runs))).toEqual([
        { field: 'runs', description: 'must have at most 20 runs' },
      ]);
      expect(parse(log(...runs.slice(1))).findings).toEqual([]);
    });

    function results(count: number, offset = 0): JsonObject[] {
      return Array.from({ length: count }, (_, i) => ({
        ruleId: 'R1',
        message: { text: `finding ${offset + i}` },
      }));
    }

    it('accepts 10,000 results and refuses 10,001 across runs', () => {
      const driver = { name: 'x', rules: [{ id: 'R1' }] };
      expect(
        parse(log(run(driver, results(6000)), run(driver, results(4000, 6000)))).findings,
      ).toHaveLength(10_000);
      expect(
        violationsOf(log(run(driver, results(6000)), run(driver, results(4001, 6000)))),
      ).toEqual([
        { field: 'runs[1].results', description: 'brings the log past 10000 results in all runs' },
      ]);
    });

    it('refuses more than 20,000 rules across tool components', () => {
      const rules = (count: number) => Array.from({ length: count }, (_, i) => ({ id: `R${i}` }));
      const tool = {
        driver: { name: 'x', rules: rules(10_000) },
        extensions: [{ name: 'p', rules: rules(10_001) }],
      };
      expect(violationsOf(log({ tool, results: [] }))).toEqual([
        {
          field: 'runs[0].tool',
          description: 'brings the log past 20000 rules in all runs and tool components',
        },
      ]);
    });

    it('lists every violation of a log at once', () => {
      const document = log(
        run({ name: '' }, [
          { message: { text: 'x' } },
          { ruleId: 'R', level: 'loud', message: {} },
        ]),
      );
      document.version = '2.0';
      expect(violationsOf(document)).toEqual([
        { field: 'version', description: 'must be "2.1.0"' },
        { field: 'runs[0].tool.driver.name', description: 'must not be empty' },
        {
          field: 'runs[0].results[0].ruleId',
          description: expect.stringContaining('is required') as unknown as string,
        },
        {
          field: 'runs[0].results[1].level',
          description: 'must be one of none, note, warning, error',
        },
        { field: 'runs[0].results[1].message', description: 'must have a text or an id' },
      ]);
    });

    it('stops at 100 violations', () => {
      const bad = Array.from({ length: 500 }, () => ({ message: { text: 'no rule' } }));
      const violations = violationsOf(log(run({ name: 'x' }, bad)));
      expect(violations).toHaveLength(100);
      expect(violations[99].field).toBe('runs[0].results[99].ruleId');
    });

    it('is a ValidationError carrying the violations as field violations', () => {
      try {
        parse(oneResult({ ruleIndex: 7 }));
        throw new Error('accepted');
      } catch (error) {
        expect(error).toBeInstanceOf(SarifError);
        const refusal = error as SarifError;
        expect(refusal.kind).toBe('INVALID_ARGUMENT');
        expect(refusal.fieldViolations).toEqual(refusal.violations);
        expect(refusal.message).toContain('runs[0].results[0].ruleIndex');
      }
    });
  });

  describe('hostile input', () => {
    it('does not let __proto__ keys reach any prototype', () => {
      const text = JSON.stringify(oneResult({ properties: { x: 1 } })).replace(
        '"properties":{"x":1}',
        '"properties":{"__proto__":{"polluted":"yes","security-severity":"9.9"}},"__proto__":{"ruleId":"EVIL","level":"note"}',
      );
      const finding = only(parseSarif(text));
      expect(finding).toMatchObject({ ruleId: 'R1', severity: 'medium' });
      expect(finding.cvssScore).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('ruleId');
    });

    it('survives property bags nested 100,000 levels deep', () => {
      const deep = `${'{"a":['.repeat(100_000)}"CVE-2024-0001"${']}'.repeat(100_000)}`;
      const text = JSON.stringify(oneResult({ properties: { x: 1 } })).replace('{"x":1}', deep);
      expect(only(parseSarif(text)).cveIds).toEqual([]); // past the scan budget: not read, not a crash
      const shallow = JSON.stringify(oneResult({ properties: { x: 1 } })).replace(
        '{"x":1}',
        `${'{"a":['.repeat(50)}"CVE-2024-0001"${']}'.repeat(50)}`,
      );
      expect(only(parseSarif(shallow)).cveIds).toEqual(['CVE-2024-0001']);
    });

    it('returns findings that hold every invariant, or refuses with SarifError, for 2,000 mutated logs', () => {
      const random = seededRandom(0x5a41f);
      const bases = [
        codeql(),
        trivy(),
        semgrep(),
        zapLike(),
        oneResult(
          { message: { id: 'm', arguments: ['a'] } },
          { rules: [{ id: 'R1', messageStrings: { m: { text: '{0}/{1}' } } }] },
        ),
      ];
      let accepted = 0;
      let refused = 0;
      for (let i = 0; i < 2000; i++) {
        const document = structuredClone(bases[i % bases.length]) as Json;
        const mutations = 1 + Math.floor(random() * 3);
        let mutated = document;
        for (let m = 0; m < mutations; m++) mutated = mutate(mutated, random);
        const text = JSON.stringify(mutated) ?? 'undefined';
        const input = random() < 0.5 ? text : Buffer.from(text);
        let imported: SarifImport;
        try {
          imported = parseSarif(input);
        } catch (error) {
          if (!(error instanceof SarifError)) {
            throw new Error(`case ${i}: ${String(error)} for ${text.slice(0, 300)}`);
          }
          expect(error.violations.length).toBeGreaterThan(0);
          expect(error.violations.length).toBeLessThanOrEqual(100);
          refused++;
          continue;
        }
        accepted++;
        expectWellFormed(imported);
      }
      // Both paths exercised, or the test proves little.
      expect(accepted).toBeGreaterThan(200);
      expect(refused).toBeGreaterThan(200);
    });
  });
});

const SEVERITIES = ['low', 'medium', 'high', 'critical'];

function chars(value: string): number {
  return [...value].length;
}

function expectStorable(value: string, max: number): void {
  expect(typeof value).toBe('string');
  expect(chars(value)).toBeLessThanOrEqual(max);
  expect(value).not.toContain('\u0000');
  expect(hasLoneSurrogate(value)).toBe(false);
}

function expectWellFormed(imported: SarifImport): void {
  expect(Number.isSafeInteger(imported.skipped.suppressed)).toBe(true);
  expect(Number.isSafeInteger(imported.skipped.notFailing)).toBe(true);
  const fingerprints = new Set<string>();
  for (const finding of imported.findings) {
    expectStorable(finding.tool, SARIF_TEXT_LIMITS.toolChars);
    expect(finding.tool.length).toBeGreaterThan(0);
    expectStorable(finding.toolVersion, SARIF_TEXT_LIMITS.toolVersionChars);
    expectStorable(finding.ruleId, SARIF_TEXT_LIMITS.ruleIdChars);
    expect(finding.ruleId.length).toBeGreaterThan(0);
    expectStorable(finding.title, SARIF_TEXT_LIMITS.titleChars);
    expectStorable(finding.message, SARIF_TEXT_LIMITS.messageChars);
    // A uri, ':' and a line number.
    expectStorable(finding.location, SARIF_TEXT_LIMITS.uriChars + 17);
    expect(SEVERITIES).toContain(finding.severity);
    if (finding.cvssScore !== undefined) {
      expect(finding.cvssScore).toBeGreaterThanOrEqual(0);
      expect(finding.cvssScore).toBeLessThanOrEqual(10);
    }
    expect(finding.cveIds.length).toBeLessThanOrEqual(SARIF_TEXT_LIMITS.cveIds);
    for (const id of finding.cveIds) expect(id).toMatch(/^CVE-\d{4}-\d{4,19}$/);
    expect(new Set(finding.cveIds).size).toBe(finding.cveIds.length);
    expect(finding.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprints.has(finding.fingerprint)).toBe(false);
    fingerprints.add(finding.fingerprint);
    expect(finding.helpUri === '' || /^https?:\/\//i.test(finding.helpUri)).toBe(true);
    expectStorable(finding.helpUri, SARIF_TEXT_LIMITS.helpUriChars);
  }
}

// ---------------------------------------------------------------------------------------------
// Mutations for the property test: pick a value anywhere in the log and make it hostile.

function hostileValue(random: () => number): Json | undefined {
  const deep = (depth: number): Json => (depth === 0 ? 'CVE-2024-12345' : { d: [deep(depth - 1)] });
  const choices: (() => Json | undefined)[] = [
    () => null,
    () => [],
    () => ({}),
    () => [null, 1, 'x'],
    () => 1e308,
    () => -1,
    () => 1.5,
    () => 2 ** 53 + 2,
    () => 0,
    () => true,
    () => '',
    () => 'x'.repeat(5000),
    () => '😀'.repeat(3000),
    () => 'a\u0000b',
    () => '\ud800',
    () => '{0}{1}{{}}{99}',
    () => 'error',
    () => 'pass',
    () => 'CVE-2021-44228 CVE-2020-0001',
    () => 'javascript:alert(1)',
    () => '9.8',
    () => deep(500),
    () => JSON.parse('{"__proto__": {"polluted": true}}') as Json,
    () => undefined, // delete the key
  ];
  return choices[Math.floor(random() * choices.length)]();
}

/** Replaces one value (or the whole document) chosen uniformly among every value of the tree. */
function mutate(document: Json, random: () => number): Json {
  const slots: { parent: Json[] | JsonObject; key: string | number }[] = [];
  const visit = (value: Json) => {
    if (Array.isArray(value)) {
      value.forEach((child, index) => {
        slots.push({ parent: value, key: index });
        visit(child);
      });
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        slots.push({ parent: value, key });
        visit(child);
      }
    }
  };
  visit(document);
  const pick = Math.floor(random() * (slots.length + 1));
  const replacement = hostileValue(random);
  if (pick === slots.length) return replacement ?? null;
  const { parent, key } = slots[pick];
  if (Array.isArray(parent)) {
    const index = key as number;
    if (replacement === undefined) parent.splice(index, 1);
    else parent[index] = replacement;
  } else if (replacement === undefined) {
    delete parent[key as string];
  } else if (random() < 0.2) {
    // Sometimes add a sibling instead, including keys SARIF readers look up.
    const name = ['__proto__', 'constructor', 'ruleIndex', 'level', 'kind', 'suppressions'][
      Math.floor(random() * 6)
    ];
    Object.defineProperty(parent, name, {
      value: replacement,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    parent[key as string] = replacement;
  }
  return document;
}
