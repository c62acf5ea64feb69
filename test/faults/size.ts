/**
 * How big the fault suite runs: `quick` (the default, part of `npm test`, well under a minute on two
 * cores) or `full` (`npm run test:faults`, a few minutes). Chosen with env FAULT_SUITE_SIZE.
 */
export type FaultSuiteSize = 'quick' | 'full';

export interface SizeProfile {
  size: FaultSuiteSize;
  /** Scenario 1: mixed sync/async sends, and oneway ones on top (one per ten). */
  killRunSends: number;
  /** Scenario 1: where in the run the broker is killed (fraction of the sends issued) and for how long. */
  kills: { at: number; downMs: number }[];
  /** Scenario 2: calls against the slow broker. */
  slowCalls: number;
  /** Scenario 3: sends while the connection is frozen, and after the reset. */
  frozenSends: number;
  /** Scenario 6: writer processes killed mid-spool. */
  spoolRounds: number;
  /** Vitest timeout of the longest scenario. */
  longTestTimeoutMs: number;
}

const PROFILES: Record<FaultSuiteSize, SizeProfile> = {
  quick: {
    size: 'quick',
    killRunSends: 1000,
    kills: [{ at: 0.4, downMs: 300 }],
    slowCalls: 40,
    frozenSends: 10,
    spoolRounds: 4,
    longTestTimeoutMs: 60_000,
  },
  full: {
    size: 'full',
    killRunSends: 10_000,
    // A short outage, one near the send timeout and one well past it.
    kills: [
      { at: 0.25, downMs: 300 },
      { at: 0.5, downMs: 2500 },
      { at: 0.75, downMs: 5000 },
    ],
    slowCalls: 400,
    frozenSends: 50,
    spoolRounds: 12,
    longTestTimeoutMs: 300_000,
  },
};

export function faultSuiteSize(env: NodeJS.ProcessEnv = process.env): SizeProfile {
  const size = env.FAULT_SUITE_SIZE?.trim() || 'quick';
  if (size !== 'quick' && size !== 'full') {
    throw new Error(`FAULT_SUITE_SIZE must be quick or full, got "${size}"`);
  }
  return PROFILES[size];
}
