import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPerm, digestId, fixupAcl, ipMatches, maskDigests, OPEN_ACL_UNSAFE, parseDigestAuth } from '../../src/zk/acl.js';
import { Perms } from '../../src/jute/constants.js';
import type { ACL } from '../../src/jute/records.js';
import type { Identity } from '../../src/zk/types.js';

const acl = (perms: number, scheme: string, id: string): ACL => ({ perms, id: { scheme, id } });
const who = (scheme: string, id: string): Identity => ({ scheme, id });

test('digest ids match the published vectors', () => {
  assert.equal(digestId('user', 'password'), 'user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=');
  assert.equal(digestId('super', 'secret'), 'super:lK75jTNcA+U9vtVEw5vB51mj/w4=');
  assert.equal(parseDigestAuth('user:password'), 'user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=');
  assert.equal(parseDigestAuth('super:secret'), 'super:lK75jTNcA+U9vtVEw5vB51mj/w4=');
  assert.equal(parseDigestAuth('nocolon'), null);
  // The password may itself contain ':'; the hash covers the whole credential.
  assert.equal(parseDigestAuth('u:p:q'), digestId('u', 'p:q'));
});

test('checkPerm (§12.4)', () => {
  const bob = digestId('bob', 'pw');
  const cases: [string, readonly ACL[], Identity[], number, boolean][] = [
    ['empty ACL allows all', [], [], Perms.ADMIN, true],
    ['world:anyone', OPEN_ACL_UNSAFE, [], Perms.READ, true],
    ['world:anyone without the bit', [acl(Perms.READ, 'world', 'anyone')], [], Perms.WRITE, false],
    ['super bypasses', [acl(Perms.READ, 'digest', bob)], [who('super', '')], Perms.ADMIN, true],
    ['digest exact', [acl(Perms.ALL, 'digest', bob)], [who('digest', bob)], Perms.WRITE, true],
    ['digest other user', [acl(Perms.ALL, 'digest', bob)], [who('digest', digestId('eve', 'pw'))], Perms.WRITE, false],
    ['digest needs the same scheme', [acl(Perms.ALL, 'digest', bob)], [who('sasl', bob)], Perms.WRITE, false],
    ['mask: either bit', [acl(Perms.READ, 'digest', bob)], [who('digest', bob)], Perms.READ | Perms.ADMIN, true],
    ['mask: neither bit', [acl(Perms.WRITE, 'digest', bob)], [who('digest', bob)], Perms.READ | Perms.ADMIN, false],
    ['ip exact', [acl(Perms.ALL, 'ip', '127.0.0.1')], [who('ip', '127.0.0.1')], Perms.READ, true],
    ['ip other', [acl(Perms.ALL, 'ip', '127.0.0.1')], [who('ip', '127.0.0.2')], Perms.READ, false],
    ['ip /8', [acl(Perms.ALL, 'ip', '10.0.0.0/8')], [who('ip', '10.200.3.4')], Perms.READ, true],
    ['ip /8 outside', [acl(Perms.ALL, 'ip', '10.0.0.0/8')], [who('ip', '11.0.0.1')], Perms.READ, false],
    ['ipv4-mapped caller', [acl(Perms.ALL, 'ip', '127.0.0.1')], [who('ip', '::ffff:127.0.0.1')], Perms.READ, true],
    ['ipv6 exact', [acl(Perms.ALL, 'ip', '::1')], [who('ip', '::1')], Perms.READ, true],
    ['ipv6 prefix', [acl(Perms.ALL, 'ip', 'fe80::/10')], [who('ip', 'febf:1::2')], Perms.READ, true],
    ['ipv6 outside prefix', [acl(Perms.ALL, 'ip', 'fe80::/10')], [who('ip', 'fec0::1')], Perms.READ, false],
    ['ipv6 vs ipv4 never match', [acl(Perms.ALL, 'ip', '::/0')], [who('ip', '1.2.3.4')], Perms.READ, false],
    ['sasl exact', [acl(Perms.ALL, 'sasl', 'kafka')], [who('sasl', 'kafka')], Perms.READ, true],
    ['sasl other', [acl(Perms.ALL, 'sasl', 'kafka')], [who('sasl', 'kafka2')], Perms.READ, false],
    ['several identities', [acl(Perms.ALL, 'digest', bob)], [who('ip', '1.1.1.1'), who('digest', bob)], Perms.READ, true],
  ];
  for (const [name, a, ids, perm, want] of cases) assert.equal(checkPerm(a, ids, perm), want, name);
});

test('ipMatches prefix rules', () => {
  const cases: [string, string, boolean][] = [
    ['192.168.1.77', '192.168.1.0/24', true],
    ['192.168.2.77', '192.168.1.0/24', false],
    ['192.168.1.77', '192.168.1.64/26', true],
    ['192.168.1.63', '192.168.1.64/26', false],
    ['1.2.3.4', '0.0.0.0/0', true],
    ['1.2.3.4', '1.2.3.4/32', true],
    ['1.2.3.4', '1.2.3.4/33', false], // bits out of range: no match
    ['1.2.3.4', '1.2.3.4/x', false],
    ['1.2.3.4', '1.2.3', false],
    ['1.2.3.4', '1.2.3.256', false],
    ['2001:db8::8a2e:370:7334', '2001:0db8:0000:0000:0000:8a2e:0370:7334', true],
    ['2001:db8::1', '2001:db8::/32', true],
    ['2001:db9::1', '2001:db8::/32', false],
    ['::1', '1::1::1', false],
    ['nonsense', '1.2.3.4', false],
  ];
  for (const [id, expr, want] of cases) assert.equal(ipMatches(id, expr), want, `${id} in ${expr}`);
});

test('fixupAcl validates and expands (§12.3)', () => {
  const bob = digestId('bob', 'pw');
  const ids = [who('ip', '127.0.0.1'), who('digest', bob), who('super', '')];
  // duplicates removed, order kept
  assert.deepEqual(fixupAcl([...OPEN_ACL_UNSAFE, ...OPEN_ACL_UNSAFE], ids), [...OPEN_ACL_UNSAFE]);
  // perms are stored as sent, even out of range
  assert.deepEqual(fixupAcl([acl(0xff, 'world', 'anyone')], []), [acl(0xff, 'world', 'anyone')]);
  // auth expands to the authenticated identities only (not ip, not super)
  assert.deepEqual(fixupAcl([acl(Perms.ALL, 'auth', '')], ids), [acl(Perms.ALL, 'digest', bob)]);
  assert.deepEqual(fixupAcl([acl(Perms.READ, 'auth', 'ignored')], [who('sasl', 'kafka'), who('x509', 'CN=a')]), [
    acl(Perms.READ, 'sasl', 'kafka'),
    acl(Perms.READ, 'x509', 'CN=a'),
  ]);
  const invalid: [string, ACL[], Identity[]][] = [
    ['empty list', [], ids],
    ['auth without credentials', [acl(Perms.ALL, 'auth', '')], [who('ip', '127.0.0.1')]],
    ['world:foo', [acl(Perms.ALL, 'world', 'foo')], ids],
    ['super scheme', [acl(Perms.ALL, 'super', '')], ids],
    ['unknown scheme', [acl(Perms.ALL, 'kerberos', 'x')], ids],
    ['sasl without provider', [acl(Perms.ALL, 'sasl', 'kafka')], ids],
    ['digest without colon', [acl(Perms.ALL, 'digest', 'bob')], ids],
    ['digest with empty hash', [acl(Perms.ALL, 'digest', 'bob:')], ids],
    ['digest with two colons', [acl(Perms.ALL, 'digest', 'a:b:c')], ids],
    ['ip garbage', [acl(Perms.ALL, 'ip', 'localhost')], ids],
    ['ip bad bits', [acl(Perms.ALL, 'ip', '10.0.0.0/33')], ids],
    ['one bad entry spoils the list', [...OPEN_ACL_UNSAFE, acl(Perms.ALL, 'world', 'x')], ids],
  ];
  for (const [name, a, who2] of invalid) assert.equal(fixupAcl(a, who2), null, name);
  assert.notEqual(fixupAcl([acl(Perms.ALL, 'ip', '10.0.0.0/8')], []), null);
  assert.notEqual(fixupAcl([acl(Perms.ALL, 'ip', 'fe80::/10')], []), null);
  assert.notEqual(fixupAcl([acl(Perms.ALL, 'digest', ':hash')], []), null); // Java's split rule accepts this
  assert.notEqual(fixupAcl([acl(Perms.ALL, 'sasl', 'kafka')], [], new Set(['sasl'])), null);
  assert.equal(fixupAcl([acl(Perms.ALL, 'sasl', 'a@b@c')], [], new Set(['sasl'])), null);
});

test('maskDigests hides digest hashes only', () => {
  const bob = digestId('bob', 'pw');
  assert.deepEqual(maskDigests([acl(Perms.ALL, 'digest', bob), acl(Perms.READ, 'ip', '1.2.3.4')]), [
    acl(Perms.ALL, 'digest', 'bob:x'),
    acl(Perms.READ, 'ip', '1.2.3.4'),
  ]);
});
