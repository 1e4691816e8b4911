import { app, InvocationContext, Timer } from '@azure/functions';
import { archiver } from '../shared/composition';

// Plans the next capture windows and hands each to the export poller.
export async function ingest(timer: Timer, context: InvocationContext): Promise<void> {
  const { planner } = await archiver();
  const result = await planner.planDue();
  context.log(JSON.stringify({ event: 'ingest.planned', stage: 'ingest', isPastDue: timer.isPastDue, windows: result.planned.map((w) => w.windowId), inFlight: result.inFlight, capturedThrough: result.capturedThrough }));
}

app.timer('ingest', { schedule: '%INGEST_SCHEDULE%', handler: ingest });
