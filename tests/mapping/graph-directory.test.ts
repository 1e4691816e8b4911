import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMicrosoftDoubles, type MicrosoftDoubles } from '../../dev/doubles/graph/microsoft-doubles';
import { startAzurite, type RunningAzurite } from '../../dev/azurite';
import { StorageAccount } from '../../shared/store/storage-account';
import { GraphUserDirectory } from '../../shared/mapping/user-directory';
import { MailboxRecipientPlanner } from '../../shared/mapping/recipient-planner';
import { member } from './helpers';

// The real GraphUserDirectory and v3 Graph client against the Graph double, whose $filter parser
// answers 400 to anything outside OData's grammar.
const users = [
  {
    id: 'u-mail',
    mail: 'mary@contoso.example',
    userPrincipalName: 'mary.upn@contoso.onmicrosoft.example',
    displayName: 'Mary',
  },
  {
    id: 'u-upn',
    mail: 'ursula@contoso.example',
    userPrincipalName: 'ursula.login@contoso.example',
    displayName: 'Ursula',
  },
  {
    id: 'u-proxy',
    mail: 'pat@contoso.example',
    userPrincipalName: 'pat@contoso.example',
    displayName: 'Pat',
    proxyAddresses: ['SMTP:pat@contoso.example', 'smtp:patricia.old@legacy.example'],
  },
  {
    id: 'u-disabled',
    mail: 'dan@contoso.example',
    userPrincipalName: 'dan@contoso.example',
    displayName: 'Dan',
    accountEnabled: false,
  },
  { id: 'u-obrien', mail: "o'brien@x.example", userPrincipalName: 'obrien@contoso.example', displayName: "O'Brien" },
  { id: 'u-plus', mail: 'p+q@x.example', userPrincipalName: 'pq@contoso.example', displayName: 'PQ' },
  { id: 'u-amp', mail: 'a&b@x.example', userPrincipalName: 'ab@contoso.example', displayName: 'AB' },
  { id: 'u-hash', mail: 'h#x@x.example', userPrincipalName: 'hx@contoso.example', displayName: 'HX' },
  { id: 'u-pct', mail: '100%25@x.example', userPrincipalName: 'pct@contoso.example', displayName: 'Pct' },
];

let doubles: MicrosoftDoubles;
let directory: GraphUserDirectory;

before(async () => {
  doubles = await startMicrosoftDoubles({ users });
  directory = new GraphUserDirectory(doubles.graphClient());
});
after(() => doubles?.close());

describe('GraphUserDirectory', () => {
  test('finds a user by mail, by UPN and by a secondary proxy address, answering the primary mail', async () => {
    assert.deepEqual(await directory.findByEmail('Mary@Contoso.example'), {
      id: 'u-mail',
      mail: 'mary@contoso.example',
      accountEnabled: true,
    });
    assert.deepEqual(await directory.findByEmail('ursula.login@contoso.example'), {
      id: 'u-upn',
      mail: 'ursula@contoso.example',
      accountEnabled: true,
    });
    assert.deepEqual(await directory.findByEmail('patricia.old@legacy.example'), {
      id: 'u-proxy',
      mail: 'pat@contoso.example',
      accountEnabled: true,
    });
    assert.equal(await directory.findByEmail('nobody@contoso.example'), undefined);
  });

  test('reports a disabled account as disabled', async () => {
    assert.deepEqual(await directory.findByEmail('dan@contoso.example'), {
      id: 'u-disabled',
      mail: 'dan@contoso.example',
      accountEnabled: false,
    });
  });

  test("quotes and URL-significant characters stay inside the literal (o'brien, + & # %)", async () => {
    assert.equal((await directory.findByEmail("o'brien@x.example"))?.id, 'u-obrien');
    assert.equal((await directory.findByEmail('p+q@x.example'))?.id, 'u-plus');
    assert.equal((await directory.findByEmail('a&b@x.example'))?.id, 'u-amp');
    assert.equal((await directory.findByEmail('h#x@x.example'))?.id, 'u-hash');
    assert.equal((await directory.findByEmail('100%25@x.example'))?.id, 'u-pct');
  });

  test('an address built to break out of the literal matches nobody instead of everybody', async () => {
    for (const attack of [
      "x'or'1'eq'1@x.example",
      "mary@contoso.example'or'a'eq'a@x.example",
      "')or(mail'ne'@x.example",
    ]) {
      assert.equal(await directory.findByEmail(attack), undefined, attack);
    }
  });

  test('implausible or empty addresses are answered without a request', async () => {
    const before = doubles.graph.stats.totalRequests;
    for (const bad of ['', ' ', 'a@b', "' or 1 eq 1", 'mary@contoso.example\r\nx: y'])
      assert.equal(await directory.findByEmail(bad), undefined);
    assert.equal(doubles.graph.stats.totalRequests, before);
  });
});

describe('MailboxRecipientPlanner with the Graph directory and Azurite', () => {
  let azurite: RunningAzurite;
  before(async () => {
    azurite = await startAzurite({ inMemory: true });
  });
  after(() => azurite?.stop());

  test('maps by mail, UPN and proxy address, reports the disabled account, and falls back', async () => {
    const account = new StorageAccount({ connectionString: azurite.connectionString });
    await account.ensureCreated();
    const planner = new MailboxRecipientPlanner(account, directory, { ttlHours: 24, fanoutLimit: 0 });
    const people = [
      member('1', 'mary@contoso.example'),
      member('2', 'ursula.login@contoso.example'),
      member('3', 'patricia.old@legacy.example'),
      member('4', 'dan@contoso.example'),
      member('5', "o'brien@x.example"),
    ];
    const plan = await planner.plan(people, { creatorId: '1', chatMemberCount: 5 });
    assert.deepEqual(plan.deliveries.map((d) => [d.mailbox, d.userId]).sort(), [
      ['mary@contoso.example', 'u-mail'],
      ["o'brien@x.example", 'u-obrien'],
      ['pat@contoso.example', 'u-proxy'],
      ['ursula@contoso.example', 'u-upn'],
    ]);
    assert.deepEqual(plan.notDelivered, [
      {
        key: 'dan@contoso.example',
        reason: 'dan@contoso.example has a disabled Microsoft 365 account; FALLBACK_MAILBOX is not set',
      },
    ]);

    const withFallback = new MailboxRecipientPlanner(account, directory, {
      ttlHours: 24,
      fanoutLimit: 0,
      fallbackMailbox: 'mary.upn@contoso.onmicrosoft.example',
    });
    const fallbackPlan = await withFallback.plan([member('4', 'dan@contoso.example')], {
      creatorId: '4',
      chatMemberCount: 1,
    });
    assert.deepEqual(fallbackPlan.deliveries, [{ mailbox: 'mary@contoso.example', userId: 'u-mail', via: 'fallback' }]);
  });
});
