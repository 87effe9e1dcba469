/**
 * `npm run audit -- query | head` closes the pipe early: that is the reader being done, not an
 * error. Without this, Node reports EPIPE as an unhandled 'error' event with a stack trace.
 */
export function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
}
