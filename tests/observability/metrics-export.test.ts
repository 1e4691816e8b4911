import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { runPipeline, FUNCTION_KEY, ADMIN_KEY, type Pipeline } from '../operations/fixture';
import { ensureDevCertificate } from '../../dev/certs';
import {
  startApplicationInsightsDouble,
  type ApplicationInsightsDouble,
} from '../../dev/doubles/application-insights/server';

// Custom metrics leave the worker through OpenTelemetry and the Azure Monitor exporter, and arrive
// at an Application Insights ingestion double as Breeze envelopes: what the customMetrics table
// would hold. The counts must equal what /api/status reports for the same run.

let ai: ApplicationInsightsDouble;
let p: Pipeline;
let status: {
  totals: {
    captured: number;
    invalid: number;
    converted: number;
    delivered: number;
    notDelivered: number;
    pending: number;
  };
  capture: { lagHours?: number; retentionDays: number };
};
let hostStopped = false;

const sum = (name: string) => ai.metrics(name).reduce((n, m) => n + m.value, 0);

before(async () => {
  ai = await startApplicationInsightsDouble({
    tls: await ensureDevCertificate('.local/certs'),
    instrumentationKey: randomUUID(),
  });
  p = await runPipeline({
    settings: {
      APPLICATIONINSIGHTS_CONNECTION_STRING: ai.connectionString,
      METRICS_EXPORT_SECONDS: '1',
      // The exporter's own SDK statistics go to Microsoft endpoints this machine cannot reach.
      APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
    },
  });
  const res = await fetch(`${p.host.url}/api/status`, { headers: { 'x-functions-key': FUNCTION_KEY } });
  assert.equal(res.status, 200);
  status = (await res.json()) as typeof status;
  // Stopping the host runs the app's appTerminate hook, which flushes the last interval.
  await p.host.stop();
  hostStopped = true;
});

after(async () => {
  if (!hostStopped) await p?.host.stop();
  await p?.env.stop();
  await ai?.close();
});

test('every envelope is a well-formed metric for this resource; nothing was refused', () => {
  assert.ok(ai.stats.requests > 0, 'the exporter sent to the ingestion endpoint');
  assert.equal(ai.stats.rejectedItems, 0);
  const names = new Set(ai.envelopes.map((e) => e.name));
  assert.deepEqual([...names], ['Microsoft.ApplicationInsights.Metric']);
  for (const e of ai.envelopes) assert.equal(e.iKey, ai.instrumentationKey);
});

test('counters equal the status totals of the same run', () => {
  assert.equal(status.totals.captured, 13);
  assert.equal(sum('items.captured'), status.totals.captured);
  assert.equal(sum('items.invalid'), status.totals.invalid);
  assert.equal(sum('items.converted'), status.totals.converted);
  assert.equal(sum('deliveries.delivered'), status.totals.delivered);
  assert.equal(sum('deliveries.notDelivered'), status.totals.notDelivered);
  assert.equal(sum('deliveries.queued'), status.totals.delivered);
  assert.equal(sum('deliveries.failed'), 0);
});

test('delivered counts carry the mailbox, so failing mailboxes can be charted', () => {
  const byMailbox = new Map<string, number>();
  for (const m of ai.metrics('deliveries.delivered'))
    byMailbox.set(m.properties.mailbox!, (byMailbox.get(m.properties.mailbox!) ?? 0) + m.value);
  // 6 direct-chat posts + the edit to alice and bob; 6 team posts to alice, bob and carol.
  assert.deepEqual(Object.fromEntries([...byMailbox].sort()), {
    'alice@ops.example': 13,
    'bob@ops.example': 13,
    'carol@ops.example': 6,
  });
});

test('gauges: capture lag against retention and pending deliveries', () => {
  const lag = ai.metrics('capture.lagHours');
  assert.ok(lag.length > 0, 'capture.lagHours exported');
  assert.equal(lag.at(-1)!.properties.retentionDays, String(status.capture.retentionDays));
  assert.ok(
    Math.abs(lag.at(-1)!.value - status.capture.lagHours!) < 0.1,
    `lag ${lag.at(-1)!.value} vs status ${status.capture.lagHours}`,
  );
  const pending = ai.metrics('deliveries.pending');
  assert.ok(pending.length > 0, 'deliveries.pending exported');
  assert.equal(pending.at(-1)!.value, status.totals.pending);
  const poison = ai.metrics('poison.messages');
  assert.ok(poison.length > 0 && poison.every((m) => m.value === 0 && m.properties.queue), 'poison gauge per queue');
});

test('no secret, key or message text is sent to Application Insights', () => {
  const everything = ai.bodies.join('\n');
  const settings = p.env.settings;
  for (const secret of [
    settings.RINGCENTRAL_CLIENT_SECRET!,
    settings.RINGCENTRAL_JWT!,
    settings.GRAPH_CLIENT_SECRET!,
    FUNCTION_KEY,
    ADMIN_KEY,
  ]) {
    assert.ok(!everything.includes(secret), 'a secret reached the telemetry');
  }
  for (const post of p.posts) assert.ok(!everything.includes(post.text!), 'post text reached the telemetry');
});
