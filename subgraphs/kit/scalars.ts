import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { checkIdNumber, checkUscc, type CodeProblem } from '../../common/codes.ts';

function codeScalar(name: string, description: string, check: (v: string) => CodeProblem | null): GraphQLScalarType<string, string> {
  const parse = (value: unknown): string => {
    if (typeof value !== 'string') throw new GraphQLError(`${name} must be a string`, { extensions: { code: 'BAD_USER_INPUT' } });
    const v = value.toUpperCase();
    const problem = check(v);
    if (problem !== null) {
      throw new GraphQLError(`"${value}" is not a valid ${name}: wrong ${problem}`, { extensions: { code: 'BAD_USER_INPUT' } });
    }
    return v;
  };
  return new GraphQLScalarType<string, string>({
    name,
    description,
    // Answers carry the key in the same one spelling (upper case) that arguments are read in.
    serialize: (v) => String(v).toUpperCase(),
    parseValue: parse,
    parseLiteral: (ast: ValueNode) => {
      if (ast.kind !== Kind.STRING) throw new GraphQLError(`${name} must be a string`, { extensions: { code: 'BAD_USER_INPUT' } });
      return parse(ast.value);
    },
  });
}

export const USCCScalar = codeScalar('USCC', 'Unified social credit code (GB 32100-2015)', checkUscc);
export const IDNumberScalar = codeScalar('IDNumber', 'Resident identity number (GB 11643-1999)', checkIdNumber);
