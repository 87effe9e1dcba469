export const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json';

/**
 * The media type of a refusal the gateway answers itself: the GraphQL-over-HTTP type when the
 * client accepts it (Apollo Client 4 then shows the error's message rather than "Received status
 * code 401"), plain JSON otherwise. A q=0 entry is a refusal of that type.
 */
export function refusalMediaType(accept: string | undefined): string {
  if (accept !== undefined) {
    for (const part of accept.split(',')) {
      const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
      if (type !== GRAPHQL_RESPONSE_JSON) continue;
      const q = params.find((p) => p.startsWith('q='));
      if (q === undefined || Number(q.slice(2)) > 0) return `${GRAPHQL_RESPONSE_JSON}; charset=utf-8`;
    }
  }
  return 'application/json; charset=utf-8';
}
