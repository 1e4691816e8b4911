import { app, InvocationContext, Timer } from '@azure/functions';
import { archiver } from '../shared/composition';
import { lagSample } from '../shared/observability/metrics';

// Plans the next capture windows and hands each to the export poller.
export async function ingest(timer: Timer, context: InvocationContext): Promise<void> {
  const { planner, metrics, config } = await archiver();
  const result = await planner.planDue();
  if (result.capturedThrough) metrics.record([lagSample((Date.now() - Date.parse(result.capturedThrough)) / 3_600_000, config.capture.retentionDays)]);
  context.log(JSON.stringify({ event: 'ingest.planned', stage: 'ingest', isPastDue: timer.isPastDue, windows: result.planned.map((w) => w.windowId), inFlight: result.inFlight, capturedThrough: result.capturedThrough }));
}

app.timer('ingest', { schedule: '%INGEST_SCHEDULE%', handler: ingest });
