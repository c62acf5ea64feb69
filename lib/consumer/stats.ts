/** Outcome counters of every batch this process handled: for metrics and for tests. */
export interface ConsumerStats {
  batches: number;
  processed: number;
  failed: number;
  retried: number;
  deadLettered: number;
  duplicates: number;
}

const totals: ConsumerStats = {
  batches: 0,
  processed: 0,
  failed: 0,
  retried: 0,
  deadLettered: 0,
  duplicates: 0,
};

export function countOutcomes(report: Omit<ConsumerStats, 'batches'>): void {
  totals.batches++;
  totals.processed += report.processed;
  totals.failed += report.failed;
  totals.retried += report.retried;
  totals.deadLettered += report.deadLettered;
  totals.duplicates += report.duplicates;
}

/** A copy of the counters since the process started. */
export function consumerStats(): ConsumerStats {
  return { ...totals };
}
