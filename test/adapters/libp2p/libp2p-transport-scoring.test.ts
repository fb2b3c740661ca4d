/**
 * The scoring rules behind Libp2pTransport.penalize() (src/adapters/libp2p/peer-scoring.ts),
 * sans network: a fake clock drives decay and bans; fast-check (seeded) checks that our graylist
 * verdict implies gossipsub's own score is below its threshold, and that standing is monotone in
 * penalties and reputation. Also the DHT mode rule and the topic constants.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  DEFAULT_SCORE_THRESHOLDS, EDGE_NET_TOPICS, PeerScoring, TOPIC_SCORE_CAP, TransportError,
  gossipScoreParams, gossipScoreThresholds, resolveDhtMode
} from '../../../src/adapters/libp2p/index.ts'
import { TASK_TOPIC } from '../../../src/runtime/index.ts'
import { LEDGER_TOPIC } from '../../../src/runtime/ledger-sync-wire.ts'
import { HEARTBEAT_TOPIC } from '../../../src/runtime/presence.ts'

const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)
const numRuns = 200
const peer = (n: number): Uint8Array => new Uint8Array(32).fill(n)
const isOptionsError = (e: unknown): boolean => e instanceof TransportError && e.code === 'ERR_BAD_TRANSPORT_OPTIONS'

function clock (start = 1_000_000): { now: () => number, advance: (ms: number) => void } {
  let t = start
  return { now: () => t, advance: (ms) => { t += ms } }
}

describe('PeerScoring', () => {
  it('graylists after 5 penalties at reputation 0 and 6 at reputation 1, bans at 10', () => {
    for (const [reputation, graylistAt] of [[0, 5], [1, 6]] as const) {
      const s = new PeerScoring({ scoreOf: () => reputation, now: clock().now })
      const verdicts = Array.from({ length: 10 }, () => s.penalize(peer(1)))
      assert.equal(verdicts.findIndex(v => v.graylisted) + 1, graylistAt, `reputation ${reputation}`)
      assert.equal(verdicts.findIndex(v => v.banned) + 1, 10)
      assert.equal(s.standing(peer(2)).graylisted, false, 'another peer is untouched')
    }
  })

  it('halves penalties every half-life and lifts a ban after banMs', () => {
    const c = clock()
    const s = new PeerScoring({ now: c.now, penalties: { halfLifeMs: 1000, banAfter: 4, banMs: 5000 } })
    for (let i = 0; i < 4; i++) s.penalize(peer(1))
    assert.equal(s.standing(peer(1)).banned, true)
    c.advance(1000)
    assert.ok(Math.abs(s.standing(peer(1)).penalties - 2) < 1e-9)
    assert.equal(s.banned(peer(1)), true, 'the ban outlives the decay')
    c.advance(4000)
    assert.equal(s.banned(peer(1)), false)
    c.advance(20_000)
    assert.equal(s.standing(peer(1)).penalties < 0.01, true)
    assert.equal(s.size, 0, 'a forgiven peer is forgotten')
  })

  it('clamps reputation to [0, 1] and counts a throwing or NaN scoreOf as 0', () => {
    const values = new Map<number, number>([[1, 7], [2, -3], [3, Number.NaN]])
    const s = new PeerScoring({ scoreOf: p => { if (p[0] === 4) throw new Error('boom'); return values.get(p[0] as number) ?? 0.5 } })
    assert.deepEqual([1, 2, 3, 4, 5].map(n => s.standing(peer(n)).reputation), [1, 0, 0, 0, 0.5])
  })

  it('our graylist verdict implies gossipsub\'s score is below its threshold; monotone in penalties and reputation', () => {
    fc.assert(fc.property(
      fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 12 }), fc.double({ min: 0, max: TOPIC_SCORE_CAP, noNaN: true }),
      (reputation, n, topicTerms) => {
        const s = new PeerScoring({ scoreOf: () => reputation, now: () => 0 })
        for (let i = 0; i < n; i++) s.penalize(peer(1))
        const st = s.standing(peer(1))
        // Gossipsub's score = min(topic terms, cap) + P5 (+ P6, P7 <= 0).
        if (st.graylisted) assert.ok(topicTerms + st.appScore < DEFAULT_SCORE_THRESHOLDS.graylist)
        s.penalize(peer(1))
        const more = s.standing(peer(1))
        assert.ok(more.appScore < st.appScore && (!st.graylisted || more.graylisted))
        const better = new PeerScoring({ scoreOf: () => Math.min(1, reputation + 0.5), now: () => 0 })
        for (let i = 0; i < n; i++) better.penalize(peer(1))
        assert.ok(!better.standing(peer(1)).graylisted || st.graylisted)
      }), { seed, numRuns })
  })

  it('refuses thresholds out of order and a bad penalty policy', () => {
    assert.throws(() => new PeerScoring({ thresholds: { gossip: 1 } }), isOptionsError)
    assert.throws(() => new PeerScoring({ thresholds: { publish: -100, graylist: -50 } }), isOptionsError)
    assert.throws(() => new PeerScoring({ thresholds: { graylist: Number.NaN } }), isOptionsError)
    assert.throws(() => new PeerScoring({ penalties: { halfLifeMs: 0 } }), isOptionsError)
    assert.throws(() => new PeerScoring({ penalties: { banAfter: -1 } }), isOptionsError)
    assert.doesNotThrow(() => gossipScoreThresholds(new PeerScoring({ thresholds: { gossip: -5, publish: -5, graylist: -5 } }).thresholds))
  })
})

describe('gossipScoreParams()', () => {
  it('weights the edge-net topics, merges overrides, and exempts loopback from IP colocation', () => {
    const p = gossipScoreParams([EDGE_NET_TOPICS.tasks, EDGE_NET_TOPICS.heartbeat, 'other/1'], { [EDGE_NET_TOPICS.ledger]: { topicWeight: 2 } }, () => 3)
    assert.equal(p.topics[EDGE_NET_TOPICS.tasks]?.topicWeight, 1)
    assert.equal(p.topics[EDGE_NET_TOPICS.heartbeat]?.topicWeight, 0.25)
    assert.equal(p.topics['other/1']?.topicWeight, 0.5)
    assert.equal(p.topics[EDGE_NET_TOPICS.ledger]?.topicWeight, 2)
    assert.equal(p.topics[EDGE_NET_TOPICS.tasks]?.meshMessageDeliveriesWeight, 0)
    assert.equal(p.appSpecificScore('x'), 3)
    assert.equal(p.appSpecificWeight, 1)
    assert.equal(p.topicScoreCap, TOPIC_SCORE_CAP)
    assert.ok(p.IPColocationFactorWhitelist.has('127.0.0.1'))
  })

  it('refuses an override gossipsub would reject', () => {
    assert.throws(() => gossipScoreParams([], { t: { topicWeight: -1 } }, () => 0), isOptionsError)
    assert.throws(() => gossipScoreParams([], { t: { invalidMessageDeliveriesWeight: 5 } }, () => 0), isOptionsError)
  })

  it('names the same topics as the runtime', () => {
    assert.deepEqual(EDGE_NET_TOPICS, { tasks: TASK_TOPIC, ledger: LEDGER_TOPIC, heartbeat: HEARTBEAT_TOPIC })
  })
})

describe('resolveDhtMode()', () => {
  it('serves on a LAN or loopback, defers to kad-dht on public addresses, is a client behind a relay only', () => {
    assert.equal(resolveDhtMode('auto', ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws']), 'server')
    assert.equal(resolveDhtMode('auto', ['/ip4/192.168.1.4/tcp/4001', '/ip4/0.0.0.0/tcp/4002']), 'server')
    assert.equal(resolveDhtMode('auto', ['/ip4/8.8.8.8/tcp/4001']), 'auto')
    assert.equal(resolveDhtMode('auto', ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf/p2p-circuit']), 'client')
    assert.equal(resolveDhtMode('auto', ['/p2p-circuit']), 'client')
    assert.equal(resolveDhtMode('client', ['/ip4/127.0.0.1/tcp/0']), 'client')
  })
})
