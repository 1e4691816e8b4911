import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';
import type { StorageAccount } from './storage-account';
import type { ContainerName } from './names';
import { isAlreadyExists, isNotFound } from './storage-errors';

/**
 * Write-once blob access. Archive blobs are never overwritten: a second write of the same
 * name is a no-op, which is what makes re-running a stage safe.
 */
export class ArchiveBlobs {
  constructor(private readonly account: StorageAccount) {}

  async putJsonOnce(container: ContainerName, name: string, value: unknown): Promise<'created' | 'exists'> {
    const body = JSON.stringify(value);
    try {
      await this.account
        .container(container)
        .getBlockBlobClient(name)
        .upload(body, Buffer.byteLength(body), {
          conditions: { ifNoneMatch: '*' },
          blobHTTPHeaders: { blobContentType: 'application/json; charset=utf-8' },
        });
      return 'created';
    } catch (err) {
      if (isAlreadyExists(err)) return 'exists';
      throw err;
    }
  }

  async putTextOnce(
    container: ContainerName,
    name: string,
    text: string,
    contentType: string,
  ): Promise<'created' | 'exists'> {
    try {
      await this.account
        .container(container)
        .getBlockBlobClient(name)
        .upload(text, Buffer.byteLength(text), {
          conditions: { ifNoneMatch: '*' },
          blobHTTPHeaders: { blobContentType: contentType },
        });
      return 'created';
    } catch (err) {
      if (isAlreadyExists(err)) return 'exists';
      throw err;
    }
  }

  /** Streams into a blob in blocks; memory stays at a few blocks whatever the size. */
  async putStream(
    container: ContainerName,
    name: string,
    stream: Readable,
    contentType: string,
    metadata?: Record<string, string>,
  ): Promise<void> {
    await this.account
      .container(container)
      .getBlockBlobClient(name)
      .uploadStream(stream, 4 * 1024 * 1024, 4, {
        blobHTTPHeaders: { blobContentType: contentType },
        metadata,
      });
  }

  /**
   * Streams into a blob and records its SHA-256 in the metadata once every byte is in, as the
   * `files` container expects of a complete file (shared/capture/file-capture.ts).
   */
  async putStreamHashed(
    container: ContainerName,
    name: string,
    stream: Readable,
    contentType: string,
  ): Promise<{ size: number; sha256: string }> {
    const hash = createHash('sha256');
    let size = 0;
    const counted = new PassThrough();
    counted.on('data', (chunk: Buffer) => {
      size += chunk.length;
      hash.update(chunk);
    });
    stream.on('error', (err) => counted.destroy(err));
    stream.pipe(counted);
    const blob = this.account.container(container).getBlockBlobClient(name);
    await blob.uploadStream(counted, 4 * 1024 * 1024, 4, { blobHTTPHeaders: { blobContentType: contentType } });
    const sha256 = hash.digest('hex');
    await blob.setMetadata({ sha256 });
    return { size, sha256 };
  }

  /** The SHA-256 a complete file carries in its metadata; undefined when absent or incomplete. */
  async sha256Of(container: ContainerName, name: string): Promise<string | undefined> {
    try {
      const props = await this.account.container(container).getBlockBlobClient(name).getProperties();
      return props.metadata?.sha256;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Streams into a blob that must not exist yet; an existing blob is kept as it is. */
  async putStreamOnce(
    container: ContainerName,
    name: string,
    stream: Readable,
    contentType: string,
  ): Promise<'created' | 'exists'> {
    try {
      await this.account
        .container(container)
        .getBlockBlobClient(name)
        .uploadStream(stream, 4 * 1024 * 1024, 4, {
          blobHTTPHeaders: { blobContentType: contentType },
          conditions: { ifNoneMatch: '*' },
        });
      return 'created';
    } catch (err) {
      if (isAlreadyExists(err)) {
        stream.destroy();
        return 'exists';
      }
      throw err;
    }
  }

  /** One GET (downloadToBuffer would first send a HEAD for the size: twice the transactions). */
  async getJson<T>(container: ContainerName, name: string): Promise<T> {
    const response = await this.account.container(container).getBlockBlobClient(name).download(0);
    const chunks: Buffer[] = [];
    for await (const chunk of response.readableStreamBody as Readable) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
  }

  /** A streaming reader of a blob, from `offset` to the end. */
  async openRead(container: ContainerName, name: string, offset = 0): Promise<Readable> {
    const response = await this.account.container(container).getBlockBlobClient(name).download(offset);
    return response.readableStreamBody as Readable;
  }

  async delete(container: ContainerName, name: string): Promise<void> {
    await this.account.container(container).getBlockBlobClient(name).deleteIfExists();
  }

  async exists(container: ContainerName, name: string): Promise<boolean> {
    return this.account.container(container).getBlockBlobClient(name).exists();
  }

  async size(container: ContainerName, name: string): Promise<number> {
    const props = await this.account.container(container).getBlockBlobClient(name).getProperties();
    return props.contentLength ?? 0;
  }

  /** Reads `count` bytes at `offset`: the building block of random-access zip reading. */
  async readRange(
    container: ContainerName,
    name: string,
    offset: number,
    count: number,
  ): Promise<NodeJS.ReadableStream> {
    const response = await this.account.container(container).getBlockBlobClient(name).download(offset, count);
    return response.readableStreamBody!;
  }

  async listNames(container: ContainerName, prefix: string): Promise<string[]> {
    const names: string[] = [];
    for await (const blob of this.account.container(container).listBlobsFlat({ prefix })) names.push(blob.name);
    return names;
  }
}
