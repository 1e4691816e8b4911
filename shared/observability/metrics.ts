// Custom metrics as structured log events. The Functions host already ships every context.log
// line to Application Insights (the `traces` table), so a metric is one JSON line with
// event "customMetric": no SDK, no exporter, nothing to configure, and KQL charts it
// (docs/operations.md). Names are stable; dimensions never carry secrets or content.

export type MetricName =
  | 'items.captured'
  | 'items.invalid'
  | 'items.converted'
  | 'deliveries.queued'
  | 'deliveries.notDelivered'
  | 'deliveries.delivered'
  | 'deliveries.failed'
  | 'capture.lagHours'
  | 'deliveries.pending'
  | 'poison.messages';

export interface MetricLogger { log(...args: unknown[]): void }

export interface MetricEvent { event: 'customMetric'; name: MetricName; value: number; [dimension: string]: string | number }

export function metricEvent(name: MetricName, value: number, dimensions: Record<string, string | number | undefined> = {}): MetricEvent {
  const dims = Object.fromEntries(Object.entries(dimensions).filter(([, v]) => v !== undefined)) as Record<string, string | number>;
  return { ...dims, event: 'customMetric', name, value };
}

export function emitMetric(logger: MetricLogger, name: MetricName, value: number, dimensions?: Record<string, string | number | undefined>): void {
  logger.log(JSON.stringify(metricEvent(name, value, dimensions)));
}

/**
 * The metrics a finished queue stage reports, from its result. One call after a stage's work
 * (shared/pipeline/queue-stage.ts) covers captured, converted, delivered and failed.
 */
export function stageMetrics(stage: string, result: unknown, ids: { mailbox?: string } = {}): MetricEvent[] {
  const r = result as Record<string, unknown> | string | undefined;
  if (stage === 'unpack' && r && typeof r === 'object') {
    return [metricEvent('items.captured', num(r.converts)), metricEvent('items.invalid', num(r.invalid))];
  }
  if (stage === 'convert' && r && typeof r === 'object') {
    return [metricEvent('items.converted', 1), metricEvent('deliveries.queued', num(r.deliveries)), metricEvent('deliveries.notDelivered', num(r.notDelivered))];
  }
  if (stage === 'deliver' && typeof r === 'string') {
    if (r === 'delivered' || r === 'foundInMailbox') return [metricEvent('deliveries.delivered', 1, { mailbox: ids.mailbox, outcome: r })];
    if (r === 'failed') return [metricEvent('deliveries.failed', 1, { mailbox: ids.mailbox })];
  }
  return [];
}

/** Gauges taken from a status read: lag, pending and poison. */
export function statusMetrics(status: { capture: { lagHours?: number; retentionDays: number }; totals: { pending: number; failed: number }; queues: Record<string, { poison: number }> }): MetricEvent[] {
  const out: MetricEvent[] = [];
  if (status.capture.lagHours !== undefined) out.push(metricEvent('capture.lagHours', status.capture.lagHours, { retentionDays: status.capture.retentionDays }));
  out.push(metricEvent('deliveries.pending', status.totals.pending));
  for (const [queue, q] of Object.entries(status.queues)) out.push(metricEvent('poison.messages', q.poison, { queue }));
  return out;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
