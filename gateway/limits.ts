import { Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

/** Bounds on an operation's shape, enforced before planning (docs/contract.md, Errors and limits). */
export interface OperationLimits {
  readonly maxDepth: number;
  readonly maxFieldsPerSelection: number;
  readonly maxAliases: number;
}

export const DEFAULT_LIMITS: OperationLimits = Object.freeze({ maxDepth: 12, maxFieldsPerSelection: 200, maxAliases: 30 });

/** The first limit the operation exceeds, as a message naming it, or null. */
export function checkLimits(doc: DocumentNode, op: OperationDefinitionNode, limits: OperationLimits): string | null {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  let aliases = 0;
  let problem: string | null = null;

  // Fragments are expanded where they are spread; `visiting` stops a fragment cycle (which
  // validation rejects anyway) from recursing forever.
  const walk = (set: SelectionSetNode, depth: number, visiting: Set<string>): number => {
    if (problem !== null) return 0;
    if (depth > limits.maxDepth) {
      problem = `query depth exceeds the limit of ${limits.maxDepth}`;
      return 0;
    }
    let fields = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        fields++;
        if (sel.alias !== undefined) aliases++;
        if (sel.selectionSet !== undefined) walk(sel.selectionSet, depth + 1, visiting);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        fields += walk(sel.selectionSet, depth, visiting);
      } else {
        const name = sel.name.value;
        const frag = fragments.get(name);
        if (frag === undefined || visiting.has(name)) continue;
        visiting.add(name);
        fields += walk(frag.selectionSet, depth, visiting);
        visiting.delete(name);
      }
    }
    if (problem === null && fields > limits.maxFieldsPerSelection) {
      problem = `a selection set selects ${fields} fields, over the limit of ${limits.maxFieldsPerSelection}`;
    }
    if (problem === null && aliases > limits.maxAliases) problem = `the query uses more than ${limits.maxAliases} aliases`;
    return fields;
  };
  walk(op.selectionSet, 1, new Set());
  return problem;
}
