import { createRequire } from 'node:module';
import type * as ExpressionEval from '@casbin/expression-eval';

// The parser Casbin's evaluator uses (CommonJS, whose exports Node cannot name from ESM), so a
// matcher is read by the same grammar, including operators Casbin adds to it.
const { parse } = createRequire(import.meta.url)('@casbin/expression-eval') as typeof ExpressionEval;

/** A matcher expression, compiled: true/false (or any value Casbin reads as an effect) for one policy line. */
export type CompiledMatcher = (context: Record<string, unknown>) => unknown;

type Node = ReturnType<typeof parse>;

const BINARY: Readonly<Record<string, (a: never, b: never) => unknown>> = {
  '==': (a, b) => a == b,
  '!=': (a, b) => a != b,
  '===': (a, b) => a === b,
  '!==': (a, b) => a !== b,
  '<': (a, b) => a < b,
  '>': (a, b) => a > b,
  '<=': (a, b) => a <= b,
  '>=': (a, b) => a >= b,
  '+': (a: number, b: number) => a + b,
  '-': (a: number, b: number) => a - b,
  '*': (a: number, b: number) => a * b,
  '/': (a: number, b: number) => a / b,
  '%': (a: number, b: number) => a % b,
};

const UNARY: Readonly<Record<string, (a: never) => unknown>> = {
  '!': (a) => !a,
  '-': (a: number) => -a,
  '+': (a: number) => +a,
};

/** The member names Casbin's evaluator refuses to read (prototype pollution). */
const FORBIDDEN_MEMBER = /^__proto__|prototype|constructor$/;

/**
 * Compiles a Casbin matcher into a tree of closures, once, instead of walking its syntax tree on
 * every policy line of every decision as Casbin's own evaluator (@casbin/expression-eval) does.
 * The same parser reads it and every construct means what it means there: `&&` and `||`
 * short-circuit and yield an operand, `==` is JavaScript's loose equality, `a.f(x)` calls f with
 * `this` = a and yields undefined when f is not a function, a name absent from the context is
 * undefined. Returns null for any construct outside that set (`in`, computed members, arrays …):
 * the caller then keeps Casbin's evaluator, so a matcher is never read differently, only faster.
 */
export function compileMatcher(expression: string): CompiledMatcher | null {
  // Casbin rewrites `x in (a, b)` to an array before parsing; such a matcher stays with Casbin.
  if (expression.includes(' in ') && expression.includes(' (')) return null;
  let root: Node;
  try {
    root = parse(expression);
  } catch {
    return null;
  }
  return compile(root);
}

function compile(node: Node): CompiledMatcher | null {
  const n = node as Node & Record<string, unknown>;
  switch (node.type) {
    case 'Literal': {
      const value = n.value;
      return () => value;
    }
    case 'Identifier': {
      const name = n.name as string;
      return (ctx) => ctx[name];
    }
    case 'MemberExpression': {
      const member = compileMember(n);
      return member === null ? null : (ctx) => member(ctx)[1];
    }
    case 'CallExpression': {
      const callee = n.callee as Node;
      const args = (n.arguments as Node[]).map(compile);
      if (args.some((a) => a === null)) return null;
      const argFns = args as CompiledMatcher[];
      if (callee.type === 'MemberExpression') {
        const member = compileMember(callee as Node & Record<string, unknown>);
        if (member === null) return null;
        return (ctx) => {
          const [self, fn] = member(ctx);
          if (typeof fn !== 'function') return undefined;
          return (fn as (...a: unknown[]) => unknown).apply(self, argFns.map((a) => a(ctx)));
        };
      }
      const fnOf = compile(callee);
      if (fnOf === null) return null;
      return (ctx) => {
        const fn = fnOf(ctx);
        if (typeof fn !== 'function') return undefined;
        return (fn as (...a: unknown[]) => unknown)(...argFns.map((a) => a(ctx)));
      };
    }
    case 'LogicalExpression': {
      const left = compile(n.left as Node);
      const right = compile(n.right as Node);
      if (left === null || right === null) return null;
      if (n.operator === '||') return (ctx) => left(ctx) || right(ctx);
      if (n.operator === '&&') return (ctx) => left(ctx) && right(ctx);
      return null;
    }
    case 'BinaryExpression': {
      const op = BINARY[n.operator as string];
      const left = compile(n.left as Node);
      const right = compile(n.right as Node);
      if (op === undefined || left === null || right === null) return null;
      return (ctx) => op(left(ctx) as never, right(ctx) as never);
    }
    case 'UnaryExpression': {
      const op = UNARY[n.operator as string];
      const arg = compile(n.argument as Node);
      if (op === undefined || arg === null) return null;
      return (ctx) => op(arg(ctx) as never);
    }
    case 'ConditionalExpression': {
      const test = compile(n.test as Node);
      const yes = compile(n.consequent as Node);
      const no = compile(n.alternate as Node);
      if (test === null || yes === null || no === null) return null;
      return (ctx) => (test(ctx) ? yes(ctx) : no(ctx));
    }
    case 'ArrayExpression':
    case 'Compound':
    case 'ThisExpression':
      return null;
  }
}

/** `object.name`: the object and the member's value (the `this` and the function of a call). */
function compileMember(n: Node & Record<string, unknown>): ((ctx: Record<string, unknown>) => [unknown, unknown]) | null {
  const property = n.property as Node & Record<string, unknown>;
  if (n.computed === true || property.type !== 'Identifier') return null;
  const name = property.name as string;
  if (FORBIDDEN_MEMBER.test(name)) return null;
  const object = compile(n.object as Node);
  if (object === null) return null;
  return (ctx) => {
    const self = object(ctx) as Record<string, unknown>;
    return [self, self[name]];
  };
}
