const encoder = new TextEncoder();

/**
 * A response body fed by a generator of text pieces, produced only as the client reads: a
 * reader who stops reading stops the job's event stream behind it (which the object bounds),
 * and one who goes away runs `cancel` so the object can free its stream at once.
 */
export function textStream(
  pieces: AsyncGenerator<string>,
  stop: () => Promise<void>,
  /** Keeps the request alive for the clean-up after its client has gone (`ExecutionContext.waitUntil`). */
  waitUntil: (work: Promise<unknown>) => void,
): ReadableStream<Uint8Array> {
  const cancel = (): Promise<void> => {
    const done = stop();
    waitUntil(done);
    return done;
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await pieces.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(next.value));
        } catch (err) {
          controller.error(err);
          await cancel();
        }
      },
      async cancel() {
        await cancel();
        await pieces.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
