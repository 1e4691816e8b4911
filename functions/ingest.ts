import { app, InvocationContext, Timer } from '@azure/functions';
import { archiver } from '../shared/composition';
import { emitMetric } from '../shared/observability/metrics';

// Plans the next capture windows and hands each to the export poller.
export async function ingest(timer: Timer, context: InvocationContext): Promise<void> {
  const { planner } = await archiver();
  const result = await planner.planDue();
  if (result.capturedThrough) {
    const lagHours = Math.round(((Date.now() - Date.parse(result.capturedThrough)) / 3_600_000) * 100) / 100;
    emitMetric(context, 'capture.lagHours', lagHours);
  }
  context.log(JSON.stringify({ event: 'ingest.planned', stage: 'ingest', isPastDue: timer.isPastDue, windows: result.planned.map((w) => w.windowId), inFlight: result.inFlight, capturedThrough: result.capturedThrough }));
}

app.timer('ingest', { schedule: '%INGEST_SCHEDULE%', handler: ingest });
