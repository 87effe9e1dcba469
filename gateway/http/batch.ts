import { refusalMediaType } from './media-type.ts';

/** The most operations a refused batch is answered for, one error each. */
const MAX_ANSWERED = 100;

export const BATCH_REFUSAL =
  'Batched requests are refused: this exchange answers one operation per HTTP request, so that each is rate-limited, decided and audited on its own (operation batching is off in the gateway). Turn batching off in the client: in Apollo Client use HttpLink, not BatchHttpLink.';

/** A JSON body that is an array: several operations in one request (Apollo BatchHttpLink). */
export function isBatch(contentType: string | undefined, body: string): boolean {
  return (contentType ?? '').includes('json') && body.trimStart().startsWith('[');
}

/**
 * The refusal of a batch, shaped as a batch answer (one result per operation), so that a batching
 * client hands each operation the message instead of failing on the answer's shape.
 */
export function batchRefusal(body: string, requestId: string, accept: string | undefined): { status: number; contentType: string; text: string } {
  let count = 1;
  try {
    const parsed: unknown = JSON.parse(body);
    if (Array.isArray(parsed)) count = Math.min(Math.max(parsed.length, 1), MAX_ANSWERED);
  } catch {
    // An unreadable batch still gets one answer.
  }
  const one = { errors: [{ message: BATCH_REFUSAL, extensions: { code: 'BAD_REQUEST', requestId } }] };
  return { status: 400, contentType: refusalMediaType(accept), text: JSON.stringify(Array.from({ length: count }, () => one)) };
}
