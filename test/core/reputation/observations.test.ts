import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  ObservationTally, OBSERVATION_KINDS, OBSERVATION_EFFECT, ACCURACY_KINDS, UPTIME_KINDS, OBSERVER_EVIDENCE_CAP,
  observerEvidence, observerStanding, ReputationScore, reputationTier
} from '../../../src/core/reputation/index.ts'
import type { ObservationKind } from '../../../src/core/reputation/index.ts'
import { check } from '../../helpers/property.ts'

const bad = (code: string) => ({ name: 'ReputationError', code })
const full = (): number => 1
const SUBJECT = 'subject'
const positiveAccuracy = ACCURACY_KINDS.filter(k => OBSERVATION_EFFECT[k].positive)

/** k independent observers, each reporting `each` passes of `kind`. */
function independent (k: number, each: number, kind: ObservationKind = 'task_verified'): ObservationTally {
  const tally = new ObservationTally(SUBJECT)
  for (let i = 0; i < k; i++) tally.add(`observer-${i}`, kind, each)
  return tally
}

describe('reputation', () => {
  describe('observation kinds', () => {
    it('split into six accuracy kinds and two uptime kinds, each with a positive and a negative', () => {
      assert.deepEqual([...ACCURACY_KINDS].sort(), ['audit_fail', 'audit_pass', 'spot_fail', 'spot_pass', 'task_mismatch', 'task_verified'])
      assert.deepEqual([...UPTIME_KINDS], ['heartbeat_seen', 'heartbeat_missed'])
      assert.equal(ACCURACY_KINDS.length + UPTIME_KINDS.length, OBSERVATION_KINDS.length)
      assert.equal(OBSERVATION_EFFECT.heartbeat_missed.positive, false)
      assert.equal(OBSERVATION_EFFECT.audit_pass.positive, true)
    })

    it('caps one observer with a concave evidence function g(k) = kC/(k + C)', () => {
      assert.equal(observerEvidence(0), 0)
      assert.equal(observerEvidence(OBSERVER_EVIDENCE_CAP), OBSERVER_EVIDENCE_CAP / 2)
      assert.ok(observerEvidence(Number.MAX_SAFE_INTEGER) < OBSERVER_EVIDENCE_CAP)
      assert.ok(Math.abs(observerEvidence(1) - 10 / 11) < 1e-14)
      check(fc.property(fc.nat({ max: 1e6 }), (k) => observerEvidence(k + 1) > observerEvidence(k) && observerEvidence(k) <= k))
      check(fc.property(fc.maxSafeNat(), fc.maxSafeNat(), (a, b) => a > b ? observerEvidence(a) >= observerEvidence(b) : observerEvidence(a) <= observerEvidence(b)))
    })
  })

  describe('ObservationTally', () => {
    it('is neutral with no observations: accuracy 0.5, uptime 1, composite 0.25, confidence 0', () => {
      const score = new ObservationTally(SUBJECT).score(full)
      assert.deepEqual(score, { accuracy: 0.5, uptime: 1, composite: 0.25, confidence: 0, observers: 0 })
      assert.equal(score.composite, ReputationScore.newcomer().compositeScore())
      assert.equal(observerStanding(score), 0)
    })

    it('computes the documented example', () => {
      const tally = new ObservationTally('node-A')
      tally.add('node-B', 'task_verified')
      tally.add('node-C', 'heartbeat_missed', 3)
      const g1 = observerEvidence(1)
      const g3 = observerEvidence(3)
      assert.ok(Math.abs(g1 - 10 / 11) < 1e-14 && Math.abs(g3 - 30 / 13) < 1e-14)
      const score = tally.score(full)
      assert.ok(Math.abs(score.accuracy - (1 + g1) / (2 + g1)) < 1e-15)
      assert.ok(Math.abs(score.uptime - 1 / (1 + g3)) < 1e-15)
      assert.equal(score.composite, score.accuracy * score.accuracy * score.uptime)
      assert.equal(score.confidence, 1 - 1 / 3)
      assert.equal(score.observers, 2)
    })

    it('ignores self-observations', () => {
      const tally = new ObservationTally(SUBJECT)
      assert.equal(tally.add(SUBJECT, 'task_verified', 1000), false)
      assert.equal(tally.add(SUBJECT, 'heartbeat_seen'), false)
      assert.deepEqual(tally.score(full), new ObservationTally(SUBJECT).score(full))
      assert.deepEqual(tally.observerIds(), [])
      assert.equal(tally.add('other', 'task_verified'), true)
    })

    it('lets one spamming observer raise a score no further than three independent observers with ten observations each', () => {
      const threeHonest = independent(3, 10).score(full)
      check(fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(...positiveAccuracy), fc.nat({ max: 1e9 }), (n, kind, heartbeats) => {
        const spam = new ObservationTally(SUBJECT)
        spam.add('spammer', kind, n)
        if (heartbeats > 0) spam.add('spammer', 'heartbeat_seen', heartbeats)
        const score = spam.score(full)
        return score.accuracy < threeHonest.accuracy && score.composite < threeHonest.composite &&
          score.accuracy <= 11 / 12 && reputationTier(score.composite) !== 'Trusted' && score.confidence === 0.5
      }))
      // Spam split into many small adds is the same spam.
      const many = new ObservationTally(SUBJECT)
      for (let i = 0; i < 1000; i++) many.add('spammer', 'spot_pass')
      assert.deepEqual(many.score(full), independent(1, 1000, 'spot_pass').score(full))
    })

    it('needs several independent observers for the high tiers', () => {
      assert.notEqual(reputationTier(independent(1, 1e6).score(full).composite), 'Trusted')
      assert.equal(reputationTier(independent(2, 1e6).score(full).composite), 'Trusted')
      assert.notEqual(reputationTier(independent(3, 1e6).score(full).composite), 'Elite')
      assert.equal(reputationTier(independent(4, 1e6).score(full).composite), 'Elite')
    })

    it('gives confidence 1 − 1/(1 + k) for k observers of full standing', () => {
      for (const k of [1, 2, 3, 10]) assert.equal(independent(k, 1, 'heartbeat_seen').score(full).confidence, 1 - 1 / (1 + k))
      const half = independent(2, 1).score(() => 0.5)
      assert.equal(half.confidence, 0.5)
    })

    it('weighs observers by standing: standing 0 changes nothing but the observer count', () => {
      const tally = new ObservationTally(SUBJECT)
      tally.add('sybil-1', 'task_verified', 500)
      tally.add('sybil-2', 'audit_pass', 500)
      tally.add('trusted', 'task_mismatch', 2)
      const standings = new Map([['trusted', 1]])
      const score = tally.score(id => standings.get(id) ?? 0)
      const alone = new ObservationTally(SUBJECT)
      alone.add('trusted', 'task_mismatch', 2)
      const expected = alone.score(full)
      assert.equal(score.accuracy, expected.accuracy)
      assert.equal(score.confidence, expected.confidence)
      assert.equal(score.observers, 3)
    })

    it('never lowers accuracy for a pass, nor raises it for a failure', () => {
      const op = fc.record({ observer: fc.constantFrom('a', 'b', 'c'), kind: fc.constantFrom(...OBSERVATION_KINDS), count: fc.integer({ min: 1, max: 1000 }) })
      check(fc.property(fc.array(op, { maxLength: 20 }), fc.constantFrom('a', 'b', 'd'), fc.constantFrom(...ACCURACY_KINDS), (ops, observer, kind) => {
        const tally = new ObservationTally(SUBJECT)
        for (const o of ops) tally.add(o.observer, o.kind, o.count)
        const before = tally.score(full).accuracy
        tally.add(observer, kind)
        const after = tally.score(full).accuracy
        return OBSERVATION_EFFECT[kind].positive ? after >= before : after <= before
      }))
    })

    it('does not depend on the order observations arrive in', () => {
      const ids = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6']
      const op = fc.record({ observer: fc.constantFrom(...ids, SUBJECT), kind: fc.constantFrom(...OBSERVATION_KINDS), count: fc.integer({ min: 1, max: 1e6 }) })
      const standings = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: ids.length, maxLength: ids.length })
      const opsAndShuffle = fc.array(op, { maxLength: 40 }).chain(ops => fc.tuple(fc.constant(ops), fc.shuffledSubarray(ops, { minLength: ops.length })))
      check(fc.property(opsAndShuffle, standings, ([ops, shuffled], weights) => {
        const weightOf = (id: string): number => weights[ids.indexOf(id)] ?? 0
        const a = new ObservationTally(SUBJECT)
        const b = new ObservationTally(SUBJECT)
        for (const o of ops) a.add(o.observer, o.kind, o.count)
        for (const o of shuffled) b.add(o.observer, o.kind, o.count)
        assert.deepEqual(b.score(weightOf), a.score(weightOf))
        assert.deepEqual(b.observerIds(), a.observerIds())
      }), 300)
    })

    it('keeps every output in range', () => {
      const op = fc.record({ observer: fc.string({ minLength: 1, maxLength: 3 }), kind: fc.constantFrom(...OBSERVATION_KINDS), count: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) })
      check(fc.property(fc.array(op, { maxLength: 30 }), fc.double({ min: 0, max: 1, noNaN: true }), (ops, w) => {
        const tally = new ObservationTally(SUBJECT)
        for (const o of ops) tally.add(o.observer, o.kind, o.count)
        const s = tally.score(() => w)
        return [s.accuracy, s.uptime, s.composite].every(x => x > 0 && x <= 1) && s.confidence >= 0 && s.confidence < 1
      }))
    })

    it('rejects bad input with typed errors and leaves the tally unchanged', () => {
      const tally = new ObservationTally(SUBJECT)
      tally.add('a', 'spot_pass', 2)
      const before = tally.score(full)
      assert.throws(() => tally.add('a', 'rumour' as ObservationKind), bad('ERR_UNKNOWN_OBSERVATION_KIND'))
      assert.throws(() => tally.add('a', 'toString' as ObservationKind), bad('ERR_UNKNOWN_OBSERVATION_KIND'))
      for (const count of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 53]) assert.throws(() => tally.add('a', 'spot_pass', count), bad('ERR_BAD_OBSERVATION_COUNT'), String(count))
      assert.throws(() => tally.add('', 'spot_pass'), bad('ERR_BAD_OBSERVER_ID'))
      assert.throws(() => tally.add(7 as unknown as string, 'spot_pass'), bad('ERR_BAD_OBSERVER_ID'))
      assert.throws(() => new ObservationTally(''), bad('ERR_BAD_OBSERVER_ID'))
      for (const w of [1.5, -0.1, Number.NaN]) assert.throws(() => tally.score(() => w), bad('ERR_BAD_OBSERVER_WEIGHT'))
      assert.deepEqual(tally.score(full), before)
      assert.equal(tally.count('a', 'spot_pass'), 2)
      assert.equal(tally.subject, SUBJECT)
    })
  })
})
