// Loaded with `node -r` into the bench's host processes only (never in production): divides the
// archiver's Graph request-pacing window by BENCH_TIME_SCALE, in step with the Graph double's
// window, so a run of a few minutes meets the 10-minute ceiling. The per-window count is divided
// by the same factor, so the pacing *rate* (9,700 per 10 min) is unchanged; so is the reservation
// block, which is sized to what a mailbox spends in one bucket.
import { GRAPH_PACING } from '../shared/delivery/mailbox-pacer';

const scale = Number(process.env.BENCH_TIME_SCALE ?? '1');
if (scale > 1) {
  GRAPH_PACING.requestsPerWindow = Math.floor(GRAPH_PACING.requestsPerWindow / scale);
  GRAPH_PACING.requestWindowMs = Math.round(GRAPH_PACING.requestWindowMs / scale);
  GRAPH_PACING.requestBlock = Math.max(1, Math.round((GRAPH_PACING.requestBlock ?? 50) / scale));
}
