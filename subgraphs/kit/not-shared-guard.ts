import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
import { providerOf, readDeclarations } from '../../common/declarations.ts';
import type { SubgraphContext } from './context.ts';

/** NOT_SHARED coordinates of one subgraph's SDL and the agency that provides each. */
export function notSharedCoordinates(typeDefs: DocumentNode, source: string): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const d of readDeclarations(typeDefs, source).declarations) if (d.class === 'NOT_SHARED') out.set(d.coordinate, providerOf(d.dataset));
  return out;
}

/** The NOT_SHARED coordinates a document selects anywhere (fragments and `_entities` included), with their providers. */
function notSharedIn(schema: GraphQLSchema, document: DocumentNode, guarded: ReadonlyMap<string, string>): ReadonlyMap<string, string> {
  const found = new Map<string, string>();
  const info = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(info, {
      Field() {
        const parent = info.getParentType();
        const field = info.getFieldDef();
        if (parent === null || parent === undefined || field === null || field === undefined) return;
        const coordinate = `${parent.name}.${field.name}`;
        const provider = guarded.get(coordinate);
        if (provider !== undefined) found.set(coordinate, provider);
      },
    }),
  );
  return found;
}

/**
 * The subgraph's own NOT_SHARED rule, independent of the gateway: an operation selecting a
 * NOT_SHARED field is refused unless the signed identity's agency provides that dataset. The
 * gateway removes such fields before planning, so only a request that bypassed it (a replayed
 * identity, a misrouted call) ever meets this check. Skip/include directives are not evaluated:
 * a selection that could read the field is refused whatever the variables say.
 */
export function notSharedGuard(schema: GraphQLSchema, guarded: ReadonlyMap<string, string>): ApolloServerPlugin<SubgraphContext> {
  // Apollo keeps parsed documents in its own cache, so each distinct operation is walked once.
  const seen = new WeakMap<DocumentNode, ReadonlyMap<string, string>>();
  return {
    async requestDidStart() {
      if (guarded.size === 0) return undefined;
      return {
        async didResolveOperation({ document, contextValue }) {
          let found = seen.get(document);
          if (found === undefined) {
            found = notSharedIn(schema, document, guarded);
            seen.set(document, found);
          }
          const refused = [...found].filter(([, provider]) => provider !== contextValue.caller.agency).map(([coordinate]) => coordinate);
          if (refused.length === 0) return;
          throw new GraphQLError(`${refused.join(', ')} ${refused.length === 1 ? 'is' : 'are'} NOT_SHARED: only the providing agency may read ${refused.length === 1 ? 'it' : 'them'}, not ${contextValue.caller.agency}.`, {
            extensions: { code: 'FORBIDDEN', reason: 'NOT_SHARED', coordinates: refused, http: { status: 403 } },
          });
        },
      };
    },
  };
}
