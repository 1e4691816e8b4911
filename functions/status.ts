import { app, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { archiver } from '../shared/composition';
import { answer } from '../shared/operations/http-input';
import { statusMetrics } from '../shared/observability/metrics';

export async function status(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return answer(context, async () => {
    const a = await archiver();
    const report = await a.status.build();
    // Each status read is also a sample of the gauges (lag, pending, poison) for Application Insights.
    a.metrics.record(statusMetrics(report));
    return { status: 200, jsonBody: report, headers: { 'cache-control': 'no-store' } };
  });
}

app.http('status', { methods: ['GET'], authLevel: 'function', route: 'status', handler: status });
