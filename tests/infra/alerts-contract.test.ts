import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { SETTINGS } from '../../shared/config';
import { repoRoot } from '../support/repo-root';

// The alert rules and the workbook run the queries in infra/alerts/*.kql and infra/workbook/*.kql;
// docs/operations.md shows the same text. .ci/check-template.js checks the compiled template runs
// exactly these files; this test holds the docs, the Bicep and the code's names to them.
const read = (p: string) => readFileSync(resolve(repoRoot, p), 'utf8');
const kqlFiles = (dir: string) =>
  readdirSync(resolve(repoRoot, dir))
    .filter((f) => f.endsWith('.kql'))
    .sort();

function kustoBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```kusto\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

test('there is one alert rule for each condition the issue names', () => {
  assert.deepEqual(kqlFiles('infra/alerts'), [
    'capture-lag.kql',
    'failed-deliveries.kql',
    'no-window-captured.kql',
    'poison-messages.kql',
  ]);
});

test('docs/operations.md shows every alert and workbook query exactly as deployed', () => {
  const blocks = kustoBlocks(read('docs/operations.md'));
  for (const dir of ['infra/alerts', 'infra/workbook']) {
    for (const file of kqlFiles(dir)) {
      const kql = read(`${dir}/${file}`);
      assert.equal(
        blocks.filter((b) => b === kql).length,
        1,
        `${dir}/${file} is not shown verbatim (once) in docs/operations.md`,
      );
      assert.ok(
        read('docs/operations.md').includes(`\`${dir}/${file}\``) || dir === 'infra/workbook',
        `docs name ${dir}/${file}`,
      );
    }
  }
});

test('the Bicep loads every query file once, and no query of its own', () => {
  const bicep = read('infra/app/alerts.bicep');
  const loaded = [...bicep.matchAll(/loadTextContent\('\.\.\/(alerts|workbook)\/([^']+)'\)/g)]
    .map((m) => `infra/${m[1]}/${m[2]}`)
    .sort();
  const files = [
    ...kqlFiles('infra/alerts').map((f) => `infra/alerts/${f}`),
    ...kqlFiles('infra/workbook').map((f) => `infra/workbook/${f}`),
  ].sort();
  assert.deepEqual(loaded, files);
  assert.doesNotMatch(bicep, /query:\s*'/, 'a query written inline would escape the docs check');
  assert.match(read('infra/main.bicep'), /module alerts 'app\/alerts\.bicep'/);
});

test('the queries use metric names the code records and the poison threshold of host.json', () => {
  const metricsSource = read('shared/observability/metrics.ts');
  const recorded = new Set([...metricsSource.matchAll(/^\s+'([a-zA-Z]+\.[a-zA-Z]+)':/gm)].map((m) => m[1]!));
  assert.ok(
    recorded.has('capture.lagHours') && recorded.has('poison.messages'),
    'read the metric names from metrics.ts',
  );
  for (const dir of ['infra/alerts', 'infra/workbook']) {
    for (const file of kqlFiles(dir)) {
      const kql = read(`${dir}/${file}`);
      const single = [...kql.matchAll(/\bname == '([^']+)'/g)].map((m) => m[1]!);
      const lists = [...kql.matchAll(/\bname in \(([^)]*)\)/g)].flatMap((m) =>
        [...m[1]!.matchAll(/'([^']+)'/g)].map((n) => n[1]!),
      );
      const names = [...single, ...lists];
      assert.ok(names.length > 0 || !kql.includes('customMetrics'), `${dir}/${file}: no metric name found`);
      for (const name of names)
        assert.ok(
          recorded.has(name),
          `${dir}/${file} reads metric ${name}, which shared/observability/metrics.ts does not record`,
        );
    }
  }
  const host = JSON.parse(read('host.json')) as { extensions: { queues: { maxDequeueCount: number } } };
  assert.match(
    read('infra/alerts/poison-messages.kql'),
    new RegExp(`toint\\(m\\.dequeueCount\\) >= ${host.extensions.queues.maxDequeueCount}\\b`),
  );
  // The stage log line the poison query parses: `${stage}.failed` with stage and dequeueCount.
  const stage = read('shared/pipeline/queue-stage.ts');
  assert.match(stage, /event: `\$\{stage\}\.failed`, \.\.\.ids/);
  assert.match(stage, /const ids[^=]*= \{\s*stage,[^}]*dequeueCount:/);
});

test('every log line reaches Application Insights: traces are kept out of sampling', () => {
  // The README promises every stage's log line, and the poison alert counts `traces` rows.
  assert.match(read('infra/alerts/poison-messages.kql'), /\(traces\b/);
  const host = JSON.parse(read('host.json')) as {
    logging: { applicationInsights: { samplingSettings?: { isEnabled?: boolean; excludedTypes?: string } } };
  };
  const sampling = host.logging.applicationInsights.samplingSettings;
  if (sampling?.isEnabled === false) return;
  const excluded = (sampling?.excludedTypes ?? '').split(';').map((t) => t.trim());
  assert.ok(excluded.includes('Trace'), `host.json samples traces (excludedTypes: ${sampling?.excludedTypes})`);
});

test('ingestPeriodMinutes defaults to the period of the default INGEST_SCHEDULE', () => {
  const schedule = CronExpressionParser.parse(SETTINGS.INGEST_SCHEDULE.default, {
    tz: 'UTC',
    currentDate: new Date('2026-01-01T00:00:00Z'),
  });
  const first = schedule.next().getTime();
  const periodMinutes = (schedule.next().getTime() - first) / 60_000;
  assert.equal(periodMinutes, 60);
  assert.match(read('infra/main.bicep'), new RegExp(`param ingestPeriodMinutes int = ${periodMinutes}\\n`));
  const parameters = JSON.parse(read('infra/main.parameters.json')) as {
    parameters: Record<string, { value: string }>;
  };
  assert.equal(parameters.parameters.ingestPeriodMinutes?.value, `\${INGEST_PERIOD_MINUTES=${periodMinutes}}`);
  assert.equal(parameters.parameters.alertEmail?.value, '${ALERT_EMAIL}');
});

test('without ALERT_EMAIL there is no action group and the rules notify nobody', () => {
  const bicep = read('infra/app/alerts.bicep');
  assert.match(bicep, /resource actionGroup '[^']+' = if \(!empty\(alertEmail\)\)/);
  assert.match(bicep, /actionGroups: empty\(alertEmail\) \? \[\] : \[actionGroup\.id\]/);
});
