// Compile-only: a consumer's view of the exports must type-check.
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
