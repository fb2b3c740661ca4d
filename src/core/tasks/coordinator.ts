/**
 * The submitter's side of one task, as a pure state machine. The runtime feeds it verified
 * messages and the time, and carries out the actions it returns (send, observe, run the referee,
 * settle); it never does I/O itself, so every path can be driven deterministically in tests.
 *
 *   claiming ──(enough claims, or the claim window ends)──▶ running
 *   running  ──(the wanted commits are in, or commitBy)───▶ revealing
 *   revealing ─(all committed workers revealed, or revealBy)▶ decide
 *   decide: known answer (spot-check) → judge against it
 *           unanimous → accept (if enough agree)
 *           disagreement → referee (the submitter re-executes) → judge against its own result
 *   → settle, or fail (escrow released in full)
 *
 * A worker that has not committed `execTimeoutMs` after its assignment missed its phase: it gets a
 * Downtime observation and, while the commit phase still leaves time for a run, a replacement is
 * drawn from the other claimants.
 *
 * Why a referee and not a plain majority: colluding liars that share a wrong answer win a
 * majority vote with probability 3f²−2f³ at N = 3, and a majority-based slash would then punish the
 * honest minority. The submitter holds the payload and the kernel, so on a disagreement (rare
 * among honest workers) it re-executes and judges everyone against its own answer: nobody honest
 * is ever slashed, and a wrong answer is accepted only when every replica is the same liar's.
 */
import { equalBytes } from '../bytes.ts'
import { opens, selectWorkers } from './assignment.ts'
import type { Candidate } from './assignment.ts'
import { phases } from './envelope.ts'
import type { TaskEnvelope, TaskPhases } from './envelope.ts'
import { judge, tally } from './verification.ts'
import type { RevealedResult } from './verification.ts'

/** How the coordinator runs one task. */
export interface CoordinatorOptions {
  readonly networkId: string
  /** The comparator of the task type's kernel. */
  readonly agree: (a: Uint8Array, b: Uint8Array) => boolean
  /** The 32-byte seed committed to in the envelope. */
  readonly seed: Uint8Array
  /** Claims collected before drawing workers at the latest (ms after creation). */
  readonly claimWindowMs: number
  /**
   * Once `redundancy` workers have claimed, wait at most this long for one more before drawing
   * (default min(10, claimWindowMs)). A spare claim makes the draw a choice, so the fastest
   * claimers cannot take every task; waiting the whole window for it made every task as slow as
   * the window whenever the workers' claim rates had adapted down to what tasks need.
   */
  readonly claimGraceMs?: number
  /** How long an assigned worker has to commit before it counts as missed. */
  readonly execTimeoutMs: number
  /** Announce again after this long without the claims the task needs (default 4 × claimWindowMs, at least 100). */
  readonly reannounceMs?: number
  /** Replicas for a task whose first drawn worker is `first` (adaptive replication). */
  readonly replicasFor: (first: Uint8Array) => number
  /** The answer, when the submitter knows it (a spot-check). Never sent anywhere. */
  readonly known?: Uint8Array
  /** Re-execute on disagreement (default true). Without it a majority decides and nobody is slashed. */
  readonly referee?: boolean
}

/** A revealed result with the worker's signature over its digest (slash evidence). */
export interface Reveal extends RevealedResult { readonly nonce: Uint8Array, readonly resultSig: Uint8Array }

/** What a finished task came to. */
export interface Outcome {
  readonly result: Uint8Array | null
  /** Workers paid: their results agree with the accepted one. */
  readonly agreeing: Uint8Array[]
  /** Workers whose revealed result was wrong, with their signed reveal (slash evidence when `proven`). */
  readonly outliers: Reveal[]
  /** True when outliers were judged against a known or re-executed answer (then they are slashed). */
  readonly proven: boolean
  /** Workers that committed but never revealed, or revealed something their commitment does not open. */
  readonly invalid: Uint8Array[]
  /** Workers that missed their phase (Downtime). */
  readonly missed: Uint8Array[]
  readonly spotCheck: boolean
  readonly refereed: boolean
}

/** An action for the runtime. */
export type CoordinatorAction =
  | { readonly kind: 'assign', readonly worker: Uint8Array, readonly workers: Uint8Array[], readonly seed: Uint8Array }
  | { readonly kind: 'open', readonly workers: Uint8Array[] }
  | { readonly kind: 'release', readonly workers: Uint8Array[] }
  | { readonly kind: 'reannounce' }
  | { readonly kind: 'missed', readonly worker: Uint8Array }
  | { readonly kind: 'referee' }
  | { readonly kind: 'settle', readonly outcome: Outcome }
  | { readonly kind: 'fail', readonly code: 'ERR_TASK_EXPIRED' | 'ERR_TASK_NOT_VERIFIED', readonly reason: string, readonly outcome: Outcome }

/** Where the task is. */
export type CoordinatorPhase = 'claiming' | 'running' | 'revealing' | 'refereeing' | 'done'

interface Slot {
  readonly worker: Uint8Array
  readonly assignedAt: number
  status: 'running' | 'committed' | 'revealed' | 'missed' | 'invalid'
  commitment?: Uint8Array
  reveal?: Reveal
}

/**
 * @example
 * const c = new TaskCoordinator(env, { networkId, agree, seed, claimWindowMs: 100, execTimeoutMs: 5000, replicasFor: () => 3 })
 * act(c.onClaim(worker, weight, now)); act(c.tick(now))
 */
export class TaskCoordinator {
  readonly envelope: TaskEnvelope
  readonly phases: TaskPhases
  #phase: CoordinatorPhase = 'claiming'
  #want = 0
  #announced: number
  readonly #options: CoordinatorOptions
  readonly #claims: Candidate[] = []
  readonly #slots: Slot[] = []
  /** When the `redundancy`-th claim arrived (the grace for a spare starts), or -1. */
  #enoughAt = -1

  constructor (envelope: TaskEnvelope, options: CoordinatorOptions) {
    this.envelope = envelope
    this.phases = phases(envelope)
    this.#options = options
    this.#announced = envelope.created
  }

  /**
   * The least time a replacement needs before commitBy: a tenth of the commit phase (at most the
   * full exec timeout). A replacement gets the time left, not a whole exec timeout: with the
   * default 35 % timeout, a worker found missing after its timeout could otherwise never be replaced.
   */
  get #minRunMs (): number {
    return Math.min(this.#options.execTimeoutMs, Math.ceil((this.phases.commitBy - this.envelope.created) * 0.1))
  }

  #reannounce (now: number): CoordinatorAction[] {
    const every = this.#options.reannounceMs ?? Math.max(100, 4 * this.#options.claimWindowMs)
    if (now < this.#announced + every || now + this.#minRunMs > this.phases.commitBy) return []
    this.#announced = now
    return [{ kind: 'reannounce' }]
  }

  get phase (): CoordinatorPhase { return this.#phase }
  /** Replicas wanted (0 until workers are drawn). */
  get wanted (): number { return this.#want }
  /** Workers assigned so far, in order. */
  get assigned (): Uint8Array[] { return this.#slots.map(s => s.worker) }

  #slot (worker: Uint8Array): Slot | undefined {
    return this.#slots.find(s => equalBytes(s.worker, worker))
  }

  /** A staked, eligible worker claimed the task (the runtime checked stake and weight). */
  onClaim (worker: Uint8Array, weight: number, now: number): CoordinatorAction[] {
    if (this.#slot(worker) !== undefined || this.#claims.some(c => equalBytes(c.worker, worker))) return []
    // Too late to be drawn: let the worker go at once rather than hold its slot.
    if (this.#phase !== 'claiming' && this.#phase !== 'running') return [{ kind: 'release', workers: [worker] }]
    this.#claims.push({ worker, weight })
    if (this.#phase === 'claiming') {
      if (this.#claims.length >= this.envelope.redundancy + 1) return this.#draw(now)
      if (this.#claims.length >= this.envelope.redundancy && this.#enoughAt === -1) this.#enoughAt = now
      return []
    }
    const out = this.#refill(now)
    if (this.#claims.some(c => equalBytes(c.worker, worker))) {
      // Not needed now: let the worker go at once rather than hold its slot.
      this.#claims.splice(this.#claims.findIndex(c => equalBytes(c.worker, worker)), 1)
      out.push({ kind: 'release', workers: [worker] })
    }
    return out
  }

  /**
   * The transport lost a worker (its connection closed): a running assignment of it counts as
   * missed now, not at its exec timeout, and is replaced while a run still fits. A worker that
   * was only briefly disconnected loses the assignment (its late commit is ignored); a committed
   * one keeps its slot (its reveal may still come).
   */
  onWorkerDown (worker: Uint8Array, now: number): CoordinatorAction[] {
    const slot = this.#slot(worker)
    const claim = this.#claims.findIndex(c => equalBytes(c.worker, worker))
    if (claim !== -1) this.#claims.splice(claim, 1)
    if (this.#phase !== 'running' || slot === undefined || slot.status !== 'running') return []
    slot.status = 'missed'
    const out: CoordinatorAction[] = [{ kind: 'missed', worker }]
    const refilled = this.#refill(now)
    out.push(...refilled)
    if (refilled.length === 0) {
      this.#announced = -Infinity
      out.push(...this.#reannounce(now))
    }
    return out
  }

  /** An assigned worker committed. Late, repeated or unassigned commits are ignored. */
  onCommit (worker: Uint8Array, commitment: Uint8Array, now: number): CoordinatorAction[] {
    const slot = this.#slot(worker)
    if (this.#phase !== 'running' || slot === undefined || slot.status !== 'running') return []
    slot.status = 'committed'
    slot.commitment = commitment
    return this.#maybeOpen(now)
  }

  /** A worker revealed. A reveal that does not open its commitment marks the worker invalid. */
  onReveal (reveal: Reveal, now: number): CoordinatorAction[] {
    const slot = this.#slot(reveal.worker)
    if (this.#phase !== 'revealing' || slot === undefined || slot.status !== 'committed') return []
    const ok = opens(this.#options.networkId, this.envelope.id, reveal.worker, slot.commitment as Uint8Array, reveal.result, reveal.nonce)
    slot.status = ok ? 'revealed' : 'invalid'
    if (ok) slot.reveal = reveal
    return this.#slots.some(s => s.status === 'committed') ? [] : this.#decide()
  }

  /** The submitter's own re-execution finished. */
  onReferee (result: Uint8Array, now: number): CoordinatorAction[] {
    if (this.#phase !== 'refereeing') return []
    return this.#finish(judge(this.#reveals(), result, this.#options.agree), { proven: true, refereed: true })
  }

  /** Advance by the clock. Call at least every few tens of ms while the task is open. */
  tick (now: number): CoordinatorAction[] {
    switch (this.#phase) {
      case 'claiming':
        if (now >= this.envelope.created + this.#options.claimWindowMs && this.#claims.length > 0) return this.#draw(now)
        if (this.#enoughAt !== -1 && now >= this.#enoughAt + (this.#options.claimGraceMs ?? Math.min(10, this.#options.claimWindowMs))) return this.#draw(now)
        if (now >= this.phases.commitBy) return this.#fail('ERR_TASK_EXPIRED', 'no worker claimed the task in time')
        return this.#reannounce(now)
      case 'running': {
        const out: CoordinatorAction[] = []
        for (const s of this.#slots) {
          if (s.status === 'running' && (now >= s.assignedAt + this.#options.execTimeoutMs || now >= this.phases.commitBy)) {
            s.status = 'missed'
            out.push({ kind: 'missed', worker: s.worker })
          }
        }
        const active = this.#slots.filter(s => s.status === 'running' || s.status === 'committed').length
        if (active < this.#want) {
          const refilled = this.#refill(now)
          out.push(...refilled)
          // No spare claimant: ask the network again, while a run still fits.
          if (refilled.length === 0) {
            if (out.length > 0) this.#announced = -Infinity // a worker just missed: ask at once
            out.push(...this.#reannounce(now))
          }
        }
        if (now >= this.phases.commitBy) {
          if (!this.#slots.some(s => s.status === 'committed')) return [...out, ...this.#fail('ERR_TASK_EXPIRED', 'no assigned worker committed a result in time')]
          return [...out, ...this.#open()]
        }
        return [...out, ...this.#maybeOpen(now)]
      }
      case 'revealing':
        return now >= this.phases.revealBy ? this.#decide() : []
      case 'refereeing':
        return now >= this.phases.settleBy ? this.#fail('ERR_TASK_EXPIRED', 'the referee did not finish before the deadline') : []
      default:
        return []
    }
  }

  #draw (now: number): CoordinatorAction[] {
    const ranked = selectWorkers(this.#options.seed, this.envelope.id, this.#claims, this.#claims.length)
    const first = ranked[0]
    if (first === undefined) return []
    this.#want = Math.max(1, Math.min(this.envelope.redundancy, this.#options.replicasFor(first)))
    this.#phase = 'running'
    const chosen = ranked.slice(0, this.#want)
    // Claimants not drawn are told at once, so they can claim other work; replacements come from
    // claims that arrive later.
    const released = ranked.slice(this.#want)
    this.#claims.length = 0
    const out = this.#assign(chosen, now)
    return released.length === 0 ? out : [...out, { kind: 'release', workers: released }]
  }

  #assign (workers: Uint8Array[], now: number): CoordinatorAction[] {
    for (const worker of workers) this.#slots.push({ worker, assignedAt: now, status: 'running' })
    const all = this.assigned
    return workers.map(worker => ({ kind: 'assign' as const, worker, workers: all, seed: this.#options.seed }))
  }

  /** Replace missed workers from the other claimants while a run still fits before commitBy. */
  #refill (now: number): CoordinatorAction[] {
    if (this.#phase !== 'running') return []
    const active = this.#slots.filter(s => s.status === 'running' || s.status === 'committed').length
    const need = this.#want - active
    if (need <= 0 || now + this.#minRunMs > this.phases.commitBy) return []
    const picked = selectWorkers(this.#options.seed, this.envelope.id, this.#claims, need, this.assigned)
    if (picked.length === 0) return []
    const taken = new Set(picked)
    for (let i = this.#claims.length - 1; i >= 0; i--) if (taken.has((this.#claims[i] as Candidate).worker)) this.#claims.splice(i, 1)
    return this.#assign(picked, now)
  }

  #maybeOpen (now: number): CoordinatorAction[] {
    const committed = this.#slots.filter(s => s.status === 'committed').length
    return committed >= this.#want || (now >= this.phases.commitBy && committed > 0) ? this.#open() : []
  }

  #open (): CoordinatorAction[] {
    this.#phase = 'revealing'
    // Workers still running are too late: their commits will be ignored.
    for (const s of this.#slots) {
      if (s.status === 'running') s.status = 'missed'
    }
    return [{ kind: 'open', workers: this.#slots.filter(s => s.status === 'committed').map(s => s.worker) }]
  }

  #reveals (): Reveal[] {
    return this.#slots.flatMap(s => s.status === 'revealed' && s.reveal !== undefined ? [s.reveal] : [])
  }

  #decide (): CoordinatorAction[] {
    for (const s of this.#slots) if (s.status === 'committed') s.status = 'invalid' // never revealed
    const reveals = this.#reveals()
    if (this.#options.known !== undefined) {
      return this.#finish(judge(reveals, this.#options.known, this.#options.agree), { proven: true, refereed: false })
    }
    const t = tally(reveals, this.#options.agree)
    const majority = Math.floor(this.#want / 2) + 1
    // A disagreement, or too few results for a majority (workers missed): the referee decides.
    if (this.#options.referee !== false && (t.outliers.length > 0 || (t.result !== null && t.agreeing.length < majority))) {
      this.#phase = 'refereeing'
      return [{ kind: 'referee' }]
    }
    if (t.result === null || t.agreeing.length < majority) {
      return this.#fail('ERR_TASK_NOT_VERIFIED', `${t.agreeing.length} of ${this.#want} wanted results agree; a majority of ${majority} is needed`)
    }
    return this.#finish(t, { proven: false, refereed: false })
  }

  #finish (t: { result: Uint8Array | null, agreeing: Uint8Array[], outliers: Uint8Array[] }, how: { proven: boolean, refereed: boolean }): CoordinatorAction[] {
    const reveals = this.#reveals()
    const outcome: Outcome = {
      result: t.result,
      agreeing: t.agreeing,
      outliers: t.outliers.map(w => reveals.find(r => equalBytes(r.worker, w)) as Reveal),
      proven: how.proven,
      invalid: this.#slots.filter(s => s.status === 'invalid').map(s => s.worker),
      missed: this.#slots.filter(s => s.status === 'missed').map(s => s.worker),
      spotCheck: this.#options.known !== undefined,
      refereed: how.refereed
    }
    this.#phase = 'done'
    if (t.result === null) return [{ kind: 'fail', code: 'ERR_TASK_NOT_VERIFIED', reason: 'no result was revealed', outcome }]
    return [{ kind: 'settle', outcome }]
  }

  #fail (code: 'ERR_TASK_EXPIRED' | 'ERR_TASK_NOT_VERIFIED', reason: string): CoordinatorAction[] {
    const outcome: Outcome = {
      result: null,
      agreeing: [],
      outliers: [],
      proven: false,
      invalid: this.#slots.filter(s => s.status === 'invalid' || s.status === 'committed').map(s => s.worker),
      missed: this.#slots.filter(s => s.status === 'missed' || s.status === 'running').map(s => s.worker),
      spotCheck: this.#options.known !== undefined,
      refereed: false
    }
    this.#phase = 'done'
    return [{ kind: 'fail', code, reason, outcome }]
  }
}
