import type { ApolloServerPlugin, HTTPGraphQLResponse } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';

function withId(e: GraphQLFormattedError, requestId: string): GraphQLFormattedError {
  return { ...e, extensions: { ...e.extensions, requestId } };
}

/** Puts the request id into every error of every GraphQL answer (docs/errors.md). */
export function requestIdInErrors<C extends { readonly requestId: string }>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          const errors = response.body.singleResult.errors;
          if (errors !== undefined) response.body.singleResult.errors = errors.map((e) => withId(e, contextValue.requestId));
        },
      };
    },
  };
}

/**
 * The same for the errors Apollo answers before a request reaches its plugins (an unreadable body,
 * a blocked CSRF attempt, a missing query): those are small 4xx bodies, rewritten only if the id is
 * not there yet.
 */
export function withRequestIdInBody(response: HTTPGraphQLResponse, requestId: string): HTTPGraphQLResponse {
  if ((response.status ?? 200) < 400 || response.body.kind !== 'complete' || response.body.string.includes('"requestId"')) return response;
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body.string);
  } catch {
    return response;
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { errors?: unknown }).errors)) return response;
  const body = parsed as { errors: GraphQLFormattedError[] };
  const text = JSON.stringify({ ...body, errors: body.errors.map((e) => withId(e, requestId)) });
  return { ...response, body: { kind: 'complete', string: text } };
}
