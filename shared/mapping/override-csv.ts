import { Readable, Transform } from 'node:stream';
import { parse, type Info } from 'csv-parse';
import { isPlausibleEmail } from '../email-address';
import { SKIP, type MappingOverride } from './mapping-overrides';

export interface CsvProblem {
  line: number;
  error: string;
}

export interface ParsedOverrides {
  overrides: MappingOverride[];
  /** The first MAX_PROBLEMS problems, by line. */
  problems: CsvProblem[];
  problemCount: number;
}

export const CSV_COLUMNS = ['email', 'mailbox', 'note'] as const;
const REQUIRED = ['email', 'mailbox'];
const MAX_ROWS = 50_000;
const MAX_PROBLEMS = 100;
const MAX_EMAIL = 254;
const MAX_NOTE = 1_000;

/**
 * Reads an override CSV (header `email,mailbox` and an optional `note` column, in any order) record
 * by record and checks every row. Line numbers are the file's lines, the header being line 1.
 */
export async function parseOverridesCsv(
  source: Readable | AsyncIterable<Uint8Array | string>,
): Promise<ParsedOverrides> {
  const result: ParsedOverrides = { overrides: [], problems: [], problemCount: 0 };
  const problem = (line: number, error: string) => {
    result.problemCount++;
    if (result.problems.length < MAX_PROBLEMS) result.problems.push({ line, error });
  };
  const parser = parse({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    info: true,
    max_record_size: 64 * 1024,
  });
  const input = source instanceof Readable ? source : Readable.from(source);
  const lineEnds = crlfToLf();
  input.on('error', (err) => lineEnds.destroy(err));
  lineEnds.on('error', (err) => parser.destroy(err));
  input.pipe(lineEnds).pipe(parser);

  let header: string[] | undefined;
  const firstLineOf = new Map<string, number>();
  // info.lines is where a record ends; a quoted field can span lines, and the line reported is where it starts.
  let previous = { lines: 0, emptyLines: 0 };
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      const line = previous.lines + 1 + (info.empty_lines - previous.emptyLines);
      previous = { lines: info.lines, emptyLines: info.empty_lines };
      if (!header) {
        header = record.map((h) => h.toLowerCase());
        const unknown = header.filter((h) => !(CSV_COLUMNS as readonly string[]).includes(h));
        const missing = REQUIRED.filter((h) => !header!.includes(h));
        const repeated = header.filter((h, i) => header!.indexOf(h) !== i);
        if (unknown.length || missing.length || repeated.length) {
          problem(
            line,
            `the header must be email,mailbox with an optional note column${describe('unknown', unknown.map(quoted))}${describe('missing', missing)}${describe('repeated', repeated)}`,
          );
          break;
        }
        continue;
      }
      if (result.overrides.length + result.problemCount >= MAX_ROWS) {
        problem(line, `more than ${MAX_ROWS} rows; split the file`);
        break;
      }
      if (record.length !== header.length) {
        problem(line, `expected ${header.length} fields, found ${record.length}`);
        continue;
      }
      const field = (name: string) => record[header!.indexOf(name)] ?? '';
      const checked = checkRow(field('email'), field('mailbox'), header.includes('note') ? field('note') : '');
      if (typeof checked === 'string') {
        problem(line, checked);
        continue;
      }
      const earlier = firstLineOf.get(checked.email);
      if (earlier !== undefined) {
        problem(line, `${checked.email} is already on line ${earlier}`);
        continue;
      }
      firstLineOf.set(checked.email, line);
      result.overrides.push(checked);
    }
  } catch (err) {
    const line = (err as { lines?: number }).lines ?? 0;
    problem(line, `not readable as CSV: ${(err as Error).message}`);
  } finally {
    input.destroy();
    lineEnds.destroy();
  }
  if (!header && result.problemCount === 0) problem(1, 'empty file: the first line must be the header email,mailbox');
  return result;
}

/**
 * csv-parse counts a CRLF inside a quoted field as two lines, which would shift every later line
 * number; line ends are made LF first (a note keeps its line breaks, as LF).
 */
function crlfToLf(): Transform {
  let pendingCr = false;
  return new Transform({
    transform(chunk: Buffer | string, _encoding, done) {
      let text = Buffer.isBuffer(chunk) ? chunk.toString('latin1') : Buffer.from(chunk).toString('latin1');
      if (pendingCr) text = `\r${text}`;
      pendingCr = text.endsWith('\r');
      if (pendingCr) text = text.slice(0, -1);
      done(null, Buffer.from(text.replace(/\r\n/g, '\n'), 'latin1'));
    },
    flush(done) {
      done(null, pendingCr ? Buffer.from('\r') : undefined);
    },
  });
}

function checkRow(rawEmail: string, rawMailbox: string, note: string): MappingOverride | string {
  const email = rawEmail.toLowerCase();
  const mailbox = rawMailbox.toLowerCase();
  if (!email) return 'email is empty';
  if (email.length > MAX_EMAIL || !isPlausibleEmail(email)) return `email ${quoted(rawEmail)} is not a valid address`;
  if (!mailbox) return `mailbox is empty (use "${SKIP}" to exclude ${email})`;
  if (mailbox !== SKIP && (mailbox.length > MAX_EMAIL || !isPlausibleEmail(mailbox)))
    return `mailbox ${quoted(rawMailbox)} is not a valid address or "${SKIP}"`;
  if (note.length > MAX_NOTE) return `note is longer than ${MAX_NOTE} characters`;
  return { email, mailbox, ...(note ? { note } : {}) };
}

// Echoes bad input back shortened and without control characters.
function quoted(value: string): string {
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return JSON.stringify(clean.length > 80 ? `${clean.slice(0, 80)}…` : clean);
}

function describe(what: string, names: string[]): string {
  return names.length ? `; ${what}: ${names.join(', ')}` : '';
}
