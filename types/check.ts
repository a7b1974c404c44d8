// Compile-only: a consumer's view of the exports must type-check.
import type { CallResult } from '../server/dispatch';
import type { QueueStatus } from '../server/doors/exports';
import type { CallAnswer } from '../server/request';

export function consumerExample(): void {
  const answer = exports['sonoran-911'].createDispatchCall(
    { title: 'Alarm', coords: [1, 2, 3], metaData: { vault: 2 } },
    (result) => {
      if (result.ok) console.log(result.callId);
    },
  );
  if (!answer.ok) console.log(answer.error);
  const queue: Sonoran911QueueStatus = exports['sonoran-911'].getQueueStatus();
  console.log(queue.queued);
}

// The declaration is written by hand for consumers; these fail to compile if it drifts
// from what the exports really answer.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const statusMatches: Same<QueueStatus, Sonoran911QueueStatus> = true;
export const answerMatches: Same<CallAnswer, Sonoran911Answer> = true;
export const resultMatches: Same<CallResult, Sonoran911Result> = true;
