import type { ExportChat, ExportPost } from '../ringcentral/export-records';
import type { ArchiveMessage } from './archive-message';
import type { Participant } from './people-directory';
import { renderItem, type RenderInput } from './render-item';

export interface PostContext extends Partial<
  Omit<RenderInput, 'kind' | 'record' | 'version' | 'chat' | 'creator' | 'members' | 'guests'>
> {
  chat?: ExportChat;
  creator: Participant;
  members: Participant[];
  guests: Participant[];
}

/** A post and its context, as an email. */
export function renderPost(post: ExportPost, version: string, ctx: PostContext): ArchiveMessage {
  return renderItem({
    ...ctx,
    kind: 'post',
    folder: 'posts',
    record: post as unknown as RenderInput['record'],
    version,
  });
}
