import { Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import type { ExportRequestInfo } from '../../../shared/ringcentral/export-records';
import { EXPORT_FOLDERS } from '../../../shared/ringcentral/export-records';
import type { ExportContent } from './export-content';

interface DatasetEntry {
  path: string;
  records: unknown[];
  size: number;
}

/**
 * One dataset zip, ready to stream: the record JSON of one `<folder>_<n>.json` is built only when
 * yazl reaches that entry, and entries are stored (not deflated) so the zip's size is known up
 * front for the task's `datasets[].size` and the download's Content-Length.
 */
export interface PreparedDataset {
  id: string;
  size: number;
  open(): NodeJS.ReadableStream;
}

export async function prepareDataset(
  id: string,
  content: ExportContent,
  requestInfo: ExportRequestInfo,
  recordsPerFile: number,
  mtime: Date,
): Promise<PreparedDataset> {
  const info = Buffer.from(JSON.stringify(requestInfo));
  const entries: DatasetEntry[] = [];
  for (const folder of EXPORT_FOLDERS) {
    const records = content[folder] as unknown[];
    // An empty folder still gets `<folder>_1.json` with no records, so readers see every folder.
    const parts = Math.max(1, Math.ceil(records.length / recordsPerFile));
    for (let n = 0; n < parts; n++) {
      const slice = records.slice(n * recordsPerFile, (n + 1) * recordsPerFile);
      entries.push({
        path: `${folder}/${folder}_${n + 1}.json`,
        records: slice,
        size: Buffer.byteLength(recordFileJson(slice)),
      });
    }
  }
  const build = (): { zip: ZipFile; size: Promise<number> } => {
    const zip = new ZipFile();
    zip.addBuffer(info, 'request_info.json', { compress: false, mtime });
    for (const entry of entries) {
      zip.addReadStreamLazy(entry.path, { compress: false, mtime, size: entry.size }, (cb) =>
        cb(null, Readable.from([Buffer.from(recordFileJson(entry.records))])),
      );
    }
    const size = new Promise<number>((resolve) =>
      (zip.end as (o: object, cb: (size: number) => void) => void)({}, resolve),
    );
    return { zip, size };
  };
  const probe = build();
  const size = await probe.size;
  // The probe only measured the size; drop its unread output.
  (probe.zip.outputStream as Readable).destroy();
  return { id, size, open: () => build().zip.outputStream };
}

function recordFileJson(records: unknown[]): string {
  return JSON.stringify({ records });
}
