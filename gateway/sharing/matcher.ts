import { createRequire } from 'node:module';
import type * as ExpressionEval from '@casbin/expression-eval';

// The parser Casbin's evaluator uses (CommonJS, whose exports Node cannot name from ESM), so a
// matcher is read by the same grammar, including operators Casbin adds to it.
const { parse } = createRequire(import.meta.url)('@casbin/expression-eval') as typeof ExpressionEval;

/** A matcher expression, compiled: true/false (or any value Casbin reads as an effect) for one policy line. */
export type CompiledMatcher = (context: Record<string, unknown>) => unknown;

type Node = ReturnType<typeof parse>;

/** Operators that mean in JavaScript what they mean in Casbin's evaluator, which applies them as JavaScript does. */
const BINARY: ReadonlySet<string> = new Set(['==', '!=', '===', '!==', '<', '>', '<=', '>=', '+', '-', '*', '/', '%']);
const UNARY: ReadonlySet<string> = new Set(['!', '-', '+']);

/** The member names Casbin's evaluator refuses to read (prototype pollution). */
const FORBIDDEN_MEMBER = /^__proto__|prototype|constructor$/;

/**
 * Compiles a Casbin matcher into one JavaScript function, once, instead of walking its syntax tree
 * on every policy line of every decision as Casbin's own evaluator (@casbin/expression-eval) does.
 * The same parser reads it and every construct means what it means there: `&&` and `||`
 * short-circuit and yield an operand, `==` is JavaScript's loose equality, `a.f(x)` calls f with
 * `this` = a and yields undefined when f is not a function, a name absent from the context is
 * undefined. The code is generated from the syntax tree alone: names and literals enter it only
 * as JSON string literals, so nothing in a policy file can become code. Returns null for any
 * construct outside that set (`in`, computed members, arrays …): the caller then keeps Casbin's
 * evaluator, so a matcher is never read differently, only faster.
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
  const temps: string[] = [];
  const code = generate(root, temps);
  if (code === null) return null;
  const declare = temps.length === 0 ? '' : `let ${temps.join(', ')};\n`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- code generated from the parsed matcher only (see above)
  return new Function('ctx', `'use strict';\n${declare}return ${code};`) as CompiledMatcher;
}

/** JavaScript for one node, or null when the node is outside what compiles. */
function generate(node: Node, temps: string[]): string | null {
  const n = node as Node & Record<string, unknown>;
  switch (node.type) {
    case 'Literal': {
      const value = n.value;
      return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? JSON.stringify(value) : null;
    }
    case 'Identifier':
      return `ctx[${JSON.stringify(n.name)}]`;
    case 'MemberExpression': {
      const member = memberParts(n, temps);
      return member === null ? null : `(${member.object})[${member.name}]`;
    }
    case 'CallExpression': {
      const args = (n.arguments as Node[]).map((a) => generate(a, temps));
      if (args.some((a) => a === null)) return null;
      const list = args.join(', ');
      const t = `t${temps.length}`;
      temps.push(t);
      const callee = n.callee as Node & Record<string, unknown>;
      if (callee.type === 'MemberExpression') {
        const member = memberParts(callee, temps);
        if (member === null) return null;
        return `(${t} = ${member.object}, typeof ${t}[${member.name}] === 'function' ? ${t}[${member.name}](${list}) : undefined)`;
      }
      const fn = generate(callee, temps);
      if (fn === null) return null;
      return `(${t} = ${fn}, typeof ${t} === 'function' ? ${t}(${list}) : undefined)`;
    }
    case 'LogicalExpression':
    case 'BinaryExpression': {
      const op = n.operator as string;
      if (node.type === 'LogicalExpression' ? op !== '&&' && op !== '||' : !BINARY.has(op)) return null;
      const left = generate(n.left as Node, temps);
      const right = generate(n.right as Node, temps);
      return left === null || right === null ? null : `(${left} ${op} ${right})`;
    }
    case 'UnaryExpression': {
      const op = n.operator as string;
      const arg = generate(n.argument as Node, temps);
      return !UNARY.has(op) || arg === null ? null : `(${op}${arg})`;
    }
    case 'ConditionalExpression': {
      const test = generate(n.test as Node, temps);
      const yes = generate(n.consequent as Node, temps);
      const no = generate(n.alternate as Node, temps);
      return test === null || yes === null || no === null ? null : `(${test} ? ${yes} : ${no})`;
    }
    case 'ArrayExpression':
    case 'Compound':
    case 'ThisExpression':
      return null;
  }
}

/** `object.name`: the object's code and the member's name as a string literal. */
function memberParts(n: Node & Record<string, unknown>, temps: string[]): { object: string; name: string } | null {
  const property = n.property as Node & Record<string, unknown>;
  if (n.computed === true || property.type !== 'Identifier') return null;
  const name = property.name as string;
  if (FORBIDDEN_MEMBER.test(name)) return null;
  const object = generate(n.object as Node, temps);
  return object === null ? null : { object, name: JSON.stringify(name) };
}
