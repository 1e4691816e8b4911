import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAzurite, type RunningAzurite } from '../../dev/azurite';
import { StorageAccount } from '../../shared/store/storage-account';
import { TABLES } from '../../shared/store/names';
import { tableKey } from '../../shared/store/keys';
import { MailboxRecipientPlanner, type RecipientPlannerOptions } from '../../shared/mapping/recipient-planner';
import { MappingOverrides } from '../../shared/mapping/mapping-overrides';
import type { RecipientPlan } from '../../shared/mapping/recipient-plan';
import { StubDirectory, guest, member, user } from './helpers';

// The planner against real Table storage (Azurite) with a stub directory port.
let azurite: RunningAzurite;
let account: StorageAccount;
let directory: StubDirectory;

const USERS = {
  'alice@x.example': user('u-alice', 'alice@x.example'),
  'bob@x.example': user('u-bob', 'bob@x.example'),
  'carol@x.example': user('u-carol', 'carol@x.example'),
  'dora@x.example': user('u-dora', 'dora@x.example', false),
  'archive@x.example': user('u-archive', 'archive@x.example'),
  'legal@x.example': user('u-legal', 'legal@x.example'),
  "o'brien@x.example": user('u-obrien', "o'brien@x.example"),
  // An alias that resolves to a user whose primary address differs.
  'al@x.example': user('u-alice', 'alice@x.example'),
};

const ctx = (creatorId: string, chatMemberCount = 3) => ({ creatorId, chatMemberCount });
const planner = (options: Partial<RecipientPlannerOptions> = {}) =>
  new MailboxRecipientPlanner(account, directory, { ttlHours: 24, fanoutLimit: 0, ...options });
const mailboxes = (plan: RecipientPlan) => plan.deliveries.map((d) => `${d.mailbox}|${d.userId}|${d.via}`).sort();
const reasonOf = (plan: RecipientPlan, key: string) => plan.notDelivered.find((n) => n.key === key)?.reason;

before(async () => {
  azurite = await startAzurite({ inMemory: true });
  account = new StorageAccount({ connectionString: azurite.connectionString });
  await account.ensureCreated();
});
after(() => azurite?.stop());

beforeEach(async () => {
  directory = new StubDirectory(USERS);
  for (const name of [TABLES.people, TABLES.mappings]) {
    const table = account.table(name);
    for await (const row of table.listEntities()) await table.deleteEntity(row.partitionKey!, row.rowKey!);
  }
});

describe('automatic mapping', () => {
  test('maps members by address, caches each look-up in the people table, and uses the cache within the TTL', async () => {
    const people = [member('1', 'Alice@X.example'), member('2', 'bob@x.example')];
    const plan = await planner().plan(people, ctx('1'));
    assert.deepEqual(mailboxes(plan), ['alice@x.example|u-alice|automatic', 'bob@x.example|u-bob|automatic']);
    assert.deepEqual(plan.notDelivered, []);
    const row = await account
      .table(TABLES.people)
      .getEntity<{ userId: string; enabled: boolean; checkedAt: string }>('email', tableKey('alice@x.example'));
    assert.equal(row.userId, 'u-alice');
    assert.equal(row.enabled, true);

    // A new planner (another instance) finds the table rows and asks the directory nothing.
    await planner().plan(people, ctx('1'));
    assert.equal(directory.count('alice@x.example'), 1);
    assert.equal(directory.count('bob@x.example'), 1);
  });

  test('a cached row older than the TTL is looked up again', async () => {
    await planner({ ttlHours: 1 }).plan([member('1', 'alice@x.example')], ctx('1'));
    await account.table(TABLES.people).updateEntity(
      {
        partitionKey: 'email',
        rowKey: tableKey('alice@x.example'),
        checkedAt: new Date(Date.now() - 2 * 3_600_000).toISOString(),
      },
      'Merge',
    );
    await planner({ ttlHours: 1 }).plan([member('1', 'alice@x.example')], ctx('1'));
    assert.equal(directory.count('alice@x.example'), 2);
  });

  test('an alias delivers to the primary mailbox of the user it belongs to', async () => {
    const plan = await planner().plan([member('1', 'al@x.example')], ctx('1'));
    assert.deepEqual(mailboxes(plan), ['alice@x.example|u-alice|automatic']);
  });

  test('a directory failure propagates (so the item is retried) and is not cached', async () => {
    directory.failNext = 1;
    const p = planner();
    await assert.rejects(p.plan([member('1', 'bob@x.example')], ctx('1')), /directory unavailable/);
    const plan = await p.plan([member('1', 'bob@x.example')], ctx('1'));
    assert.deepEqual(mailboxes(plan), ['bob@x.example|u-bob|automatic']);
  });
});

describe('guests', () => {
  test('never receive deliveries, are never looked up, and no override or fallback applies to them', async () => {
    await new MappingOverrides(account).put([{ email: 'gina@partner.example', mailbox: 'legal@x.example' }]);
    const plan = await planner({ fallbackMailbox: 'archive@x.example' }).plan(
      [member('1', 'alice@x.example'), guest('g', 'gina@partner.example'), guest('g2', 'alice@x.example')],
      ctx('g'),
    );
    assert.deepEqual(mailboxes(plan), ['alice@x.example|u-alice|automatic']);
    assert.match(reasonOf(plan, 'gina@partner.example') ?? '', /guest/);
    assert.equal(directory.count('gina@partner.example'), 0);
    assert.equal(directory.count('legal@x.example'), 0);
  });
});

describe('manual overrides', () => {
  test('an override wins over the automatic mailbox and is resolved through the directory', async () => {
    await new MappingOverrides(account).put([
      { email: 'bob@x.example', mailbox: 'legal@x.example', note: 'litigation hold' },
    ]);
    const plan = await planner().plan([member('1', 'alice@x.example'), member('2', 'BOB@x.example')], ctx('1'));
    assert.deepEqual(mailboxes(plan), ['alice@x.example|u-alice|automatic', 'legal@x.example|u-legal|override']);
    assert.equal(directory.count('bob@x.example'), 0, 'the automatic look-up is not needed');
  });

  test('skip excludes a person, with the reason', async () => {
    await new MappingOverrides(account).put([{ email: 'bob@x.example', mailbox: 'skip' }]);
    const plan = await planner({ fallbackMailbox: 'archive@x.example' }).plan(
      [member('1', 'alice@x.example'), member('2', 'bob@x.example')],
      ctx('1'),
    );
    assert.deepEqual(mailboxes(plan), ['alice@x.example|u-alice|automatic']);
    assert.match(reasonOf(plan, 'bob@x.example') ?? '', /excluded by a mapping override/);
  });

  test('an override to a missing mailbox counts as unmapped: fallback, or reported naming the override', async () => {
    await new MappingOverrides(account).put([{ email: 'bob@x.example', mailbox: 'gone@x.example' }]);
    const withFallback = await planner({ fallbackMailbox: 'archive@x.example' }).plan(
      [member('2', 'bob@x.example')],
      ctx('2'),
    );
    assert.deepEqual(mailboxes(withFallback), ['archive@x.example|u-archive|fallback']);
    const without = await planner().plan([member('2', 'bob@x.example')], ctx('2'));
    assert.deepEqual(without.deliveries, []);
    assert.match(
      reasonOf(without, 'bob@x.example') ?? '',
      /override for bob@x\.example points to gone@x\.example, which has no Microsoft 365 mailbox; FALLBACK_MAILBOX is not set/,
    );
  });
});

describe('unmapped internal people', () => {
  const unmapped = [
    member('n', 'nobody@x.example'),
    member('d', 'dora@x.example'),
    member('e', ''),
    member('i', 'not-an-email'),
    { id: 'z', guest: false },
  ];

  test('go to FALLBACK_MAILBOX once, however many there are', async () => {
    const p = planner({ fallbackMailbox: 'Archive@x.example' });
    const plan = await p.plan([member('1', 'alice@x.example'), ...unmapped], ctx('1'));
    assert.deepEqual(mailboxes(plan), ['alice@x.example|u-alice|automatic', 'archive@x.example|u-archive|fallback']);
    assert.deepEqual(plan.notDelivered, []);
    await p.plan(unmapped, ctx('n'));
    assert.equal(directory.count('archive@x.example'), 1, 'the fallback mailbox is resolved once and cached');
  });

  test('without FALLBACK_MAILBOX are reported with the reason, keyed by address or person id', async () => {
    const plan = await planner().plan([member('1', 'alice@x.example'), ...unmapped], ctx('1'));
    assert.deepEqual(mailboxes(plan), ['alice@x.example|u-alice|automatic']);
    assert.match(
      reasonOf(plan, 'nobody@x.example') ?? '',
      /^no Microsoft 365 mailbox for nobody@x\.example; FALLBACK_MAILBOX is not set$/,
    );
    assert.match(reasonOf(plan, 'dora@x.example') ?? '', /disabled/);
    assert.match(reasonOf(plan, 'person:e') ?? '', /no valid email address/);
    assert.match(reasonOf(plan, 'person:i') ?? '', /no valid email address/);
    assert.match(reasonOf(plan, 'person:z') ?? '', /not in the export/);
    assert.equal(plan.notDelivered.length, 5);
  });

  test('a disabled account is cached as disabled, not as missing', async () => {
    await planner().plan([member('d', 'dora@x.example')], ctx('d'));
    const row = await account
      .table(TABLES.people)
      .getEntity<{ userId: string; enabled: boolean }>('email', tableKey('dora@x.example'));
    assert.equal(row.userId, 'u-dora');
    assert.equal(row.enabled, false);
    const again = await planner().plan([member('d', 'dora@x.example')], ctx('d'));
    assert.match(reasonOf(again, 'dora@x.example') ?? '', /dora@x\.example has a disabled Microsoft 365 account/);
    assert.equal(directory.count('dora@x.example'), 1);
  });

  test('a FALLBACK_MAILBOX without a mailbox is named in the reason', async () => {
    const plan = await planner({ fallbackMailbox: 'missing-archive@x.example' }).plan(
      [member('n', 'nobody@x.example')],
      ctx('n'),
    );
    assert.deepEqual(plan.deliveries, []);
    assert.match(
      reasonOf(plan, 'nobody@x.example') ?? '',
      /FALLBACK_MAILBOX missing-archive@x\.example has no Microsoft 365 mailbox/,
    );
  });
});

describe('fan-out limit', () => {
  const chat = [
    member('1', 'alice@x.example'),
    member('2', 'bob@x.example'),
    member('3', 'carol@x.example'),
    guest('g', 'gina@partner.example'),
  ];

  test('a chat over the limit delivers to the creator and the fallback mailbox only', async () => {
    const plan = await planner({ fanoutLimit: 3, fallbackMailbox: 'archive@x.example' }).plan(chat, ctx('2', 4));
    assert.deepEqual(mailboxes(plan), ['archive@x.example|u-archive|fallback', 'bob@x.example|u-bob|automatic']);
    assert.match(
      reasonOf(plan, 'alice@x.example') ?? '',
      /fan-out limit: the chat has 4 members, over FANOUT_LIMIT 3; delivered to the sender and the fallback mailbox only/,
    );
    assert.match(reasonOf(plan, 'carol@x.example') ?? '', /fan-out limit/);
    assert.match(reasonOf(plan, 'gina@partner.example') ?? '', /guest/);
    assert.equal(
      directory.count('alice@x.example') + directory.count('carol@x.example'),
      0,
      'nobody else is looked up',
    );
  });

  test('without a fallback only the creator receives it; an unmapped creator is reported', async () => {
    const plan = await planner({ fanoutLimit: 3 }).plan(chat, ctx('1', 4));
    assert.deepEqual(mailboxes(plan), ['alice@x.example|u-alice|automatic']);
    assert.match(reasonOf(plan, 'bob@x.example') ?? '', /delivered to the sender only/);
    const unmappedCreator = await planner({ fanoutLimit: 1 }).plan(
      [member('n', 'nobody@x.example'), member('1', 'alice@x.example')],
      ctx('n', 2),
    );
    assert.deepEqual(unmappedCreator.deliveries, []);
    assert.match(reasonOf(unmappedCreator, 'nobody@x.example') ?? '', /no Microsoft 365 mailbox/);
  });

  test('is off at 0 and not triggered at exactly the limit', async () => {
    for (const options of [{ fanoutLimit: 0 }, { fanoutLimit: 4 }]) {
      const plan = await planner(options).plan(chat, ctx('1', 4));
      assert.equal(plan.deliveries.length, 3, JSON.stringify(options));
    }
  });
});

describe('invalid and empty emails', () => {
  const bad = [
    '',
    '   ',
    'not-an-email',
    'a@b',
    'alice@x.example\r\nBcc: evil@x.example',
    'alice@x.example, bob@x.example',
    '<alice@x.example>',
    'a b@x.example',
    '@x.example',
    'alice@',
  ];

  test('never reach the directory and are reported by person id', async () => {
    const people = bad.map((email, i) => member(`b${i}`, email));
    const plan = await planner().plan(people, ctx('b0'));
    assert.deepEqual(plan.deliveries, []);
    assert.deepEqual(directory.asked, []);
    assert.deepEqual(plan.notDelivered.map((n) => n.key).sort(), people.map((p) => `person:${p.id}`).sort());
  });

  test("an address with a quote is a real address and is looked up verbatim (o'brien)", async () => {
    const plan = await planner().plan([member('o', "O'Brien@x.example")], ctx('o'));
    assert.deepEqual(mailboxes(plan), ["o'brien@x.example|u-obrien|automatic"]);
    assert.deepEqual(directory.asked, ["o'brien@x.example"]);
  });
});

describe('dedupe', () => {
  test('one delivery per mailbox whatever the route to it', async () => {
    await new MappingOverrides(account).put([{ email: 'carol@x.example', mailbox: 'alice@x.example' }]);
    const people = [
      member('1', 'alice@x.example'),
      member('1', 'alice@x.example'), // the same participant twice
      member('1b', 'ALICE@x.example'), // two RingCentral ids, one address
      member('a', 'al@x.example'), // an alias of the same user
      member('3', 'carol@x.example'), // overridden into alice's mailbox
      member('x', 'archive@x.example'), // the fallback mailbox is also a member
      member('n', 'nobody@x.example'),
      member('m', 'nobody2@x.example'),
    ];
    const plan = await planner({ fallbackMailbox: 'archive@x.example' }).plan(people, ctx('1'));
    assert.deepEqual(mailboxes(plan), ['alice@x.example|u-alice|automatic', 'archive@x.example|u-archive|automatic']);
    const boxes = plan.deliveries.map((d) => d.mailbox);
    assert.equal(boxes.length, new Set(boxes).size);
  });

  test('a person reported twice is listed once', async () => {
    const plan = await planner().plan(
      [
        member('n', 'nobody@x.example'),
        member('n2', 'nobody@x.example'),
        guest('g', 'g@p.example'),
        guest('g', 'g@p.example'),
      ],
      ctx('n'),
    );
    assert.deepEqual(plan.notDelivered.map((n) => n.key).sort(), ['g@p.example', 'nobody@x.example']);
  });
});
