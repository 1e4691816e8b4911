import type { Participant } from '../archive/people-directory';

/** Who receives one item: mailboxes to deliver to, and everyone else with the reason. */
export interface RecipientPlan {
  deliveries: Array<{ mailbox: string; userId: string; via: 'automatic' | 'override' | 'fallback' }>;
  notDelivered: Array<{ key: string; reason: string }>;
}

export interface RecipientContext {
  creatorId: string;
  /** Members of the chat(s) the item belongs to, for FANOUT_LIMIT. */
  chatMemberCount: number;
}

/** Maps an item's participants to mailboxes (automatic, overrides, fallback, fan-out limit). */
export interface RecipientPlanner {
  plan(participants: Participant[], context: RecipientContext): Promise<RecipientPlan>;
}
